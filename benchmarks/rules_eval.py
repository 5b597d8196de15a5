"""Compiled rules vs the same rules written by hand in Python, measured in one run.

A representative points-like ruleset (activities with per-hour rates and
conditions on the member, a patrol formula, an incident severity ladder, in
English and Chinese) is compiled by gridcore's rules compiler.  The same rules
are written as plain Python functions.  Both are driven by the same loop over
the same events, dispatched by event kind (and activity name) to only the
rules for it, so the ratio measures the rules themselves.

Run ``python benchmarks/rules_eval.py [--quick] [--events N]``.  The last line
is ``compiled/hand-written ratio: X.XX`` (target: at most 1.3).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gridcore.events import ActivityRecorded, Event, PatrolLogged
from gridcore.rules import CompileContext, Item, ItemKind, Section, parse_ruleset, schema
from gridcore_escalation.events import IncidentReported

RULESET = """\
ruleset "benchmark"
bench:
  activity 志愿服务: if member.party_member then event.hours * 6 else event.hours * 5
  activity 环境整治: event.hours * 4
  活动 党员学习：如果 成员.党员 则 记录.时长 * 3 否则 0
  activity 矛盾调解: if "unit_leader" in member.roles then 15 else 12
  activity 入户走访: min(event.quantity * 2, 10)
  activity 政策宣传: if event.hours >= 2 and not member.party_member then 6 else event.hours * 2
  patrol: event.visits + event.hazards_found * 3 + (if event.minutes >= 30 then 1 else 0)
  incident: 5 if event.severity >= 4, 3 if event.severity >= 2, otherwise 1
"""

ACTIVITY_ENV = schema.Env((schema.event_var(ActivityRecorded), schema.MEMBER))
PATROL_ENV = schema.Env((schema.event_var(PatrolLogged), schema.MEMBER))
INCIDENT_ENV = schema.Env((schema.event_var(IncidentReported), schema.MEMBER))

Rule = Callable[[Any, Any], Any]


def compile_bench(items: Sequence[Item], ctx: CompileContext) -> dict[str, Any]:
    """kind -> (activity name -> rule) or rule."""
    activities: dict[str, Rule] = {}
    table: dict[str, Any] = {"activity_recorded": activities}
    for item in items:
        body = item.body.children[0]
        if item.kind == "activity":
            activities[item.name.text] = ctx.compile_expr(body, ACTIVITY_ENV).fn  # type: ignore[union-attr]
        elif item.kind == "patrol":
            table["patrol_logged"] = ctx.compile_expr(body, PATROL_ENV).fn
        else:
            table["incident_reported"] = ctx.compile_ladder(body, INCIDENT_ENV, expect=schema.NUMBER).fn
    return table


BENCH: Section[dict[str, Any]] = Section(
    name="bench", headers=("bench",),
    items=(ItemKind("activity", ("activity", "活动"), "bench_value"),
           ItemKind("patrol", ("patrol",), "bench_value", named=False),
           ItemKind("incident", ("incident",), "bench_ladder", named=False)),
    grammar="bench_value: expr\nbench_ladder: ladder\n",
    compile=compile_bench,
)


# ---------------------------------------------------------------- the same rules, by hand

def _volunteer(e: Any, m: Any) -> Any:
    return e.hours * 6 if m.party_member else e.hours * 5


def _cleanup(e: Any, m: Any) -> Any:
    return e.hours * 4


def _party_study(e: Any, m: Any) -> Any:
    return e.hours * 3 if m.party_member else 0


def _mediation(e: Any, m: Any) -> Any:
    return 15 if "unit_leader" in m.roles else 12


def _visits(e: Any, m: Any) -> Any:
    return min(e.quantity * 2, 10)


def _publicity(e: Any, m: Any) -> Any:
    return 6 if e.hours >= 2 and not m.party_member else e.hours * 2


def _patrol(e: Any, m: Any) -> Any:
    return e.visits + e.hazards_found * 3 + (1 if e.minutes >= 30 else 0)


def _incident(e: Any, m: Any) -> Any:
    return 5 if e.severity >= 4 else (3 if e.severity >= 2 else 1)


HAND: dict[str, Any] = {
    "activity_recorded": {"志愿服务": _volunteer, "环境整治": _cleanup, "党员学习": _party_study,
                          "矛盾调解": _mediation, "入户走访": _visits, "政策宣传": _publicity},
    "patrol_logged": _patrol,
    "incident_reported": _incident,
}


class Person:
    """What a plugin passes as ``member``."""

    __slots__ = ("id", "name", "party_member", "role", "roles")

    def __init__(self, n: int, rng: random.Random) -> None:
        self.id = f"m{n}"
        self.name = f"成员{n}"
        self.party_member = rng.random() < 0.4
        self.role = rng.choice(["volunteer", "unit_leader", "fulltime_gridworker", "resident"])
        self.roles = (self.role,)


def make_events(count: int, seed: int = 7) -> list[tuple[Event, Person]]:
    rng = random.Random(seed)
    people = [Person(n, rng) for n in range(200)]
    names = list(HAND["activity_recorded"])
    start = datetime(2025, 1, 1, tzinfo=UTC)
    out: list[tuple[Event, Person]] = []
    for n in range(count):
        when = start + timedelta(minutes=n)
        person = rng.choice(people)
        roll = rng.random()
        event: Event
        if roll < 0.6:
            event = ActivityRecorded(id=f"a{n}", time=when, actor=person.id, node="g1",
                                     activity=rng.choice(names), hours=rng.choice([0.5, 1, 2, 3]),
                                     quantity=rng.randint(1, 8))
        elif roll < 0.85:
            event = PatrolLogged(id=f"p{n}", time=when, actor=person.id, node="g1",
                                 minutes=rng.randint(10, 60), visits=rng.randint(0, 8),
                                 hazards_found=rng.randint(0, 2))
        else:
            event = IncidentReported(id=f"i{n}", time=when, actor=person.id, node="g1",
                                     incident=f"inc{n}", category="leaking_pipe",
                                     severity=rng.randint(1, 5))
        out.append((event, person))
    return out


def evaluate(table: dict[str, Any], events: list[tuple[Event, Person]]) -> float:
    """The plugin's loop: dispatch by kind (and activity), apply the one rule."""
    total = 0.0
    activities = table["activity_recorded"]
    for event, person in events:
        kind = event.kind
        if kind == "activity_recorded":
            rule = activities.get(event.activity)  # type: ignore[attr-defined]
        else:
            rule = table.get(kind)
        if rule is not None:
            total += rule(event, person)
    return total


