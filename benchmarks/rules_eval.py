"""The call a plugin makes to a compiled rule, beside the same rule written by hand, in one run.

A points ruleset (activities whose amount is computed from the event and the
member, activities earned only when a condition holds, in English and
Chinese) is compiled by the points plugin's own section, as every community's
is.  For each event the plugin's ``Facts`` record is built once, outside the
timing.  Then the same loop calls, for each event, either what the points
plugin calls (``Check.holds(facts)`` for a condition, ``Formula.compute(facts)``
for a computed amount: the objects in its compiled policy) or a hand-written
Python function of the same facts doing the same thing, and sums the
results.  The loop is the same for both, so the ratio is the cost of the
compiled call against a hand-written one.  Each round is timed in the
process's CPU time (``time.process_time``), not the wall clock: on a shared
machine (load average 16-20 on 2 cores, 2026-12-05) three wall-clock runs gave
ratios of 1.23, 0.58 and 1.39, three CPU-time runs 1.02, 1.02 and 1.02.  (Until December 2026 this file
timed the bare generated function with the variables passed by hand, which
no plugin calls; the points plugin then reached it through one small
function per variable.)

Run ``python benchmarks/rules_eval.py [--quick] [--events N]``.  The last line
is ``compiled/hand-written ratio: X.XX`` (target: at most 1.2).
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

from gridcore.events import ActivityRecorded
from gridcore.rules import parse_ruleset
from gridcore_points.facts import Facts, MemberRecord, NodeRecord
from gridcore_points.section import SECTION

RULESET = """\
ruleset "benchmark"
levels: community > grid > unit
points:
  activity 志愿服务: computed if member.party_member then event.hours * 6 else event.hours * 5
  activity 环境整治: computed event.hours * 4
  活动 党员学习：计算 如果 成员.党员 则 记录.时长 * 3 否则 0
  activity 矛盾调解: 15 points when "unit_leader" in member.roles
  activity 入户走访: computed min(event.quantity * 2, 10)
  activity 政策宣传: 6 points when event.hours >= 2 and not member.party_member
  activity 夜间巡逻: 8 points when hour >= 20 or weekday >= 6
"""


# ---------------------------------------------------------------- the same rules, by hand

def _volunteer(f: Facts) -> Any:
    return f.event.hours * 6 if f.member.party_member else f.event.hours * 5  # type: ignore[attr-defined]


def _cleanup(f: Facts) -> Any:
    return f.event.hours * 4  # type: ignore[attr-defined]


def _party_study(f: Facts) -> Any:
    return f.event.hours * 3 if f.member.party_member else 0  # type: ignore[attr-defined]


def _mediation(f: Facts) -> Any:
    return "unit_leader" in f.member.roles


def _visits(f: Facts) -> Any:
    return min(f.event.quantity * 2, 10)  # type: ignore[attr-defined]


def _publicity(f: Facts) -> Any:
    return f.event.hours >= 2 and not f.member.party_member  # type: ignore[attr-defined]


def _night(f: Facts) -> Any:
    return f.hour >= 20 or f.weekday >= 6


HAND: dict[str, Callable[[Facts], Any]] = {
    "志愿服务": _volunteer, "环境整治": _cleanup, "党员学习": _party_study, "矛盾调解": _mediation,
    "入户走访": _visits, "政策宣传": _publicity, "夜间巡逻": _night,
}


def compiled_calls(policy: Any) -> dict[str, Callable[[Facts], Any]]:
    """Activity -> the call the points plugin makes for it: ``holds`` of its condition or ``compute``."""
    out: dict[str, Callable[[Facts], Any]] = {}
    for item in policy.activities:
        if item.when is not None:
            out[item.activity] = item.when.holds
        else:
            assert item.amount.formula is not None
            out[item.activity] = item.amount.formula.compute
    return out


def make_facts(count: int, seed: int = 7) -> list[tuple[str, Facts]]:
    rng = random.Random(seed)
    roles = ["volunteer", "unit_leader", "fulltime_gridworker", "resident"]
    people = [MemberRecord(f"m{n}", f"成员{n}", role, (role,), rng.random() < 0.4)
              for n, role in ((n, rng.choice(roles)) for n in range(200))]
    node = NodeRecord("g1", "第一网格", "grid", "territorial")
    names = list(HAND)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    out = []
    for n in range(count):
        when = start + timedelta(minutes=37 * n)
        person = rng.choice(people)
        activity = rng.choice(names)
        event = ActivityRecorded(id=f"a{n}", time=when, actor=person.id, node="g1", activity=activity,
                                 hours=rng.choice([0.5, 1, 2, 3]), quantity=rng.randint(1, 8))
        out.append((activity, Facts(member=person, node=node, event=event, weekday=when.isoweekday(),
                                    hour=when.hour)))
    return out


def evaluate(calls: list[tuple[Callable[[Facts], Any], Facts]]) -> float:
    """The same loop for both: call, add up."""
    total = 0.0
    for call, facts in calls:
        total += call(facts)
    return total


def run(events: int, rounds: int) -> dict[str, float]:
    t0 = time.process_time()
    ruleset = parse_ruleset(RULESET, sections=[SECTION], name="benchmark.rules")
    load = time.process_time() - t0
    policy = ruleset.policy(SECTION, at=date(2025, 1, 1))
    assert policy is not None
    compiled = compiled_calls(policy)
    data = make_facts(events)
    hand_calls = [(HAND[name], facts) for name, facts in data]
    compiled_list = [(compiled[name], facts) for name, facts in data]
    # Interleaved, so machine noise hits both alike; the best round of each.
    hand_times, compiled_times = [], []
    for _ in range(rounds):
        t0 = time.process_time()
        hand_total = evaluate(hand_calls)
        hand_times.append(time.process_time() - t0)
        t0 = time.process_time()
        compiled_total = evaluate(compiled_list)
        compiled_times.append(time.process_time() - t0)
        if abs(hand_total - compiled_total) > 1e-6:
            raise SystemExit(f"results differ: hand {hand_total} vs compiled {compiled_total}")
    return {"events": events, "load_s": load, "hand_s": min(hand_times), "compiled_s": min(compiled_times)}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="few events: check that it runs")
    parser.add_argument("--events", type=int, help="events evaluated per round (default 200,000)")
    args = parser.parse_args(argv)
    events = args.events or (5_000 if args.quick else 200_000)
    rounds = 3 if args.quick else 7
    r = run(events, rounds)
    print(f"ruleset parsed, checked and compiled in {r['load_s'] * 1000:.1f} ms")
    print(f"{events:,} events, best of {rounds} rounds, the points plugin's call for each")
    print(f"hand-written Python: {r['hand_s'] * 1e9 / events:8.1f} ns/event")
    print(f"compiled rules:      {r['compiled_s'] * 1e9 / events:8.1f} ns/event")
    print(f"compiled/hand-written ratio: {r['compiled_s'] / r['hand_s']:.2f}")


if __name__ == "__main__":
    main()
