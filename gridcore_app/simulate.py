"""A simulated community: seeded, reproducible days of grid work as events.

``simulate(community, scenario, days=90, start=..., seed=1)`` walks the days
and yields core events in canonical order (time, then id): gridworkers' daily
patrols of their zones, incidents by category at the scenario's rates with
their handling (accept, handle, pause, resolve, verify with the residents'
satisfaction, residents' ratings, a second round after an unsatisfied
verification, close; where the scenario says so, a consultation before
handling, feedback to the reporter before verification, requests for more
time, cases a line department sends back and cases a leader assigns (派单)
to their handler; whistle-and-report to a line department whose officer
accepts the case at the handler's level; escalated handling by the level
above for the few cases a level cannot cope with), repeat reports of open
cases and problems that come back, residents' activities, redemptions, and
resident registrations and moves, tasks assigned and done
(``campaigns``), deductions recorded for staff's slips, and households visited
by those who look after them, moving in and out and splitting (``homes``).
Staff differ in diligence (drawn once per
seed), so cells differ by how well they are looked after.

The scenario (``rulesets/<community>/scenario.yaml``, see ``gridcore_app.scenario``)
names activities, incident categories, rewards and roles the way the
community's ruleset spells them, with rates and delays; the generator knows
nothing of points, ladders or stars, so the same events can be judged under
any ruleset (what ``gridcore diff`` does).  A few events are wrong on purpose
(``mistakes`` in the scenario: a redemption without enough activity behind it,
a rating from outside the cell) so refusals show up in the demo.

Ids are deterministic: ``<root>-s<seed>-<n>`` for events, ``<root>-s<seed>-i<n>``
for incidents and ``<root>-s<seed>-p<n>`` for registered residents (tasks,
deductions and households number their own: ``-t``, ``-d``, ``-h``), so the
same seed always gives the same log, byte for byte.
"""

from __future__ import annotations

import heapq
import json
import math
import random
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import IO, Any

import attrs

from gridcore.classes import define, frozen
from gridcore.codec import EventCodec
from gridcore.community import Community
from gridcore.events import (
    ActivityRecorded,
    Event,
    PatrolLogged,
    ResidentMoved,
    ResidentRegistered,
    event_order,
)
from gridcore.roster import RESIDENT_ROLE
from gridcore_escalation.events import (
    ConsultationHeld,
    ExtensionApproved,
    ExtensionRefused,
    ExtensionRequested,
    FeedbackGiven,
    IncidentAccepted,
    IncidentAssigned,
    IncidentClosed,
    IncidentEscalated,
    IncidentEvent,
    IncidentHandlingStarted,
    IncidentPaused,
    IncidentReported,
    IncidentResolved,
    IncidentResumed,
    IncidentReturned,
    IncidentVerified,
    SatisfactionRated,
)
from gridcore_escalation.routing import department_members
from gridcore_points.events import PointsRedeemed

from .campaigns import Campaigns
from .homes import Homes
from .ladder import HandlerDue, Ladder, Stop, Target
from .rosterio import load_yaml
from .scenario import (
    PATROL,
    REGISTERED,
    ActivityPlan,
    HandlingPlan,
    IncidentPlan,
    MistakePlan,
    PatrolPlan,
    PopulationPlan,
    RedemptionPlan,
    RewardPlan,
    Scenario,
    ScenarioError,
    load_scenario,
    parse_scenario,
    scenario_problems,
    with_role_ids,
)

__all__ = [
    "EARLY_REDEMPTION",
    "OUTSIDER_RATING",
    "PATROL",
    "REDEMPTION",
    "REGISTERED",
    "RULESETS_DIR",
    "SCENARIO_FILE",
    "ActivityPlan",
    "HandlingPlan",
    "IncidentPlan",
    "MistakePlan",
    "PatrolPlan",
    "PopulationPlan",
    "RedemptionPlan",
    "RewardPlan",
    "Scenario",
    "ScenarioError",
    "find_community",
    "fixed_population",
    "load_scenario",
    "parse_scenario",
    "scenario_problems",
    "simulate",
    "with_role_ids",
    "write_jsonl",
]


# ---------------------------------------------------------------- finding communities

#: Where the repository keeps its real communities (an editable install finds it).
RULESETS_DIR = Path(__file__).resolve().parent.parent / "rulesets"
SCENARIO_FILE = "scenario.yaml"


def find_community(name: str | Path) -> Path:
    """The folder of a community: a path, a folder name under ``rulesets/`` or its Chinese name.

    ``find_community("yinquan")``, ``find_community("银泉社区")`` and
    ``find_community("rulesets/yinquan")`` all give the Yinquan folder.
    """
    given = Path(name)
    if (given / "community.yaml").is_file():
        return given
    if RULESETS_DIR.is_dir():
        if (RULESETS_DIR / str(name) / "community.yaml").is_file():
            return RULESETS_DIR / str(name)
        known = []
        for folder in sorted(RULESETS_DIR.iterdir()):
            path = folder / "community.yaml"
            if not path.is_file():
                continue
            doc = load_yaml(path.read_text(encoding="utf-8-sig"), str(path)) or {}
            label = str(doc.get("name", "")) if isinstance(doc, Mapping) else ""
            if label == str(name):
                return folder
            known.append(f"{folder.name} ({label})" if label else folder.name)
        raise ScenarioError(f"no community {str(name)!r}; known: {', '.join(known) or 'none'}, or give a folder "
                            "(没有这个社区：写上面列出的名称，或给出社区文件夹)")
    raise ScenarioError(f"no community folder {str(name)!r} (a folder with community.yaml) "
                        "(没有这个社区文件夹：应是含 community.yaml 的文件夹)")


def write_jsonl(events: Iterable[Event], out: IO[str]) -> int:
    """Write events as JSON lines (what ``gridcore ingest`` reads); return how many."""
    codec = EventCodec()
    count = 0
    for event in events:
        out.write(json.dumps(codec.to_dict(event), ensure_ascii=False) + "\n")
        count += 1
    return count


# ---------------------------------------------------------------- the generator

#: What ``simulate``'s ``staged`` says of an event made wrong on purpose (the scenario's ``mistakes``) ...
EARLY_REDEMPTION = "early redemption"
OUTSIDER_RATING = "outsider rating"
#: ... and of a redemption it cannot judge: it knows nothing of points (a balance, a reward's monthly limit).
REDEMPTION = "redemption"


def fixed_population(scenario: Scenario, residents: int) -> Scenario:
    """``scenario`` with ``residents`` registered on the first day and nobody added after (``simulate``'s
    ``population``): its population plan's ``initial`` and ``per_day``, its households' ``move_in_per_day``."""
    if residents < 0:
        raise ScenarioError(f"population must not be negative, got {residents}")
    if scenario.population is None:
        raise ScenarioError("a fixed population needs the scenario's population plan (who registers residents)")
    households = scenario.households
    return attrs.evolve(
        scenario,
        population=attrs.evolve(scenario.population, initial=residents, per_day=0.0),
        households=None if households is None else attrs.evolve(households, move_in_per_day=0.0),
    )


def simulate(
    community: Community,
    scenario: Scenario,
    *,
    days: int,
    start: datetime | date,
    seed: int,
    population: int | None = None,
    ladder: Ladder | None = None,
    staged: dict[str, str] | None = None,
) -> Iterator[Event]:
    """Yield ``days`` days of the community's events from ``start``, in canonical order.

    ``start`` is a date (midnight in the community's time zone) or an aware
    datetime.  Events that would fall after the last day are not produced: an
    incident still open then stays open, as in life.

    ``population`` gives a fixed population: that many residents are
    registered in the first half hour of the first day (in place of the
    scenario's ``population.initial``) and nobody is added after (no
    registrations per day, no households moving in); moves, moves out and
    everything else go on as the scenario says.  A long run then holds the
    same people from its first day to its last, which is how
    ``benchmarks/engine_ingest.py --fixed-population`` tells what grows with
    the number of events from what grows with the number of people.

    ``ladder`` (``Ladder.of_rulesets``, or ``Ladder.in_force`` for rulesets put
    in force at other times: the rulesets the events will be judged under, as
    in force at each simulated time) tells where a case waits when someone
    comes to take it on:
    a case whose accept limits ran out before its planned handler came, or
    that a rule sent up at once past where that handler may act, is taken on
    at the level it reached, by the scenario's ``climbed_handlers`` there,
    with ``climbed_accept_hours`` of delay (drawn from a stream of their own).
    A case nobody where it starts may take on waits there until its accept
    limit carries it up, and is taken on where it reaches the same way; the
    ruleset's repeats rules are read from it too.  Without it every case is
    taken on as planned, whatever a ruleset's timers would have done with it
    by then, and a case nobody may take on stays open.

    ``staged``, if given, receives (as the events are made) the id of every
    event the engine may refuse on purpose: ``EARLY_REDEMPTION`` and
    ``OUTSIDER_RATING`` (the scenario's ``mistakes``), and ``REDEMPTION`` for
    every other redemption (the generator knows nothing of points, so a
    balance or a reward's monthly limit may refuse it).  With the ladder of
    the rulesets in force, nothing else should be refused.
    """
    if population is not None:
        scenario = fixed_population(scenario, population)
    problems = scenario_problems(scenario, community)
    scenario = with_role_ids(scenario, community)  # 街道网格专干 is street_officer, as in the rules
    if problems:
        raise ScenarioError("scenario does not fit community " + community.name + ": " + "; ".join(problems)
                            + f" (场景与社区{community.name}不符)")
    if days < 0:
        raise ScenarioError(f"days must not be negative, got {days}")
    if isinstance(start, datetime):
        if start.tzinfo is None:
            raise ScenarioError("start must carry a time zone")
        first = start
    else:
        first = datetime.combine(start, time(0), tzinfo=community.tz)
    return _Simulation(community, scenario, seed, first, ladder, staged).run(days)