def best_of(rounds: int, fn: Callable[[], float]) -> tuple[float, float]:
    times = []
    result = 0.0
    for _ in range(rounds):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return min(times), result


def run(events: int, rounds: int) -> dict[str, float]:
    t0 = time.perf_counter()
    ruleset = parse_ruleset(RULESET, sections=[BENCH], name="benchmark.rules")
    load = time.perf_counter() - t0
    compiled = ruleset.policy(BENCH, at=date(2025, 1, 1))
    assert compiled is not None
    data = make_events(events)
    # Interleave the two so machine noise hits both alike.
    hand_times, compiled_times = [], []
    for _ in range(rounds):
        t, hand_total = best_of(1, lambda: evaluate(HAND, data))
        hand_times.append(t)
        t, compiled_total = best_of(1, lambda: evaluate(compiled, data))
        compiled_times.append(t)
        if abs(hand_total - compiled_total) > 1e-6:
            raise SystemExit(f"results differ: hand {hand_total} vs compiled {compiled_total}")
    return {"events": events, "load_s": load, "hand_s": min(hand_times),
            "compiled_s": min(compiled_times)}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="few events: check that it runs")
    parser.add_argument("--events", type=int, help="events evaluated per round (default 200,000)")
    args = parser.parse_args(argv)
    events = args.events or (5_000 if args.quick else 200_000)
    rounds = 3 if args.quick else 7
    r = run(events, rounds)
    print(f"ruleset parsed, checked and compiled in {r['load_s'] * 1000:.1f} ms")
    print(f"{events:,} events, best of {rounds} rounds, dispatched by kind and activity")
    print(f"hand-written Python: {r['hand_s'] * 1e9 / events:8.1f} ns/event")
    print(f"compiled rules:      {r['compiled_s'] * 1e9 / events:8.1f} ns/event")
    print(f"compiled/hand-written ratio: {r['compiled_s'] / r['hand_s']:.2f}")


if __name__ == "__main__":
    main()
