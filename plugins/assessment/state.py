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
log slices the metrics read.  Only the days of the latest event's month are
kept in memory: when a later month begins, each earlier month's patrols and
participants are *sealed* into one document of the store's ``assessment.days``
collection, under the SHA-256 of its text (``gridcore.parts``), written with
the engine's next batch of events (``gridcore_on_flush``) or at the next
checkpoint, and the state keeps only its key (read back, checked against it,
when a period reaches one of its days: ``kept_days``).  It answers
explanations (``assessment:<period>:<node>``) and the outcomes a what-if
compares.
"""

from __future__ import annotations

import functools
import json
from collections import Counter, OrderedDict
from collections.abc import Hashable
from datetime import date, datetime, timedelta
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from gridcore import hookimpl
from gridcore.classes import define
from gridcore.codec import read_time
from gridcore.errors import StoreError
from gridcore.events import ActivityRecorded, ResidentMoved, ResidentRegistered
from gridcore.explain import Explanation, Outcome, OutcomeKind
from gridcore.parts import part_text, part_writer, read_part, stored_part, text_key
from gridcore.periods import periods_between

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
#: The store collection holding the sealed months of patrols and participants.
COLLECTION = "assessment.days"
#: The shape of a sealed month's document.
MONTH_FORMAT = 1
#: Sealed months kept decoded after a read (the least recently read go first): a quarter's reads.
CACHED_MONTHS = 3


@define(eq=False)
class Month:
    """A sealed month of patrols and participants: its key, the first and last day it holds, and its
    text while it is not yet in the store."""

    key: str
    first: date
    last: date
    text: str | None = None


# What the assessment plugin reports to a what-if comparison.
STARS = OutcomeKind("stars", "Grids that gain or lose stars (星级有升降的网格)", "stars", "星")
SUBSIDIES = OutcomeKind("subsidies", "Subsidies that change (补贴有变化)", "yuan", "元")
SCORES = OutcomeKind("scores", "Assessment scores that change (考核得分有变化)")


def _iso(when: datetime | None) -> str | None:
    return None if when is None else when.isoformat()


class AssessmentState:
    """Per-engine state: the span of events seen (for outcomes) and the hooks that read it."""

    #: the shape of the document ``gridcore_save_state`` gives
    STATE_VERSION = 9  # 9: the stored events ignored on replay (``ignored``); 2: incidents not resolved; 3: a repeat report that joined one is not one of them;
    # 4: patrols per day and node; 5: participants per day; 6: only the last KEPT_DAYS days of them;
    # 7: the registered residents; 8: the months before the latest event's sealed in the store

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
        #: the months before the latest event's month (by their first day), sealed: their days are in the
        #: store, not in ``patrols`` and ``participants`` (``kept_days`` reads them)
        self.sealed: dict[date, Month] = {}
        #: sealed months read back, by key: (patrols, participants) per day (``CACHED_MONTHS``)
        self._months: OrderedDict[str, tuple[dict[date, Counter[str]], dict[date, list[str]]]] = OrderedDict()
        #: the first day whose patrols and participants are all kept (None: every day since the first event)
        self.kept_from: date | None = None
        self._last_day: date | None = None  # the local day of ``last`` when old days were last dropped
        #: the ids of the stored events a plugin judged refused in time order on replay, after a late event
        #: (``gridcore_on_event_ignored``): the state leaves them out, and so do the slices of the log the
        #: metrics read (``logindex``), as the same events recorded in time order would
        self.ignored: set[str] = set()
        #: slices of the event log the metrics read, dropped whenever the store grows
        self.cache: dict[tuple[object, ...], object] = {}
        #: when what the metrics read last changed for each period (``gridcore_period_stamp``)
        self.stamps = engine.period_stamps("assessment")

    @hookimpl
    def gridcore_on_event(self, event: Event) -> None:
        """Remember the first and last event times (outcomes cover the periods between), the patrols
        and participants of each day, the incidents not resolved."""
        when = event.time
        # a period's metrics read the events before its end (``logindex``; the state stands for them only
        # after every event)
        self.stamps.note(when)
        # the event's local day, worked out once (at most) per event: the latest time object again, most
        # often (a busy minute's events share one; ``first`` is no later), whose day is the one old days were
        # dropped for (``_last_day``: the local day of ``last`` once an event set it; None after a restore)
        day: date | None = self._last_day
        if when is not self.last:
            day = None
            if self.first is None or when < self.first:
                self.first = when
            if self.last is None or when > self.last:
                self.last = when
                day = self.engine.local_date(when)
                if day != self._last_day:
                    self._day_over(self._last_day)
                    self._forget_old_days(day)
                    self._seal_months_before(day)
        kind = event.kind
        if kind == "patrol_logged":
            if day is None:
                day = self.engine.local_date(when)
            if self.kept_from is not None and day < self.kept_from:
                return  # before the days kept (only a replay of old events could bring one)
            # (most often the event is of the latest day: nothing to take out, ``_take_out`` not called)
            latest = self._last_day
            sealed = None if latest is None or day >= latest else self._take_out(day)
            counts = self.patrols.get(day)
            if counts is None:
                counts = self.patrols[day] = Counter()
            counts[event.node] += 1
            if sealed is not None:
                self._seal(sealed)
        elif kind == "activity_recorded" and isinstance(event, ActivityRecorded):
            if day is None:
                day = self.engine.local_date(when)
            if self.kept_from is not None and day < self.kept_from:
                return
            latest = self._last_day
            sealed = None if latest is None or day >= latest else self._take_out(day)
            people = self.participants.get(day)
            if not isinstance(people, set):
                people = self.participants[day] = set(people or ())
            people.add(event.participant)
            if sealed is not None:
                self._seal(sealed)
        elif kind in _INCIDENT_KINDS:
            self._incident_step(event, kind)
        elif isinstance(event, ResidentRegistered):
            self.registered[event.person] = (event.node, event.name)
        elif isinstance(event, ResidentMoved) and event.person in self.registered:
            self.registered[event.person] = (event.node, self.registered[event.person][1])

    @hookimpl
    def gridcore_on_event_ignored(self, event: Event) -> None:
        """``event``, stored, no longer counts (a plugin judged it refused in time order after a late event):
        kept out of the state, and of the log's slices the metrics read."""
        self.ignored.add(event.id)
        self.stamps.note(event.time)
        self.cache.clear()

    @hookimpl
    def gridcore_period_stamp(self, engine: Engine, node: str, start: datetime, end: datetime) -> Hashable | None:
        """When the events the metrics read last changed for a period ending at ``end`` (``gridcore.stamps``).

        A period that holds no whole assessment period (a week, a month of a quarterly ruleset) shows the
        stars of those it falls in (``assessment.stars``): rated on every plugin's metrics up to their end,
        so its stamp is every plugin's up to there (``Engine.period_stamp``; asked again for the wider
        span, which holds them, this answers its own).
        """
        reach = assessed_until(engine, start, end)
        if reach > end:
            return engine.period_stamp(node, start, reach)
        return self.stamps.stamp(end)

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
            if self.first is None or self.engine.local_date(self.first) >= cut:
                return  # nothing to drop yet: every day since the first event is still kept
            if min([*self.patrols, *self.participants, *(m.first for m in self.sealed.values())], default=cut) >= cut:
                return
        elif (cut - kept_from).days <= len(self.patrols) + len(self.participants):
            # No day before ``kept_from`` is held (those before it were dropped, and none is added):
            # the days to drop are those from it to the cut, mostly one, not all 500 looked at each day.
            day = kept_from
            while day < cut:
                self.patrols.pop(day, None)
                self.participants.pop(day, None)
                day += _ONE_DAY
            self._drop_sealed_before(cut)
            self.kept_from = cut
            return
        for per_day in (self.patrols, self.participants):
            for day in [day for day in per_day if day < cut]:
                del per_day[day]
        self._drop_sealed_before(cut)
        self.kept_from = cut

    def _drop_sealed_before(self, cut: date) -> None:
        """Forget the sealed months whose every day is before ``cut`` (a month partly before it is kept
        whole: its older days are not read)."""
        if self.sealed and min(found.last for found in self.sealed.values()) < cut:
            for month in [month for month, found in self.sealed.items() if found.last < cut]:
                del self.sealed[month]

    # ------------------------------------------------------------ sealed months

    def _seal_months_before(self, today: date) -> None:
        """Seal the days kept in memory of the months before ``today``'s (a new latest day)."""
        start = today.replace(day=1)
        months = {day.replace(day=1) for per_day in (self.patrols, self.participants) for day in per_day
                  if day < start}
        for month in sorted(months):
            self._seal(month)

    def _seal(self, month: date) -> None:
        """Seal the days kept in memory of ``month`` (its first day) into a document, and drop them."""
        end = (month + timedelta(days=32)).replace(day=1)
        patrols = {day: counts for day, counts in self.patrols.items() if month <= day < end}
        people = {day: found for day, found in self.participants.items() if month <= day < end}
        days = [*patrols, *people]
        if not days:
            return
        doc = {"format": MONTH_FORMAT,
               "patrols": {day.isoformat(): sorted(counts.items()) for day, counts in sorted(patrols.items())},
               "participants": {day.isoformat(): sorted(found) for day, found in sorted(people.items())}}
        text = part_text(doc)
        self.sealed[month] = Month(text_key(text), min(days), max(days), text)
        for day in patrols:
            del self.patrols[day]
        for day in people:
            del self.participants[day]

    def _take_out(self, day: date) -> date | None:
        """For an event of a day of a month before the latest event's (which only a replay of old events
        could bring): the month, to seal again after the event, with its days back in memory if it was
        sealed; else None."""
        latest = self._last_day
        # (most often the event is of the latest day: no month's first day need be made, ``replace``
        # costing more than the rest of the hook)
        if latest is None or day >= latest or day >= latest.replace(day=1):
            return None
        month = day.replace(day=1)
        found = self.sealed.pop(month, None)
        if found is None:
            return month
        patrols, people = self._month(found)
        self.patrols.update((d, Counter(counts)) for d, counts in patrols.items())
        self.participants.update((d, list(found)) for d, found in people.items())
        return month

    def _month(self, month: Month) -> tuple[dict[date, Counter[str]], dict[date, list[str]]]:
        """A sealed month's patrols and participants per day, read back (from the store unless kept)."""
        kept = self._months.get(month.key)
        if kept is not None:
            self._months.move_to_end(month.key)
            return kept
        if month.text is not None:
            doc = json.loads(month.text)
        else:
            doc = read_part(lambda key: stored_part(self.engine.store, COLLECTION, key), month.key,
                            collection=COLLECTION, what="assessment's days")
        if doc.get("format") != MONTH_FORMAT:
            raise StoreError(f"the assessment's days {month.key} in the store's {COLLECTION!r} collection are "
                             f"of format {doc.get('format')!r}, expected {MONTH_FORMAT}; rebuild the state "
                             "(gridcore rebuild)")
        kept = ({date.fromisoformat(day): Counter(dict(counts)) for day, counts in doc["patrols"].items()},
                {date.fromisoformat(day): list(found) for day, found in doc["participants"].items()})
        self._months[month.key] = kept
        while len(self._months) > CACHED_MONTHS:
            self._months.popitem(last=False)
        return kept

    def kept_days(self, kept: str, first: date, last: date) -> list[tuple[date, Any]]:
        """What the state keeps per local day under ``kept`` (``patrols``, ``participants``) for each day
        in ``[first, last)`` that has any, in memory or in a sealed month (read back)."""
        per_day = getattr(self, kept)
        index = 0 if kept == "patrols" else 1
        out: list[tuple[date, Any]] = []
        day = first
        while day < last:
            found = per_day.get(day)
            if found is None and self.sealed:
                month = self.sealed.get(day.replace(day=1))
                if month is not None:
                    found = self._month(month)[index].get(day)
            if found is not None:
                out.append((day, found))
            day += timedelta(days=1)
        return out

    def _store_sealed(self, engine: Engine) -> None:
        """Write the sealed months not yet in the store, and keep only their keys."""
        waiting = [month for month in self.sealed.values() if month.text is not None]
        if not waiting or engine.read_only:
            return
        write = part_writer(engine.store, COLLECTION)
        for month in waiting:
            assert month.text is not None
            write(month.key, month.text, functools.partial(json.loads, month.text))
            month.text = None

    @hookimpl
    def gridcore_on_flush(self, engine: Engine) -> None:
        """The sealed months stored with the engine's next batch, not held until the checkpoint."""
        self._store_sealed(engine)

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
        """The span of events seen, the incidents not resolved, the patrols and participants per day of
        the latest event's month and the keys of the months sealed before it (stored first), the
        registered residents, for checkpoints (the metrics' cache is rebuilt when needed)."""
        self._store_sealed(self.engine)
        return {"first": _iso(self.first), "last": _iso(self.last),
                "unresolved": [[k, n, s] for k, (n, s) in sorted(self.unresolved.items())],
                "resolved": [[k, n, s] for k, (n, s) in sorted(self.resolved.items())],
                "patrols": {day.isoformat(): sorted(counts.items()) for day, counts in sorted(self.patrols.items())},
                "participants": {day.isoformat(): sorted(people)
                                 for day, people in sorted(self.participants.items())},
                "sealed": [[month.isoformat(), found.key, found.first.isoformat(), found.last.isoformat()]
                           for month, found in sorted(self.sealed.items())],
                "kept_from": None if self.kept_from is None else self.kept_from.isoformat(),
                # (in the order of their first registration, as the log gives them)
                "registered": [[p, n, name] for p, (n, name) in self.registered.items()],
                "ignored": sorted(self.ignored)}

    @hookimpl
    def gridcore_restore_state(self, document: dict[str, Any]) -> None:
        """Take back what a checkpoint saved."""
        first, last = document["first"], document["last"]
        self.first = None if first is None else read_time(first)
        self.last = None if last is None else read_time(last)
        self.unresolved = {str(k): (str(n), int(s)) for k, n, s in document["unresolved"]}
        self.resolved = {str(k): (str(n), int(s)) for k, n, s in document["resolved"]}
        # (a checkpoint is JSON: its names are text, its counts whole numbers, its people unique and sorted)
        self.patrols = {date.fromisoformat(day): Counter(dict(counts)) for day, counts in document["patrols"].items()}
        self.participants = {date.fromisoformat(day): list(people) for day, people in document["participants"].items()}
        self.sealed = {date.fromisoformat(month): Month(str(key), date.fromisoformat(first), date.fromisoformat(last))
                       for month, key, first, last in document["sealed"]}
        self._months.clear()
        kept_from = document["kept_from"]
        self.kept_from = None if kept_from is None else date.fromisoformat(kept_from)
        self.registered = {str(p): (str(n), str(name)) for p, n, name in document["registered"]}
        self.ignored = {str(ident) for ident in document["ignored"]}
        self._last_day = None
        self.cache.clear()

    @hookimpl
    def gridcore_explain(self, engine: Engine, decision: str, lang: str) -> Explanation | None:
        """Explain ``assessment:<period>:<node>``, ``assessment:<period>:person:<member>`` or
        ``assessment:<period>:subsidy:<member>`` (headed in Chinese for ``zh``: a term's and a metric's
        inputs by ``headings.INPUTS_ZH``, a subsidy's by its role's Chinese name, the community's own roles
        included: ``安全员 safety_officer at g2``)."""
        if not decision.startswith(PREFIX):
            return None
        from .explain import explain_decision
        from .headings import INPUTS_ZH

        answer = explain_decision(engine, decision[len(PREFIX) :], lang)
        if answer is None or lang != "zh":
            return answer
        return answer.labelled({**engine.community.roles, **INPUTS_ZH})

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
            totals: dict[str, Fraction] = {}  # exact; compared and shown rounded once, as scores
            for line in assessment.subsidies:
                totals[line.member] = totals.get(line.member, Fraction(0)) + line.amount
            for member, exact_amount in sorted(totals.items()):
                amount = shown(exact_amount)
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


def assessed_until(engine: Engine, start: datetime, end: datetime) -> datetime:
    """The end of the assessment periods a read of ``[start, end)`` shows: ``end`` when it holds one whole
    (or no assessment is in force), else the end of the last it falls in (as ``reports.held_periods``)."""
    from .metrics import policy_at
    from .rating import cycle_policy

    policy = policy_at(engine, start)
    if policy is None:
        return end
    kind = cycle_policy(engine, policy, "").period
    touching = list(periods_between(kind, start, end, engine.community.tz))
    if not touching or any(start <= p.start and p.end <= end for p in touching):
        return end
    return max(end, *(p.end for p in touching))