class _Simulation:
    """The generator's working state: random source, counters, who lives where."""

    def __init__(self, community: Community, scenario: Scenario, seed: int, first: datetime,
                 ladder: Ladder | None = None, staged: dict[str, str] | None = None) -> None:
        self.community = community
        self.ladder = ladder
        self.staged = {} if staged is None else staged
        # Who takes on a case the ladder carried up draws from a stream of its own:
        # the cases that stay where they were planned come out as without a ladder.
        self.ladder_rng = random.Random(f"{seed}:ladder")
        self.scenario = scenario
        self.rng = random.Random(seed)
        # The steps inside the cell (consultation, feedback, extensions) draw from
        # their own stream: a scenario that adds them changes nothing else.
        self.steps_rng = random.Random(f"{seed}:steps")
        self.first = first
        #: the end of the run (``run``): what a case nobody takes on stays open until
        self.end = first
        self.tz = community.tz
        roots = community.hierarchy.roots()
        self.prefix = f"{roots[0].id if roots else 'sim'}-s{seed}"
        self.seq = 0
        self.incidents = 0
        self.people = 0
        self.queue: list[tuple[datetime, str, Event]] = []
        self.leaves = [n.id for n in community.hierarchy.leaves()]
        self.places: dict[str, list[str]] = {}
        for place in community.places.values():
            self.places.setdefault(place.node, []).append(place.id)
        # Roster residents per cell: anyone whose home is that cell.
        self.dwellers: dict[str, list[str]] = {}
        for member in community.members.values():
            if member.home is not None:
                self.dwellers.setdefault(member.home, []).append(member.id)
        self.registered: dict[str, str] = {}
        self.registered_on: dict[str, date] = {}
        self.registered_party: set[str] = set()
        self.activity_count: dict[str, int] = {}
        self.leaf_set = set(self.leaves)
        self.leaf_cache: dict[str, list[str]] = {}
        self.holder_cache: dict[tuple[str, ...], list[tuple[str, str]]] = {}
        self.nearest_cache: dict[tuple[str, tuple[str, ...]], tuple[str, list[str]]] = {}
        self.zones: dict[tuple[str, str, str], list[str]] = {}
        # Each member's diligence, drawn once from its own random source so the
        # rest of the log does not shift when the range changes.
        low, high = scenario.diligence
        draw = random.Random(f"{seed}:diligence")
        self.diligence = {m: draw.uniform(low, high) for m in sorted(community.members)}
        # Open cases by (category, place key): report times and when they stop
        # being open, so an unrelated report never lands on one by accident.
        self.cases: dict[tuple[str, str], list[_Case]] = {}
        # Every report by (category, place key): its time, and whether the level
        # above the cell handles it (the ruleset's repeats rule may send it up).
        self.reports: dict[tuple[str, str], list[tuple[datetime, bool]]] = {}
        self.accepted = first  # when the case handled last was first accepted
        # Problems that come back: (day, plan, node, place).
        self.recurring: list[tuple[date, int, IncidentPlan, str, str | None]] = []
        # Tasks, deductions and households draw from random sources of their own.
        self.campaigns = Campaigns(community, self.prefix, seed, self.diligence, self.push,
                                   scenario.workday_start)
        self.homes = (None if scenario.households is None else
                      Homes(community, scenario.households, self.prefix, seed, self.diligence, self.push))

    # ------------------------------------------------------------ helpers

    def next_id(self) -> str:
        self.seq += 1
        return f"{self.prefix}-{self.seq:06d}"

    def at(self, day: date, hour: float) -> datetime:
        """A time on ``day`` at ``hour`` (fractional hours), in the community's zone, to the minute."""
        minutes = max(0, min(round(hour * 60), 24 * 60 - 1))
        return datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=self.tz)

    def awake(self, when: datetime, rng: random.Random | None = None) -> datetime:
        """People act between the workday's start and 21:00; later work waits for the morning."""
        local = when.astimezone(self.tz)
        opening = datetime.combine(local.date(), self.scenario.workday_start, tzinfo=self.tz)
        if local < opening:
            return opening + timedelta(minutes=(rng or self.rng).randint(0, 90))
        if local.hour >= 21:
            return opening + timedelta(days=1, minutes=(rng or self.rng).randint(0, 90))
        return when

    def push(self, event: Event) -> None:
        heapq.heappush(self.queue, (*event_order(event), event))

    def uniform(self, span: tuple[float, float]) -> float:
        return self.rng.uniform(span[0], span[1])

    def pick_weighted(self, weights: Mapping[str, float]) -> str:
        names = sorted(weights)
        return self.rng.choices(names, weights=[weights[n] for n in names])[0]

    def poisson(self, mean: float) -> int:
        # Knuth's method; rates here are small (a few a day), so this is cheap.
        if mean <= 0:
            return 0
        if mean > 30:
            return max(0, round(self.rng.gauss(mean, mean**0.5)))
        limit, k, p = math.exp(-mean), 0, 1.0
        while True:
            p *= self.rng.random()
            if p <= limit:
                return k
            k += 1

    def cells_below(self, node: str) -> list[str]:
        """The territorial leaf cells at or below ``node`` (what a patrol there can walk)."""
        if node not in self.leaf_cache:
            below = self.community.hierarchy.descendants(node, include_self=True)
            self.leaf_cache[node] = [n.id for n in below if n.id in self.leaf_set]
        return self.leaf_cache[node]

    def holders(self, roles: Sequence[str]) -> list[tuple[str, str]]:
        """(member, node) for every territorial role assignment among ``roles``, roster order."""
        key = tuple(roles)
        if key not in self.holder_cache:
            found = []
            wanted = set(roles)
            for member in self.community.members.values():
                for assignment in member.roles:
                    node = self.community.hierarchy.node(assignment.node)
                    if assignment.role in wanted and not node.is_side_grid:
                        found.append((member.id, assignment.node))
            self.holder_cache[key] = found
        return self.holder_cache[key]

    def nearest(self, node: str, roles: Sequence[str], *, besides: str | None = None,
                rng: random.Random | None = None) -> str | None:
        """A holder of the first of ``roles`` found at ``node`` or the nearest ancestor.

        ``besides`` is someone who should not be chosen if anyone else is there;
        ``rng`` the stream to draw from (default the main one).
        """
        found = self._nearest_at(node, roles, besides=besides, rng=rng)
        return None if found is None else found[0]

    def nearest_at(self, node: str, roles: Sequence[str], *, besides: str | None = None,
                   cell: str | None = None) -> tuple[str, str] | None:
        """Like ``nearest``, with the node where the chosen member holds the role.

        With ``cell``, a holder whose other roles cover the cell (the committee
        member in charge of that grid, 包片) is chosen over the others.
        """
        found = self._nearest_at(node, roles, besides=besides)
        if found is None or cell is None:
            return found
        seat = found[1]
        in_charge = [m for m in self.nearest_cache[(node, tuple(roles))][1]
                     if m != besides and self.in_charge(m, seat, cell)]
        return (self.rng.choice(in_charge), seat) if in_charge else found

    def in_charge(self, member: str, seat: str, cell: str) -> bool:
        """True if ``member`` also holds a role below ``seat`` whose subtree holds ``cell``."""
        hierarchy = self.community.hierarchy
        return any(a.node != seat and hierarchy.is_within(a.node, seat) and hierarchy.is_within(cell, a.node)
                   for a in self.community.members[member].roles)

    def above(self, seat: str) -> str | None:
        """The parent of ``seat`` (None at the top)."""
        parent = self.community.hierarchy.parent(seat)
        return None if parent is None else parent.id

    def _nearest_at(self, node: str, roles: Sequence[str], *, besides: str | None = None,
                    rng: random.Random | None = None) -> tuple[str, str] | None:
        key = (node, tuple(roles))
        if key not in self.nearest_cache:
            found: tuple[str, list[str]] = (node, [])
            for ancestor in self.community.hierarchy.ancestors(node, include_self=True):
                for role in roles:
                    holders = sorted(m.id for m in self.community.holders(ancestor.id, role))
                    if holders:
                        found = (ancestor.id, holders)
                        break
                if found[1]:
                    break
            self.nearest_cache[key] = found
        where, holders = self.nearest_cache[key]
        choice = [m for m in holders if m != besides] or holders
        return ((rng or self.rng).choice(choice), where) if choice else None

    def residents_of(self, leaf: str) -> list[str]:
        people = [m for m in self.dwellers.get(leaf, ())]
        people.extend(sorted(p for p, home in self.registered.items() if home == leaf))
        return people

    # ------------------------------------------------------------ the run

    def run(self, days: int) -> Iterator[Event]:
        end = self.end = self.first + timedelta(days=days)
        for n in range(days):
            day = (self.first + timedelta(days=n)).astimezone(self.tz).date()
            if n == 0 and self.scenario.population is not None:
                self.register(day, self.scenario.population.initial, opening=True)
            self.one_day(day)
            day_end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=self.tz)
            while self.queue and self.queue[0][0] < min(day_end, end):
                yield heapq.heappop(self.queue)[2]
        while self.queue and self.queue[0][0] < end:
            yield heapq.heappop(self.queue)[2]

    def one_day(self, day: date) -> None:
        working = day.weekday() < 5
        patrols = self.patrols(day, working)
        self.incidents_of(day, patrols)
        for patrol in patrols:
            self.push(PatrolLogged(
                id=patrol["id"], time=patrol["time"], actor=patrol["actor"], node=patrol["node"],
                minutes=patrol["minutes"], visits=patrol["visits"], hazards_found=patrol["hazards"],
            ))
        self.activities(day)
        if self.scenario.population is not None:
            population = self.scenario.population
            self.register(day, self.poisson(population.per_day))
            self.moves(day, self.poisson(population.moves_per_day))
        self.redemptions(day)
        self.campaigns.assign(day, self.scenario.tasks)
        self.campaigns.dock(day, self.scenario.deductions)
        if self.homes is not None:
            self.homes.day(day)

    # ------------------------------------------------------------ patrols

    def patrols(self, day: date, working: bool) -> list[dict[str, Any]]:
        done: list[dict[str, Any]] = []
        for plan in self.scenario.patrols:
            if not working and not plan.weekends:
                continue
            for member, node in self.holders([plan.role]):
                diligence = self.diligence[member]
                if self.rng.random() >= plan.chance * diligence:
                    continue
                if plan.coverage is not None:
                    cells = self.zone(plan.role, member, node)
                    count = round(len(cells) * self.uniform(plan.coverage) * diligence)
                else:
                    cells = self.cells_below(node)
                    count = self.rng.randint(*plan.cells)
                count = max(1, min(len(cells), count)) if cells else 0
                hour = self.uniform((8.5, 10.5))
                for cell in sorted(self.rng.sample(cells, count)):
                    minutes = self.rng.randint(*plan.minutes)
                    done.append({
                        "id": self.next_id(), "time": self.at(day, hour), "actor": member, "node": cell,
                        "minutes": minutes, "visits": self.rng.randint(*plan.visits), "hazards": 0,
                    })
                    hour += (minutes + self.rng.randint(*plan.between)) / 60
        return done

    def zone(self, role: str, member: str, seat: str) -> list[str]:
        """The cells below ``seat`` that are ``member``'s to patrol: an even share among its holders."""
        key = (role, member, seat)
        if key not in self.zones:
            colleagues = [m for m, n in self.holders([role]) if n == seat]
            cells = self.cells_below(seat)
            share = colleagues.index(member)
            self.zones[key] = cells[share::len(colleagues)] or cells
        return self.zones[key]

    # ------------------------------------------------------------ incidents

    def incidents_of(self, day: date, patrols: list[dict[str, Any]]) -> None:
        due = [item for item in self.recurring if item[0] == day]
        self.recurring = [item for item in self.recurring if item[0] != day]
        for _, _, plan, node, place in due:
            # The same problem again at the same place: found on the day's patrol
            # there if there is one, else a resident calls.
            there = [p for p in patrols if p["node"] == node]
            found: dict[str, Any] | None = self.rng.choice(there) if there else None
            if found is not None:
                reporter, channel = found["actor"], PATROL
                when = found["time"] + timedelta(minutes=found["minutes"] // 2)
            else:
                people = self.residents_of(node)
                if not people:
                    continue
                reporter, channel = self.rng.choice(people), "phone"
                when = self.at(day, self.uniform((7.0, 21.0)))
            if self.incident(plan, node, reporter, channel, when, place=place, again=True) and found is not None:
                found["hazards"] += 1
        for plan in self.scenario.incidents:
            for _ in range(self.poisson(plan.per_day)):
                channel = self.pick_weighted(self.scenario.channels)
                patrol: dict[str, Any] | None = None
                if channel == PATROL and patrols:
                    patrol = self.rng.choice(patrols)
                    node, reporter = patrol["node"], patrol["actor"]
                    when = patrol["time"] + timedelta(minutes=patrol["minutes"] // 2)
                else:
                    node = self.rng.choice(self.leaves)
                    people = self.residents_of(node)
                    if not people:
                        continue
                    reporter = self.rng.choice(people)
                    when = self.at(day, self.uniform((7.0, 21.0)))
                    if channel == PATROL:
                        channel = "phone"
                if self.incident(plan, node, reporter, channel, when) and patrol is not None:
                    patrol["hazards"] += 1

    def window(self, node: str, when: datetime) -> timedelta | None:
        """How long after a case's last report a report of its category at its place joins it: the
        ``duplicates`` rule of the ruleset governing ``node`` at ``when`` when the ladder is given (None:
        reports never join), else the scenario's ``duplicate_hours``."""
        if self.ladder is not None:
            return self.ladder.duplicates_window(node, when)
        return timedelta(hours=self.scenario.handling.duplicate_hours)

    def clashes(self, key: tuple[str, str], node: str, when: datetime, until: datetime) -> bool:
        """Would a report at ``when`` at ``node``, open until ``until``, meet another open case at the same place?

        The escalation plugin joins a report to an open case of the same category
        at the same place made within its duplicates window of the case's last
        report: an unrelated report must not land there by accident (deliberate
        repeat reports are made apart).
        """
        window = self.window(node, when)
        if window is None:
            return False
        for case in self.cases.get(key, ()):
            if case.reported <= when < case.open_until and when - case.last_report <= window:
                return True
            if when <= case.reported < until and case.reported - when <= window:
                return True
        return False

    def repeat_rules(self, node: str, when: datetime) -> list[tuple[int, timedelta]]:
        """The rules that send a case up when its problem is reported again, as (reports, window): the
        ``repeats`` rules of the ruleset governing ``node`` at ``when`` when the ladder is given (those
        sending it up a level; one calling a department in leaves it where it is), else the scenario's
        mirror of them (``repeat_reports`` within ``repeat_days``)."""
        if self.ladder is not None:
            policy = self.ladder.policy(node, when)
            return [] if policy is None else [(rule.count, rule.window) for rule in policy.repeats
                                              if rule.department is None]
        count = self.scenario.handling.repeat_reports
        return [(count, timedelta(days=self.scenario.handling.repeat_days))] if count > 0 else []

    def reports_within(self, key: tuple[str, str], when: datetime, window: timedelta) -> int:
        """Reports of ``key`` made in the repeats window ending at ``when`` (the engine's count)."""
        return sum(1 for t, _ in self.reports.get(key, ()) if when - window <= t <= when)

    def goes_up(self, key: tuple[str, str], node: str, when: datetime) -> bool:
        """Would a report at ``node`` at ``when`` be one a repeats rule sends up?"""
        return any(self.reports_within(key, when, window) + 1 >= count
                   for count, window in self.repeat_rules(node, when))

    def disturbs(self, key: tuple[str, str], node: str, when: datetime) -> bool:
        """Would a report at ``when`` turn a later one, handled below, into one that goes up?"""
        return any(when < t <= when + window and not high and self.reports_within(key, t, window) + 1 >= count
                   for count, window in self.repeat_rules(node, when) for t, high in self.reports.get(key, ()))

    def incident(self, plan: IncidentPlan, node: str, reporter: str, channel: str, when: datetime, *,
                 place: str | None = None, again: bool = False) -> bool:
        """Simulate one case from its report to its closing; False if it was not reported."""
        if place is None:
            places = self.places.get(node)
            place = self.rng.choice(places) if places else None
        key = (plan.category, f"place:{place}" if place else f"node:{node}")
        severity = self.rng.choices(range(1, 6), weights=plan.severity)[0]
        key_person = self.rng.random() < plan.key_person
        self.incidents += 1
        incident = f"{self.prefix}-i{self.incidents:05d}"
        report = IncidentReported(
            id=self.next_id(), time=when, actor=reporter, node=node, incident=incident,
            category=plan.category, severity=severity, place=place, channel=channel, key_person=key_person,
            description=plan.description,
        )
        # A problem that came back, or one the repeats rule sends up, is taken on
        # by the level above the cell.
        high = again or self.goes_up(key, node, when)
        queue, self.queue = self.queue, []
        try:
            resolved = self.handle(plan, report, high=high)
        finally:
            made, self.queue = self.queue, queue
        if self.clashes(key, node, when, resolved) or self.disturbs(key, node, when):
            # Someone else already reported this problem: nothing new to report.
            return False
        for event in (report, *(entry[2] for entry in made)):
            self.push(event)
        self.reports.setdefault(key, []).append((when, high))
        case = _Case(when, when, resolved, self.accepted, high)
        self.cases.setdefault(key, []).append(case)
        self.cases[key] = [c for c in self.cases[key] if c.open_until > when - timedelta(days=1)]
        if plan.duplicates and self.rng.random() < plan.duplicates:
            self.repeat_report(plan, report, case, key)
        if plan.recurrence and self.rng.random() < plan.recurrence:
            day = resolved.astimezone(self.tz).date() + timedelta(days=self.rng.randint(*plan.recurs_after_days))
            self.recurring.append((day, self.incidents, plan, node, place))
        return True

    def repeat_report(self, plan: IncidentPlan, first: IncidentReported, case: _Case,
                      key: tuple[str, str]) -> None:
        """Someone else reports the same open problem a little later (it joins the case).

        Not made when it would also join another case: one reported at the same
        place within the duplicates window after it (the repeat moves the case's
        last report, from which the window counts, so that case would join this
        one and its own handling be refused).
        """
        joins = self.window(first.node, first.time)
        if joins is None:
            return  # no duplicates rule: it would be a case of its own that nobody handles
        window = min(joins.total_seconds() / 3600, (case.open_until - first.time).total_seconds() / 3600)
        if window <= 0.2:
            return
        people = [p for p in self.residents_of(first.node) if p != first.actor]
        if not people:
            return
        when = (first.time + timedelta(hours=self.uniform((0.1, window * 0.9)))).replace(second=0, microsecond=0)
        if when <= first.time or self.disturbs(key, first.node, when):
            return
        if self.goes_up(key, first.node, when) and not (case.high and when < case.accepted):
            # It would send the case up under someone below who is working on it;
            # before anyone took a case the level above handles, it may.
            return
        self.incidents += 1
        ident, actor = self.next_id(), self.rng.choice(people)
        channel = self.pick_weighted({c: w for c, w in self.scenario.channels.items() if c != PATROL}
                                     or {"phone": 1.0})
        if any(other is not case and when <= other.reported <= when + joins for other in self.cases.get(key, ())):
            # (its numbers and draws spent all the same: the rest of the log is as it would have been)
            return
        case.last_report = when
        self.reports.setdefault(key, []).append((when, False))
        self.push(IncidentReported(
            id=ident, time=when, actor=actor, node=first.node, incident=f"{self.prefix}-i{self.incidents:05d}",
            category=first.category, severity=first.severity, place=first.place, channel=channel,
            key_person=first.key_person, description=plan.description,
        ))

    def handle(self, plan: IncidentPlan, report: IncidentReported, *, high: bool = False) -> datetime:
        """Queue the handling of a reported case; return when it stops being open (its last resolving).

        ``high``: the level above the cell takes it on.
        """
        handling = self.scenario.handling
        node, incident, reporter = report.node, report.incident, report.actor
        when: datetime = report.time
        roles = plan.handlers or handling.handlers
        first = (self.above(node) or node) if high else node
        found = None
        severe = bool(handling.severe_handlers) and (report.severity >= handling.severe_at_least
                                                     or report.key_person)
        if severe:
            start = node
            if handling.severe_level is not None and report.severity >= handling.severe_at_least:
                level_node = self.community.hierarchy.ancestor_at(node, handling.severe_level)
                start = level_node.id if level_node is not None else node
            found = self.nearest_at(start, handling.severe_handlers, besides=reporter, cell=node)
        # Reporting and closing one's own case earns nothing (escalation flags it), so
        # someone else at the same level takes it if there is anyone.
        found = (found or self.nearest_at(first, roles, besides=reporter, cell=node)
                 or self.nearest_at(first, handling.handlers, cell=node))
        if found is None and high and handling.escalated_handlers:
            # No handler's role is held above the cell: the level above takes it as it takes 提级办理.
            found = self.nearest_at(first, handling.escalated_handlers, besides=reporter, cell=node)
        if found is None:
            # Nobody here takes it on: it stays open and waits where it is; with the ladder, its accept
            # limits carry it up, and the staff of the level it reaches take it on (``unattended``).
            got = self.unattended(report)
            if got is None:
                self.accepted = when
                return self.end
            handler, here, t = got
            seat, planned = here.node, ("", "")
        else:
            handler, seat = found
            t = self.awake(when + timedelta(hours=self.slow(handling.accept_hours, handler)))
            planned = (handler, seat)
            here = None
            if self.ladder is not None:
                handler, seat, t, here = self.climbed(report, handler, seat, t)
        # (where the case is, and since when its handler's clock runs: ``held_to``)
        clock = None if here is None else _Clock.at(here)
        if plan.routed and plan.returned and self.steps_rng.random() < plan.returned:
            self.send_back(report, plan.routed, t)
        elif handling.assign_share and self.steps_rng.random() < handling.assign_share:
            assigned = self.assign(report, handler, seat, t)
            if clock is not None and assigned is not None:
                clock = attrs.evolve(clock, assignee=handler)
            if clock is not None and assigned is not None and assigned > clock.since:
                # (the handler's own clock starts there, the level's runs on)
                clock = attrs.evolve(clock, since=assigned, level_since=clock.level_since or clock.since)
                handler, seat, t, clock = self.assigned_late(report, handler, seat, t, clock)
        t = self.step(IncidentAccepted, t, handler, node, incident)
        self.accepted = t - timedelta(minutes=1)
        # (when handling starts is drawn first, so that a consultation slotted in
        # before it changes nothing else the seed gives)
        starts = self.awake(t + timedelta(minutes=self.rng.randint(5, 90)))
        if report.category in handling.consult_categories or report.severity >= handling.consult_at_least:
            self.consult(report, handler, t, starts)
        t = self.step(IncidentHandlingStarted, starts, handler, node, incident)
        before_moves = t
        whistling = bool(plan.whistle) and self.rng.random() < plan.whistle_share
        called = t + timedelta(minutes=self.rng.randint(10, 120)) if whistling else None
        if called is not None and clock is not None and not self.still_held(report, handler, clock, called):
            # Their own limit (or the level's) passed the case on or sent it up before they would call the
            # department in: no call (``held_to`` follows the case).
            called = None
        if called is not None and plan.whistle is not None:
            # Whistle-and-report (吹哨报到): the handler calls the line department in
            # where the handler works; one of its officers reports in (accepts) and
            # handles the case there.
            t = self.step(IncidentEscalated, called, handler, node,
                          incident, to_node=seat, department=plan.whistle, reason="吹哨报到: 需要条线部门协同处置")
            officer = self.officer(plan.whistle, node) or handler
            answered = self.awake(t + timedelta(minutes=self.rng.randint(20, 120))).replace(second=0, microsecond=0)
            if self.ladder is not None:
                handler, seat, answered = self.answered(report, plan.whistle, officer, seat,
                                                        t - timedelta(minutes=1), answered)
            else:
                handler = officer
            t = self.step(IncidentAccepted, answered, handler, node, incident)
            clock = None  # (a department called in works to its own limits, not the handler's)
        elif not whistling and not severe and handling.escalated_handlers:
            share = handling.escalated_share[report.severity - 1] * (2 - self.diligence[handler])
            above = self.above(seat)
            taken = self.nearest_at(above, handling.escalated_handlers, cell=node) if above else None
            if taken is not None and self.rng.random() < share:
                # Escalated handling (提级办理): after trying for a few hours the level
                # cannot cope; the leader above takes the case up to their own node
                # (unless the handler's own limit passed it on or sent it up by then).
                leader, up = taken
                when = self.awake(t + timedelta(hours=self.uniform(handling.escalated_after_hours))
                                  ).replace(second=0, microsecond=0)
                if clock is None or self.still_held(report, handler, clock, when):
                    self.place(IncidentEscalated, when, leader, node, incident, to_node=up,
                               reason="提级办理: 网格内难以处置")
                    comes = self.awake(when + timedelta(minutes=1 + self.rng.randint(10, 90))
                                       ).replace(second=0, microsecond=0)
                    waited = None if clock is None else self.waiting(report, handler, up, when, (leader, comes),
                                                                     departments=clock.departments)
                    if waited is not None:
                        # (it waits at the seat above, held to its limits there and to its handler's own)
                        leader, up, comes, clock = waited
                    handler, seat = leader, up
                    self.place(IncidentAccepted, comes, handler, node, incident)
                    t = comes + timedelta(minutes=1)
        moved = t != before_moves or (handler, seat) != planned
        approved = None
        if (handling.extension_share and not (moved or severe or high)
                and self.steps_rng.random() < handling.extension_share):
            approved = self.extension(report, handler, t)
        if self.rng.random() < handling.pause_share:
            t = self.step(IncidentPaused, t + timedelta(hours=1), handler, node, incident, reason="等待配件/居民配合")
            paused = t - timedelta(minutes=1)
            t = self.step(IncidentResumed, t + timedelta(hours=self.uniform(handling.pause_hours)), handler, node,
                          incident)
            if clock is not None:
                clock = attrs.evolve(clock, stopped=((paused, t - timedelta(minutes=1)),))
        if approved is not None and clock is not None and self.still_held(report, handler, clock, approved):
            # A day more on the level's resolve limit and on the handler's, from its approval: approved
            # after a limit passed the case on or sent it up, the request had lapsed (``held_to`` drops it).
            clock = clock.extended(1)
        t += timedelta(hours=self.slow(handling.resolve_hours, handler))
        verifier = self.nearest(node, handling.verifier)
        if clock is not None:
            handler, t, clock = self.held_to(report, handler, clock, t)
        if verifier is None:
            return self.step(IncidentResolved, t, handler, node, incident)
        resolved = t
        for round_ in range(2):
            t = self.step(IncidentResolved, t, handler, node, incident)
            resolved = t
            t += timedelta(hours=self.uniform(handling.verify_hours))
            score = self.rng.choices(range(1, 6), weights=handling.satisfaction)[0]
            if self.rng.random() >= self.diligence[handler]:
                score = max(1, score - 1)  # hurried work shows
            if round_ == 1:
                score = max(score, handling.reopen_at_most + 1)
            t = self.awake(t)
            if handling.feedback_hours is not None:
                self.feedback(report, handler, resolved, t)
            t = self.step(IncidentVerified, t, verifier, node, incident, satisfaction=score)
            if score > handling.reopen_at_most:
                self.rating(node, incident, reporter, t, score)
                break
            # An unsatisfied verification reopens the case (the escalation plugin
            # records that itself); the handler is told and takes it on again at once.
            reopened = t - timedelta(minutes=1)
            comes = self.awake(t + timedelta(hours=self.slow(handling.accept_hours, handler))
                               ).replace(second=0, microsecond=0)
            if clock is not None and not self.community.holds_staff_role_at_or_above(handler, clock.node):
                # The case had moved up past its handler (their own limit sent it, with nobody in the cell
                # to pass it to): the rework is taken on where it is.
                waited = self.waiting(report, handler, clock.node, reopened, None, rework=True,
                                             departments=clock.departments)
                if waited is None:
                    return self.end  # (nobody there: it stays open, as in the engine)
                assignee = clock.assignee
                handler, _, comes, clock = waited
                if assignee is not None and assignee != handler:
                    # The engine still names the one it was assigned (or passed) to, who may not act up here:
                    # only they may take it on, so whoever takes the rework on reassigns it to themselves.
                    self.place(IncidentAssigned, comes, handler, node, incident, handler=handler,
                               reason=REASSIGN_REASON)
                    comes += timedelta(minutes=1)
                    clock = attrs.evolve(clock, assignee=handler)
            self.place(IncidentAccepted, comes, handler, node, incident)
            t = comes + timedelta(minutes=1)
            t += timedelta(hours=self.slow(handling.resolve_hours, handler))
            if clock is not None:
                # (the reopened case's clocks start again at the verification)
                handler, t, clock = self.held_to(report, handler, clock.moved(clock.node, reopened, clock.department), t)
        if handling.close:
            self.step(IncidentClosed, t + timedelta(minutes=self.rng.randint(10, 240)), verifier, node, incident)
        return resolved

    def climbed(self, report: IncidentReported, handler: str, seat: str, planned: datetime
                ) -> tuple[str, str, datetime, Stop]:
        """Who takes the case on, seated where, and when, given where the ladder has it waiting by then.

        The planned handler takes it at ``planned`` if it still waits where
        they may act; else, from the level it has reached (or the one a rule
        sent it to at once), someone there (``taker``) takes it
        ``climbed_accept_hours`` after it arrived, unless that level's accept
        limit runs out first and carries it further up; at the top they take
        it however late (overdue).  Every draw comes from the ladder's stream.
        Last, the stop where it waited when taken on.
        """
        stops = self.stops(report)
        reached = next((k for k, stop in enumerate(stops) if stop.due is None or planned < stop.due),
                       len(stops) - 1)
        if reached == 0 and self.community.holds_staff_role_at_or_above(handler, stops[0].node):
            return handler, seat, planned, stops[0]
        got = self.taken(report, stops[reached:])
        if got is None:
            return handler, seat, planned, stops[reached]
        taker, stop, when = got
        return taker, stop.node, when, stop

    def assigned_late(self, report: IncidentReported, handler: str, seat: str, taken: datetime, clock: _Clock
                      ) -> tuple[str, str, datetime, _Clock]:
        """Who takes on a case assigned to ``handler`` (派单) whose own accept limit (办理人时限) runs out
        before they would take it on at ``taken``: the holder of the role the limit passes it to, 10 to
        60 minutes after (they are told at once); with nobody named, the engine sends the case up, and it
        is taken on where it goes (``taken``).  Draws from the ladder's stream."""
        assert self.ladder is not None
        due = self.ladder.handler_due(report.node, clock.node, handler, report.time, clock.since,
                                      limit_name="accept", department=clock.department, departments=clock.departments)
        if due is None or taken < due.time:
            return handler, seat, taken, clock
        if due.passed_to is not None:
            return (due.passed_to, seat, due.time + timedelta(minutes=self.ladder_rng.randint(10, 60)),
                    clock.passed(due.time, due.passed_to))
        if due.above is None:
            return handler, seat, taken, clock
        got = self.taken(report, self.ladder.arrived(due.above, report.category, report.severity, report.key_person,
                                                     report.channel, due.time, report.time, due.department,
                                                     clock.departments))
        if got is None:
            return handler, seat, taken, clock
        taker, stop, when = got
        return taker, stop.node, when, _Clock.at(stop)

    def held_to(self, report: IncidentReported, handler: str, clock: _Clock, resolves: datetime
                ) -> tuple[str, datetime, _Clock]:
        """Who resolves the case, when, and where its clock then runs, given the handler's own limit
        (办理人时限, read from the ladder) and a resolution planned at ``resolves``.

        A handler who would resolve it after their limit runs out does not: at
        that moment the engine passes the case to the role the limit names in
        the cell, and what the handler would have done from then on is not
        done (their steps, the answer to their request for more time); the
        new handler takes it on 10 to 60 minutes later (they are told at once)
        and resolves it as any handler would, held to their own limit in turn.
        With nobody to pass it to (the limit's ``then pass to`` role nobody
        holds there), the engine sends the case up with its handler still on
        it: nothing changes for the staff, but the clock returned is at the
        node the case reached (where a rework is taken on: ``handle``), and
        the handler's own limit runs again from its arrival there.  Every
        draw comes from the ladder's stream.  Called while ``self.queue`` holds only this
        case's steps (``incident``).
        """
        assert self.ladder is not None
        handling = self.scenario.handling
        # (the resolution waits for the morning as ``step`` has it: no draw is left for ``step``)
        resolves = self.awake(resolves).replace(second=0, microsecond=0)
        for _ in range(2 * len(self.community.hierarchy.levels) + 2):
            due = self.handler_due(report, handler, clock)
            level = self.level_due(report, clock)
            if level is not None and level[0] <= resolves and (due is None or level[0] < due.time):
                if level[1] is None:
                    break
                # The level's own resolve limit runs out first: the engine sends the case up with its
                # handler still on it (who goes on), or summons the line department the level's limit
                # routes to where it is, and its clocks start again there.
                self.lapsed(level[0])
                clock = clock.moved(level[1][0], level[0], level[1][1])
                continue
            if due is None or resolves < due.time:
                break
            if due.passed_to is None:
                if due.above is None:
                    break
                # Nobody in the cell to pass it to (a role nobody holds): the engine sends the case up with
                # its handler still on it (or summons the department the level's limit routes to), and
                # their own clock starts again there.
                self.lapsed(due.time)
                clock = clock.moved(due.above, due.time, due.department)
                continue
            undone = (ExtensionApproved, ExtensionRefused)
            self.queue = [entry for entry in self.queue
                          if entry[0] < due.time or not (entry[2].actor == handler or isinstance(entry[2], undone))]
            heapq.heapify(self.queue)
            handler, clock = due.passed_to, clock.passed(due.time, due.passed_to)
            taken = due.time + timedelta(minutes=self.ladder_rng.randint(10, 60))
            level = self.level_due(report, clock)
            if level is not None and level[1] is not None and level[0] <= taken:
                # The level's own resolve limit (its clock running on from the case's arrival, with what an
                # extension added) runs out before the new handler takes it on: the engine sends the case on
                # with nobody on it, and it is taken on where it goes (``taken``).
                got = self.taken(report, self.ladder.arrived(level[1][0], report.category, report.severity,
                                                             report.key_person, report.channel, level[0],
                                                             report.time, level[1][1], clock.departments))
                if got is not None:
                    handler, stop, taken = got
                    clock = _Clock.at(stop)
            self.place(IncidentAccepted, taken, handler, report.node, report.incident)
            starts = taken + timedelta(minutes=self.ladder_rng.randint(5, 60))
            self.place(IncidentHandlingStarted, starts, handler, report.node, report.incident)
            resolves = self.awake(starts + timedelta(hours=self.slow(handling.resolve_hours, handler, self.ladder_rng)),
                                  self.ladder_rng).replace(second=0, microsecond=0)
        return handler, resolves, clock

    def lapsed(self, at: datetime) -> None:
        """The case moved on at ``at``: a request for more time still waiting lapses (the plugin's
        ``lapse_extension``), so its answer from then on is not given.  Called while ``self.queue`` holds only
        this case's steps (``incident``)."""
        kept = [entry for entry in self.queue
                if entry[0] < at or not isinstance(entry[2], (ExtensionApproved, ExtensionRefused))]
        if len(kept) != len(self.queue):
            self.queue = kept
            heapq.heapify(self.queue)

    def still_held(self, report: IncidentReported, handler: str, clock: _Clock, when: datetime) -> bool:
        """True if the case ``handler`` holds is still theirs, where its ``clock`` is, at ``when``: neither their
        own limit (办理人时限) nor the level's resolve limit has run out by then (passing it to someone in the
        cell, or sending it up)."""
        assert self.ladder is not None
        due = self.handler_due(report, handler, clock)
        level = self.level_due(report, clock)
        return (due is None or when < due.time) and (level is None or when < level[0])

    def handler_due(self, report: IncidentReported, handler: str, clock: _Clock) -> HandlerDue | None:
        """When ``handler``'s own resolve limit runs out on the case where its ``clock`` is, and whom it is
        passed to then or where it is sent (``Ladder.handler_due``)."""
        assert self.ladder is not None
        return self.ladder.handler_due(report.node, clock.node, handler, report.time, clock.since, clock.stopped,
                                       clock.handler_extra_days, department=clock.department,
                                       departments=clock.departments)

    def level_due(self, report: IncidentReported, clock: _Clock) -> tuple[datetime, Target | None] | None:
        """When the level's own resolve limit runs out on the case where its ``clock`` is, and where it
        sends the case then (``Ladder.resolve_due``)."""
        assert self.ladder is not None
        return self.ladder.resolve_due(clock.node, report.category, report.severity, report.key_person,
                                       report.channel, report.time, clock.level_since or clock.since, clock.stopped,
                                       clock.extra_days, clock.department, clock.departments)

    def own_clock(self, report: IncidentReported, handler: str, node: str, since: datetime, *, accepting: bool,
                  departments: tuple[str, ...] = ()) -> HandlerDue | None:
        """The first of ``handler``'s own limits to run out on the case while it waits at ``node`` for someone
        to take it on (their clock running from ``since``, its arrival there): the accept limit too unless it
        is rework (``accepting``), as the engine runs them while nobody else has taken it on."""
        assert self.ladder is not None
        names = ("accept", "resolve") if accepting else ("resolve",)
        dues = [due for name in names
                if (due := self.ladder.handler_due(report.node, node, handler, report.time, since,
                                                   limit_name=name, departments=departments)) is not None]
        return min(dues, key=lambda due: due.time) if dues else None

    def waiting(self, report: IncidentReported, previous: str, node: str, arrives: datetime,
                first: tuple[str, datetime] | None, *, rework: bool = False, departments: tuple[str, ...] = ()
                ) -> tuple[str, str, datetime, _Clock] | None:
        """Who takes on a case waiting at ``node`` since ``arrives`` that ``previous`` handled below, seated
        where, when, and its clock there; ``first``: who was to take it on there and when (None: someone
        there, ``taker``).

        While it waits, the engine holds it to the level's accept limit there
        (not on ``rework``, a case reopened at a level that had it) and to
        ``previous``'s own limits (办理人时限: still its handler's, their clock
        from its arrival): the first to run out before anyone comes passes it
        to the role the limit names in the cell (they take it on 10 to 60
        minutes after), or sends it up, where someone there takes it on
        ``climbed_accept_hours`` after it arrived, and so on up; at the top
        they take it however late.  A level's limit routing it to a line
        department summons that department where it waits, whose officers take
        it on (``taken``).  ``departments``: those on the case.  None: nobody
        anywhere on the way.  Draws from the ladder's stream (but ``first``'s).
        """
        assert self.ladder is not None
        hours = self.scenario.handling.climbed_accept_hours
        taker, when = first if first is not None else (None, None)
        found: tuple[str, str, datetime, _Clock] | None = None
        for _ in range(len(self.community.hierarchy.levels) + 1):
            if first is None:
                taker = self.taker(node, besides=report.actor)
                when = None if taker is None else self.awake(
                    arrives + timedelta(hours=self.slow(hours, taker, self.ladder_rng)),
                    self.ladder_rng).replace(second=0, microsecond=0)
            if taker is not None and when is not None:
                found = (taker, node, when, _Clock(node, arrives, departments=departments))
            stops = [] if rework else self.ladder.arrived(node, report.category, report.severity, report.key_person,
                                                         report.channel, arrives, report.time,
                                                         departments=departments)
            level = stops[0].due if stops else None
            if rework:
                # (reopened where it is: only the level's resolve limit runs, from the reopening; its breach
                # sends the case on, to be accepted there)
                resolve = self.ladder.resolve_due(node, report.category, report.severity, report.key_person,
                                                  report.channel, report.time, arrives, departments=departments)
                if resolve is not None and resolve[1] is not None:
                    level = resolve[0]
                    stops = [Stop(node, arrives, level, None, departments),
                             *self.ladder.arrived(resolve[1][0], report.category, report.severity,
                                                  report.key_person, report.channel, level, report.time,
                                                  resolve[1][1], departments)]
            own = self.own_clock(report, previous, node, arrives, accepting=not rework, departments=departments)
            due = min((d for d in (level, None if own is None else own.time) if d is not None), default=None)
            if due is None or (when is not None and when < due):
                return found
            if own is not None and own.time == due:
                if own.passed_to is not None:
                    comes = own.time + timedelta(minutes=self.ladder_rng.randint(10, 60))
                    return own.passed_to, node, comes, _Clock(node, own.time, departments=departments)
                up, department = own.above, own.department
                onward = [] if up is None or department is None else self.ladder.arrived(
                    up, report.category, report.severity, report.key_person, report.channel, due, report.time,
                    department, departments)
            else:
                up = stops[1].node if len(stops) > 1 else None
                department, onward = (stops[1].department, stops[1:]) if len(stops) > 1 else (None, [])
            if up is None:
                return found  # (at the top: taken on however late, overdue)
            rework = False  # (sent on, it is to be accepted where it arrives)
            if department is not None:
                # A line department summoned where it waits (the level's limit routes to it): its officers
                # take it on, or the places its limits carry it to (``taken``).
                got = self.taken(report, onward)
                return found if got is None else (got[0], got[1].node, got[2], _Clock.at(got[1]))
            node, arrives, first, taker, when = up, due, None, None, None
        return found

    def stops(self, report: IncidentReported) -> list[Stop]:
        """Where the case of ``report`` waits to be accepted if nobody does (``Ladder.stops``), the
        reports of its problem before it counted for the ruleset's repeats rules."""
        assert self.ladder is not None
        key = (report.category, f"place:{report.place}" if report.place else f"node:{report.node}")
        earlier = [t for t, _ in self.reports.get(key, ()) if t <= report.time]
        return self.ladder.stops(report.node, report.category, report.severity, report.key_person,
                                 report.channel, report.time, earlier)

    def unattended(self, report: IncidentReported) -> tuple[str, Stop, datetime] | None:
        """Who takes on a case nobody where it starts may take on, seated where, and when: it waits
        there until its accept limit carries it up, and is taken on at the first level it reaches
        where someone comes (``taken``); None without the ladder, or with nobody on the way up (it
        stays open, as in the engine)."""
        if self.ladder is None:
            return None
        return self.taken(report, self.stops(report)[1:])

    def answered(self, report: IncidentReported, department: str, officer: str, seat: str, whistled: datetime,
                 planned: datetime) -> tuple[str, str, datetime]:
        """Who takes the case on after its handler at ``seat`` called ``department`` in at ``whistled``.

        ``officer`` reports in at ``planned`` if that is before the department's
        report limit runs out (its 部门时限, from the ladder); else the engine
        has carried the case up by then, and it is taken on where it reached
        (``taken``), the officer never coming.
        """
        assert self.ladder is not None
        routed = self.ladder.routed(report.node, report.category, report.severity, report.key_person,
                                    report.channel, report.time)
        stops = self.ladder.summoned(seat, department, report.category, report.severity, report.key_person,
                                     report.channel, whistled, report.time, routed)
        if stops[0].due is None or planned < stops[0].due:
            return officer, seat, planned
        got = self.taken(report, stops[1:])
        return (officer, seat, planned) if got is None else (got[0], got[1].node, got[2])

    def taken(self, report: IncidentReported, stops: Sequence[Stop]) -> tuple[str, Stop, datetime] | None:
        """Who takes on a case waiting at ``stops`` (the first where someone comes before its limit runs
        out, or the last), at which stop, and when; None if nobody is there.  At a stop where a line
        department is summoned, one of its officers on the case's branch.  Draws from the ladder's stream."""
        hours = self.scenario.handling.climbed_accept_hours
        taken: tuple[str, Stop, datetime] | None = None
        for stop in stops:
            officers = [] if stop.department is None else sorted(
                department_members(self.community, stop.department, stop.node, report.node))
            if officers:
                # a line department summoned there (吹哨报到): one of its officers on the case's branch
                # reports in as a called-in department does (``handle``: 20 minutes to 2 hours)
                taker = self.ladder_rng.choice(officers)
                when = self.awake(stop.arrives + timedelta(minutes=self.ladder_rng.randint(20, 120)),
                                  self.ladder_rng).replace(second=0, microsecond=0)
                taken = (taker, stop, when)
                if stop.due is None or when < stop.due:
                    break
                continue
            taker = self.taker(stop.node, besides=report.actor)
            if taker is None:
                continue
            when = self.awake(stop.arrives + timedelta(hours=self.slow(hours, taker, self.ladder_rng)),
                              self.ladder_rng).replace(second=0, microsecond=0)
            taken = (taker, stop, when)
            if stop.due is None or when < stop.due:
                break
        return taken

    def taker(self, node: str, *, besides: str) -> str | None:
        """Someone at ``node`` itself to take on a case waiting there: a holder of the first of the
        scenario's ``climbed_handlers`` held there, else of any staff role without a department."""
        holders = [(m.id, a.role) for m in self.community.holders(node) for a in m.roles
                   if a.node == node and a.department is None and a.role != RESIDENT_ROLE]
        for role in self.scenario.handling.climbed_handlers:
            wanted = [(m, r) for m, r in holders if r == role]
            if wanted:
                holders = wanted
                break
        people = sorted({m for m, _ in holders if m != besides}) or sorted({m for m, _ in holders})
        return self.ladder_rng.choice(people) if people else None

    def consult(self, report: IncidentReported, handler: str, taken: datetime, starts: datetime) -> None:
        """The handler pulls the teams together (会商) just before handling starts at ``starts``.

        The participants are the handler and the nearest holder of each
        ``consult_with`` role; every draw comes from the steps' own stream.
        """
        people = [handler]
        for role in self.scenario.handling.consult_with:
            found = self.nearest(report.node, [role], besides=handler, rng=self.steps_rng)
            if found is not None and found not in people:
                people.append(found)
        gap = min(timedelta(minutes=30), (starts - taken) / 2)
        self.place(ConsultationHeld, starts - gap, handler, report.node, report.incident, participants=tuple(people),
                   decision=self.steps_rng.choice(CONSULT_DECISIONS))

    def extension(self, report: IncidentReported, handler: str, since: datetime) -> datetime | None:
        """Early in the handling, the handler asks for one more day (延期); the nearest approver answers.

        Both fall in the first part of the shortest handling the scenario
        allows, so before the case is resolved whatever the draws.  When a
        day more was given, the time of the approval (to the minute), else None.
        """
        handling = self.scenario.handling
        approver = self.nearest(report.node, handling.extension_approver, besides=handler, rng=self.steps_rng)
        if approver is None or approver == handler:
            return None
        room = timedelta(hours=handling.resolve_hours[0])
        asked = since + room * self.steps_rng.uniform(0.1, 0.4)
        answered = since + room * self.steps_rng.uniform(0.5, 0.9)
        self.place(ExtensionRequested, asked, handler, report.node, report.incident, days=1,
                   reason=self.steps_rng.choice(EXTENSION_REASONS))
        if self.steps_rng.random() < handling.extension_refused_share:
            self.place(ExtensionRefused, answered, approver, report.node, report.incident, reason="请按原时限办结")
            return None
        self.place(ExtensionApproved, answered, approver, report.node, report.incident)
        return answered.replace(second=0, microsecond=0)

    def send_back(self, report: IncidentReported, department: str, taken: datetime) -> None:
        """An officer of the department the case was routed to finds it is not its remit (退单),
        before the handler takes it on at ``taken``."""
        officer = self.officer(department, report.node, rng=self.steps_rng)
        if officer is None:
            return
        when = report.time + (taken - report.time) / 2
        if when - report.time < timedelta(minutes=1):
            return
        self.place(IncidentReturned, when, officer, report.node, report.incident, department=department,
                   reason=self.steps_rng.choice(RETURN_REASONS))

    def assign(self, report: IncidentReported, handler: str, seat: str, taken: datetime) -> datetime | None:
        """The nearest ``assigned_by`` at or above the handler's seat gives the case to the handler (派单)
        before they take it on at ``taken``, at the time returned (None: nobody did); every draw comes from
        the steps' own stream."""
        leader = self.nearest(seat, self.scenario.handling.assigned_by, besides=handler, rng=self.steps_rng)
        when = report.time + (taken - report.time) * self.steps_rng.uniform(0.3, 0.7)
        if leader is None or leader == handler or when - report.time < timedelta(minutes=2):
            return None
        self.place(IncidentAssigned, when, leader, report.node, report.incident, handler=handler,
                   reason=self.steps_rng.choice(ASSIGN_REASONS))
        assigned: datetime = when.replace(second=0, microsecond=0)
        return assigned

    def feedback(self, report: IncidentReported, handler: str, resolved: datetime, verified: datetime) -> None:
        """The handler tells the reporter what was done (反馈), between the resolution and the verification."""
        hours = self.scenario.handling.feedback_hours
        assert hours is not None
        after = timedelta(hours=self.steps_rng.uniform(*hours))
        when = min(resolved + after, resolved + (verified - resolved) / 2)
        self.place(FeedbackGiven, when, handler, report.node, report.incident, note="已告知处理结果",
                   channel=self.steps_rng.choice(("phone", "visit")))

    def place(self, cls: type[IncidentEvent], when: datetime, actor: str, node: str, incident: str,
              **extra: Any) -> None:
        """Record a step at ``when`` (to the minute) as it is: no waiting for the morning, no draw."""
        self.push(cls(id=self.next_id(), time=when.replace(second=0, microsecond=0), actor=actor, node=node,
                      incident=incident, **extra))

    def slow(self, span: tuple[float, float], member: str, rng: random.Random | None = None) -> float:
        """Hours for ``member`` to do something: a less diligent member draws nearer the top of ``span``."""
        return float(span[0] + (span[1] - span[0]) * (rng or self.rng).random() ** self.diligence[member])

    def officer(self, department: str, node: str, rng: random.Random | None = None) -> str | None:
        """A member of ``department``, preferring one whose role covers ``node``."""
        members = sorted(m.id for m in self.community.department_members(department))
        near = [m for m in members if self.community.is_within_cells(m, node)]
        pool = near or members
        return (rng or self.rng).choice(pool) if pool else None

    def step(self, cls: type[IncidentEvent], when: datetime, actor: str, node: str, incident: str, **extra: Any) -> datetime:
        when = self.awake(when).replace(second=0, microsecond=0)
        self.push(cls(id=self.next_id(), time=when, actor=actor, node=node, incident=incident, **extra))
        return when + timedelta(minutes=1)

    def rating(self, node: str, incident: str, reporter: str, when: datetime, verified: int) -> None:
        if self.rng.random() >= self.scenario.handling.rating_share:
            return
        people = self.residents_of(node)
        rater = reporter if reporter in people else (self.rng.choice(people) if people else None)
        outsider = False
        if self.rng.random() < self.scenario.mistakes.outsider_rating:
            outsider_cell = self.rng.choice(self.leaves)
            outsiders = [p for p in self.residents_of(outsider_cell) if outsider_cell != node]
            rater = self.rng.choice(outsiders) if outsiders else rater
            outsider = bool(outsiders)
        if rater is None:
            return
        score = max(1, min(5, verified + self.rng.choice((-1, 0, 0, 0, 1))))
        hours = self.rng.uniform(1, 48)
        ident = self.next_id()
        if outsider:
            self.staged[ident] = OUTSIDER_RATING
        self.push(SatisfactionRated(
            id=ident, time=(when + timedelta(hours=hours)).replace(second=0, microsecond=0),
            actor=rater, node=node, incident=incident, score=score,
        ))

    # ------------------------------------------------------------ activities and points

    def participants(self, plan: ActivityPlan) -> list[tuple[str, str]]:
        """(person, node) of everyone who may take part, deterministic order."""
        found = []
        seen = set()
        for member, node in self.holders([r for r in plan.roles if r != REGISTERED]):
            if member in seen:
                continue
            if plan.party_members_only and not self.community.members[member].party_member:
                continue
            seen.add(member)
            home = self.community.members[member].home
            found.append((member, home if home is not None and self.community.hierarchy.is_within(home, node)
                          else node))
        if REGISTERED in plan.roles:
            for person in sorted(self.registered):
                if plan.party_members_only and person not in self.registered_party:
                    continue
                found.append((person, self.registered[person]))
        return found

    def activities(self, day: date) -> None:
        for plan in self.scenario.activities:
            if plan.weekdays and day.weekday() not in plan.weekdays:
                continue
            for person, node in self.participants(plan):
                if self.rng.random() >= plan.chance:
                    continue
                hours = round(self.uniform(plan.hours) * 2) / 2 if plan.hours else 0.0
                quantity = float(self.rng.randint(*plan.quantity)) if plan.quantity else 1.0
                actor = person
                if plan.recorder is not None:
                    actor = self.nearest(node, (plan.recorder,)) or person
                self.push(ActivityRecorded(
                    id=self.next_id(), time=self.at(day, self.uniform((8.0, 20.0))), actor=actor, node=node,
                    activity=plan.activity, member=person, hours=max(hours, 0.5) if plan.hours else 0.0,
                    quantity=quantity,
                ))
                self.activity_count[person] = self.activity_count.get(person, 0) + 1

    def redemptions(self, day: date) -> None:
        plan = self.scenario.redemptions
        if plan is None or not plan.rewards:
            return
        everything = {name: reward.weight for name, reward in plan.rewards.items()}
        for person in sorted(self.activity_count):
            choices = plan.within_reach(self.activity_count[person])
            early = not choices
            if early:
                # A mistake on purpose: trying with too little behind it.
                if self.rng.random() >= self.scenario.mistakes.early_redemption:
                    continue
                choices = everything
            if self.rng.random() >= plan.chance:
                continue
            node = self.registered.get(person) or self.home_of(person)
            ident = self.next_id()
            self.staged[ident] = EARLY_REDEMPTION if early else REDEMPTION
            self.push(PointsRedeemed(
                id=ident, time=self.at(day, self.uniform((9.0, 17.0))), actor=person, node=node,
                reward=self.pick_weighted(choices),
            ))
            self.activity_count[person] = 0

    def home_of(self, member: str) -> str:
        found = self.community.members[member]
        if found.home is not None:
            return found.home
        cells = self.community.cells_of(member)
        return cells[0] if cells else self.leaves[0]

    # ------------------------------------------------------------ population

    def register(self, day: date, count: int, *, opening: bool = False) -> None:
        plan = self.scenario.population
        assert plan is not None
        for _ in range(count):
            leaf = self.rng.choice(self.leaves)
            registrar = self.nearest(leaf, plan.registrars)
            if registrar is None:
                continue
            self.people += 1
            person = f"{self.prefix}-p{self.people:05d}"
            groups = sorted(plan.special_groups)
            special = next((g for g in groups if self.rng.random() < plan.special_groups[g]), None)
            party = self.rng.random() < plan.party_share
            when = self.at(day, self.uniform((0.0, 0.5) if opening else (9.0, 17.0)))
            self.push(ResidentRegistered(
                id=self.next_id(), time=when, actor=registrar, node=leaf, person=person,
                name=_resident_name(self.rng), floating=self.rng.random() < plan.floating_share,
                key_person=self.rng.random() < plan.key_person_share, special_group=special, party_member=party,
            ))
            self.registered[person] = leaf
            self.registered_on[person] = day
            if party:
                self.registered_party.add(person)

    def moves(self, day: date, count: int) -> None:
        plan = self.scenario.population
        assert plan is not None
        settled = sorted(p for p, on in self.registered_on.items() if on < day)
        for _ in range(count):
            if not settled:
                return
            person = self.rng.choice(settled)
            old = self.registered[person]
            new = self.rng.choice(self.leaves)
            registrar = self.nearest(new, plan.registrars)
            if registrar is None or new == old:
                continue
            self.push(ResidentMoved(
                id=self.next_id(), time=self.at(day, self.uniform((9.0, 17.0))), actor=registrar, node=new,
                person=person, from_node=old,
            ))
            self.registered[person] = new


@frozen
class _Clock:
    """Where a case is held to its handler's own limits and its level's: its ``node``, since when the
    handler's clock runs, the stretches it ``stopped`` (paused), and the days an extension added to the
    level's resolve limit (``extra_days``) and to the handler's (``handler_extra_days``)."""

    node: str
    since: datetime
    stopped: tuple[tuple[datetime, datetime], ...] = ()
    extra_days: int = 0
    #: since when the level's own clock runs there, when not ``since`` (an assignment restarts the handler's only)
    level_since: datetime | None = None
    #: the line department summoned where the case is (its limits replace the level's), and every one on the case
    department: str | None = None
    departments: tuple[str, ...] = ()
    handler_extra_days: int = 0
    #: whom the case is assigned to (派单, or passed on by a handler limit): the engine keeps them named until
    #: the case is sent on with nobody on it, and only they take it on again (a rework), unless reassigned
    assignee: str | None = None

    @classmethod
    def at(cls, stop: Stop) -> _Clock:
        """The clock of a case waiting at ``stop`` since it arrived there."""
        return cls(stop.node, stop.arrives, department=stop.department, departments=stop.departments)

    def moved(self, node: str, at: datetime, department: str | None = None) -> _Clock:
        """The clock of the case sent up to ``node`` at ``at`` (or kept at its node with ``department``
        summoned there), its handler still on it: both clocks from then, what an extension added gone
        (the plugin's ``restart_clock``), the stretches it is still paused kept."""
        on = (*self.departments, department) if department and department not in self.departments else self.departments
        return _Clock(node, at, tuple((max(paused, at), resumed) for paused, resumed in self.stopped if resumed > at),
                      department=department, departments=on, assignee=self.assignee)

    def passed(self, at: datetime, to: str) -> _Clock:
        """The clock of the case passed to another handler at ``at`` inside its level (an assignment): the
        handler's own clock from then, without what an extension added to it; the level's runs on, with
        what an extension added to it (the plugin's ``restart_handler_clock``), ``to`` named its handler.  A
        pause the last handler would have made from then on is not made (``held_to`` leaves their steps out)."""
        return attrs.evolve(self, since=at, level_since=self.level_since or self.since, handler_extra_days=0,
                            assignee=to, stopped=tuple((paused, min(resumed, at)) for paused, resumed in self.stopped
                                                       if paused < at))

    def extended(self, days: int) -> _Clock:
        """The clock with ``days`` more on both resolve limits (an approved extension, 延期)."""
        return attrs.evolve(self, extra_days=self.extra_days + days, handler_extra_days=self.handler_extra_days + days)


@define
class _Case:
    """A simulated case: when it was first and last reported, and when it stopped being open."""

    reported: datetime
    last_report: datetime
    open_until: datetime
    accepted: datetime
    high: bool


_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高梁郑谢宋唐许韩冯邓曹彭曾肖田董袁潘蔡蒋余"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚英华玉兰红建国志文斌辉鹏飞宇婷雪梅琳晨"


#: What a consultation (会商) decides, and why a handler asks for more time (延期).
CONSULT_DECISIONS = ("网格内联合处置", "请条线部门配合处置", "约谈当事人后限期整改", "物业与网格共同处置")
RETURN_REASONS = ("不属于本部门职责", "属物业管理范围", "应由属地网格处置")
EXTENSION_REASONS = ("等待配件", "需协调物业", "当事人外出", "等待条线部门答复")
ASSIGN_REASONS = ("就近处置", "熟悉情况", "分片负责")
#: Why a rework taken on above its handler's level is first reassigned (改派) to whoever takes it on.
REASSIGN_REASON = "改派: 原办理人无权在此层级办理返工"


def _resident_name(rng: random.Random) -> str:
    return rng.choice(_SURNAMES) + "".join(rng.choice(_GIVEN) for _ in range(rng.choice((1, 2))))
