"""Per-engine assessment state: the span of events seen, and the hooks that read it.

Ratings are computed from the event log when they are asked for (rating.py);
the state only remembers the first and last event times (so outcomes cover
the periods between), the incidents not resolved (so "serious incidents
still open" at the end of the current period reads no history:
``logindex.open_serious``), the patrols logged per day and node and who took
part in activities each day (so patrol coverage and participation read no
events: ``logindex.patrol_tally``, ``logindex.participants``), the residents
registered now (so the current period's participation and registration
completeness read no registrations: ``logindex.population``) and a cache of
log slices the metrics read.  It answers
explanations (``assessment:<period>:<node>``) and the outcomes a what-if
compares.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from gridcore import hookimpl
from gridcore.events import ActivityRecorded, ResidentMoved, ResidentRegistered
from gridcore.explain import Explanation, Outcome, OutcomeKind

if TYPE_CHECKING:
    from gridcore import Engine
    from gridcore.events import Event

    from .rating import Assessment

NAME = "assessment"
PREFIX = "assessment:"
_INSTANT = timedelta(microseconds=1)
#: The incident events whose effect on "still open" the state follows (``logindex.open_serious``).
_INCIDENT_KINDS = frozenset({"incident_reported", "repeat_report_joined", "incident_resolved", "incident_closed",
                             "incident_reopened"})

#: Days of patrols and participants the state keeps before the latest event's day: a year's
#: assessment asked for well into the next year reads none of the log; an older period
#: reads the log (``logindex._days``), so the state does not grow with the years.
KEPT_DAYS = 500
#: (``_forget_old_days`` steps from the first day kept to the cut a day at a time)
_ONE_DAY = timedelta(days=1)

# What the assessment plugin reports to a what-if comparison.
STARS = OutcomeKind("stars", "Grids that gain or lose stars", "stars")
SUBSIDIES = OutcomeKind("subsidies", "Subsidies that change", "yuan")
SCORES = OutcomeKind("scores", "Assessment scores that change")


def _iso(when: datetime | None) -> str | None:
    return None if when is None else when.isoformat()


class AssessmentState:
    """Per-engine state: the span of events seen (for outcomes) and the hooks that read it."""

    #: the shape of the document ``gridcore_save_state`` gives
    STATE_VERSION = 7  # 2: incidents not resolved; 3: a repeat report that joined one is not one of them;
    # 4: patrols per day and node; 5: participants per day; 6: only the last KEPT_DAYS days of them;
    # 7: the registered residents

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.first: datetime | None = None
        self.last: datetime | None = None
        #: incident id -> (node, severity) of each report not resolved or closed since (a reopening
        #: brings a resolved one back; a repeat report that joined an incident is not one: it counts
        #: through the incident, whose severity becomes the higher), as ``logindex.open_serious`` reads the log
        self.unresolved: dict[str, tuple[str, int]] = {}
        #: the same of those resolved and not closed yet (a reopening can bring them back)
        self.resolved: dict[str, tuple[str, int]] = {}
        #: patrols logged per local day (in the community's time zone) and node where they were logged,
        #: as ``logindex.patrol_tally`` would count them in the log
        self.patrols: dict[date, Counter[str]] = {}
        #: who took part in an activity, per local day, as ``logindex.participants`` would read the log
        #: (a day restored from a checkpoint is the list it saved, made a set when the day gains someone:
        #: restoring does not build 500 days' sets of which a read asks for a month's; a day over is
        #: made the sorted list again when a later day begins, ``_day_over``)
        self.participants: dict[date, set[str] | list[str]] = {}
        #: registered residents now: person -> (node, name), as ``logindex.population`` reads the log
        #: (a registration sets both, a move of someone registered the node)
        self.registered: dict[str, tuple[str, str]] = {}
        #: the first day whose patrols and participants are all kept (None: every day since the first event)
        self.kept_from: date | None = None
        self._last_day: date | None = None  # the local day of ``last`` when old days were last dropped
        self._day_of: tuple[datetime, Any, date] | None = None  # the last time ``_local_day`` was asked about
        #: slices of the event log the metrics read, dropped whenever the store grows
        self.cache: dict[tuple[object, ...], object] = {}

    @hookimpl
    def gridcore_on_event(self, event: Event) -> None:
        """Remember the first and last event times (outcomes cover the periods between), the patrols
        and participants of each day, the incidents not resolved."""
        when = event.time
        if self.first is None or when < self.first:
            self.first = when
        day: date | None = None  # the event's local day, worked out once (at most) per event
        if self.last is None or when > self.last:
            self.last = when
            day = self._local_day(when)
            if day != self._last_day:
                self._day_over(self._last_day)
                self._forget_old_days(day)
        kind = event.kind
        if kind == "patrol_logged":
            if day is None:
                day = self._local_day(when)
            if self.kept_from is not None and day < self.kept_from:
                return  # before the days kept (only a replay of old events could bring one)
            counts = self.patrols.get(day)
            if counts is None:
                counts = self.patrols[day] = Counter()
            counts[event.node] += 1
        elif kind == "activity_recorded" and isinstance(event, ActivityRecorded):
            if day is None:
                day = self._local_day(when)
            if self.kept_from is not None and day < self.kept_from:
                return
            people = self.participants.get(day)
            if not isinstance(people, set):
                people = self.participants[day] = set(people or ())
            people.add(event.participant)
        elif kind in _INCIDENT_KINDS:
            self._incident_step(event, kind)
        elif isinstance(event, ResidentRegistered):
            self.registered[event.person] = (event.node, event.name)
        elif isinstance(event, ResidentMoved) and event.person in self.registered:
            self.registered[event.person] = (event.node, self.registered[event.person][1])

    def _local_day(self, when: datetime) -> date:
        """The day ``when`` falls on in the community's time zone.

        Remembered for the last time asked: most events share their time object with the event
        before (``gridcore.codec`` reads each time text once into one object; 83% of a busy
        district's events), and converting to the zone was most of this hook's time.
        """
        tz = self.engine.community.tz
        kept = self._day_of
        if kept is not None and kept[0] is when and kept[1] is tz:
            return kept[2]
        day = when.astimezone(tz).date()
        self._day_of = (when, tz, day)
        return day

    def _day_over(self, day: date | None) -> None:
        """The latest event's day was ``day`` and a later one has begun: its participants become the sorted
        list a checkpoint saves (340 names: 33 KB as a set, 3 KB as the list, and ``KEPT_DAYS`` days are
        kept); a late event for that day makes it a set again."""
        people = self.participants.get(day) if day is not None else None
        if isinstance(people, set):
            self.participants[day] = sorted(people)  # type: ignore[index]

    def _forget_old_days(self, today: date) -> None:
        """Drop the patrols and participants of days more than ``KEPT_DAYS`` before ``today``, the latest
        event's local day (a new one: the same day as the latest event before has nothing more to drop)."""
        self._last_day = today
        cut = today - timedelta(days=KEPT_DAYS)
        kept_from = self.kept_from
        if kept_from is not None and cut <= kept_from:
            return
        if kept_from is None:
            # (every day held is the local day of an event at or after ``first``: none before its day,
            # so the days held are not looked at until 500 days after it)
            if self.first is None or self.first.astimezone(self.engine.community.tz).date() >= cut:
                return  # nothing to drop yet: every day since the first event is still kept
            if min([*self.patrols, *self.participants], default=cut) >= cut:
                return
        elif (cut - kept_from).days <= len(self.patrols) + len(self.participants):
            # No day before ``kept_from`` is held (those before it were dropped, and none is added):
            # the days to drop are those from it to the cut, mostly one, not all 500 looked at each day.
            day = kept_from
            while day < cut:
                self.patrols.pop(day, None)
                self.participants.pop(day, None)
                day += _ONE_DAY
            self.kept_from = cut
            return
        for per_day in (self.patrols, self.participants):
            for day in [day for day in per_day if day < cut]:
                del per_day[day]
        self.kept_from = cut

    def _incident_step(self, event: Any, kind: str) -> None:
        ident = event.incident
        if kind == "incident_reported":
            self.unresolved[ident] = (event.node, event.severity)
            self.resolved.pop(ident, None)
        elif kind == "incident_resolved":
            if ident in self.unresolved:
                self.resolved[ident] = self.unresolved.pop(ident)
        elif kind == "incident_closed":
            self.unresolved.pop(ident, None)
            self.resolved.pop(ident, None)
        elif kind == "repeat_report_joined":
            self.unresolved.pop(event.report, None)
            self.resolved.pop(event.report, None)
            for held in (self.unresolved, self.resolved):
                if ident in held:
                    node, severity = held[ident]
                    held[ident] = (node, max(severity, event.severity))
        elif ident in self.resolved:  # reopened
            self.unresolved[ident] = self.resolved.pop(ident)

    @hookimpl
    def gridcore_save_state(self) -> dict[str, Any]:
        """The span of events seen, the incidents not resolved, the patrols and participants per day,
        the registered residents, for checkpoints (the metrics' cache is rebuilt when needed)."""
        return {"first": _iso(self.first), "last": _iso(self.last),
                "unresolved": [[k, n, s] for k, (n, s) in sorted(self.unresolved.items())],
                "resolved": [[k, n, s] for k, (n, s) in sorted(self.resolved.items())],
                "patrols": {day.isoformat(): sorted(counts.items()) for day, counts in sorted(self.patrols.items())},
                "participants": {day.isoformat(): sorted(people)
                                 for day, people in sorted(self.participants.items())},
                "kept_from": None if self.kept_from is None else self.kept_from.isoformat(),
                # (in the order of their first registration, as the log gives them)
                "registered": [[p, n, name] for p, (n, name) in self.registered.items()]}

    @hookimpl
    def gridcore_restore_state(self, document: dict[str, Any]) -> None:
        """Take back what a checkpoint saved."""
        first, last = document["first"], document["last"]
        self.first = None if first is None else datetime.fromisoformat(first)
        self.last = None if last is None else datetime.fromisoformat(last)
        self.unresolved = {str(k): (str(n), int(s)) for k, n, s in document["unresolved"]}
        self.resolved = {str(k): (str(n), int(s)) for k, n, s in document["resolved"]}
        # (a checkpoint is JSON: its names are text, its counts whole numbers, its people unique and sorted)
        self.patrols = {date.fromisoformat(day): Counter(dict(counts)) for day, counts in document["patrols"].items()}
        self.participants = {date.fromisoformat(day): list(people) for day, people in document["participants"].items()}
        kept_from = document["kept_from"]
        self.kept_from = None if kept_from is None else date.fromisoformat(kept_from)
        self.registered = {str(p): (str(n), str(name)) for p, n, name in document["registered"]}
        self._last_day = None
        self.cache.clear()

    @hookimpl
    def gridcore_explain(self, engine: Engine, decision: str) -> Explanation | None:
        """Explain ``assessment:<period>:<node>`` or ``assessment:<period>:subsidy:<member>``."""
        if not decision.startswith(PREFIX):
            return None
        from .explain import explain_decision

        return explain_decision(engine, decision[len(PREFIX) :])

    @hookimpl
    def gridcore_collect_outcomes(self, engine: Engine) -> list[Outcome]:
        """Stars, score and subsidies of every rated node (and stars of every rated person) for every period
        of every cycle (a cycle's outcomes name it: ``node:g1:stars:2025-Q1@quarterly``)."""
        from .scoring import shown

        out: list[Outcome] = []
        for assessment in self.assessments_spanned(engine):
            for rating in assessment.ratings:
                subject = f"node:{rating.node}"
                out.append(Outcome(NAME, f"{subject}:stars:{assessment.key}", rating.stars, rating.rules,
                                   f"score {shown(rating.score)}", STARS))
                # outcomes are compared and shown: the score rounded for display
                out.append(Outcome(NAME, f"{subject}:score:{assessment.key}", shown(rating.score),
                                   tuple(t.rule for t in rating.terms), kind=SCORES))
            for rating in assessment.people:
                out.append(Outcome(NAME, f"member:{rating.node}:stars:{assessment.key}", rating.stars,
                                   rating.rules, f"{rating.level}, score {shown(rating.score)}", STARS))
            totals: dict[str, float] = {}
            for line in assessment.subsidies:
                totals[line.member] = round(totals.get(line.member, 0.0) + line.amount, 2)
            for member, amount in sorted(totals.items()):
                rules = tuple(dict.fromkeys(s.rule for s in assessment.subsidies if s.member == member))
                out.append(Outcome(NAME, f"member:{member}:subsidy:{assessment.key}", amount, rules,
                                   kind=SUBSIDIES))
        return out

    def assessments_spanned(self, engine: Engine) -> list[Assessment]:
        """Fresh (unsaved) assessments of every period of every cycle from the first event to the last."""
        from gridcore.periods import PeriodError, periods_between

        from .metrics import policy_at
        from .rating import assess

        if self.first is None or self.last is None:
            return []
        policy = policy_at(engine, self.last)
        if policy is None:
            return []
        tz = engine.community.tz
        out: list[Assessment] = []
        for cycle in policy.all_cycles():  # each cycle rates its own periods (monthly, quarterly ...)
            try:
                periods = list(periods_between(cycle.period, self.first, self.last + _INSTANT, tz))
            except PeriodError:
                continue
            out.extend(assess(engine, p, save=False, cycle=cycle.cycle) for p in periods)
        return out

