"""The incident loop step by step (事件闭环各环节): how often each step happened to a period's cases.

``loop_table(engine, period, within)`` counts, over the incidents reported in
``period`` (at ``within`` or below), every step of the loop their timelines
hold: reported, repeat reports joined, sent up by a repeats rule, assigned
(派单) by hand and passed on inside the cell by the rules, taken on,
consulted (会商), extensions asked, approved and refused (延期), returned
(退单), escalated, resolved, the reporter told (反馈), verified, reopened,
closed.  Each row gives how many cases had the step and how many times it
happened, so a demo shows which parts of the loop its ruleset exercises.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING

from gridcore import Table
from gridcore.events import SYSTEM_ACTOR
from gridcore.periods import label_zh, parse_period

from .headings import HEADINGS_ZH
from .incident import Entry, Incident
from .views import state_of

if TYPE_CHECKING:
    from gridcore import Engine

Test = Callable[[Incident, Entry], bool]


def _what(*names: str) -> Test:
    return lambda _, entry: entry.what in names


def _repeats_rule(incident: Incident, entry: Entry) -> bool:
    rules = {str(r.rule) for r in incident.policy.repeats} if incident.policy is not None else set()
    return entry.what == "escalated" and entry.rule in rules


#: (step, 中文, which timeline lines count as it), in the order of the loop.
STEPS: tuple[tuple[str, str, Test], ...] = (
    ("reported", "上报", _what("reported")),
    ("repeat report joined", "重复上报", _what("repeat report")),
    ("sent up by a repeats rule", "反复上报提级", _repeats_rule),
    ("assigned by hand", "派单/改派", lambda _, e: e.what == "assigned" and e.actor != SYSTEM_ACTOR),
    ("passed on inside the cell", "网格内超时转办", lambda _, e: e.what == "assigned" and e.actor == SYSTEM_ACTOR),
    ("accepted", "受理", _what("accepted")),
    ("consulted", "会商", _what("consulted")),
    ("extension requested", "申请延期", _what("extension requested")),
    ("extension approved", "批准延期", _what("extension approved")),
    ("extension refused", "不予延期", _what("extension refused")),
    ("returned", "退单", _what("returned")),
    ("escalated", "提级/吹哨", _what("escalated")),
    ("resolved", "办结", _what("resolved")),
    ("feedback given", "反馈", _what("feedback given")),
    ("verified", "核查评价", _what("verified")),
    ("reopened", "返工", _what("reopened")),
    ("closed", "结案", _what("closed")),
)


def loop_table(engine: Engine, period: str, within: str | None = None) -> Table:
    """Each step of the loop over the incidents reported in ``period``: cases that had it, times it happened."""
    span = parse_period(period, engine.community.tz)
    hierarchy = engine.community.hierarchy
    cases: Counter[str] = Counter()
    times: Counter[str] = Counter()
    for incident in state_of(engine).reported_between(span.start, span.end):
        if not span.contains(incident.reported_at):
            continue
        if within is not None and not hierarchy.is_within(incident.node, within):
            continue
        for step, _, test in STEPS:
            found = sum(1 for entry in incident.timeline if test(incident, entry))
            cases[step] += found > 0
            times[step] += found
    rows = tuple((f"{zh} {step}", cases[step], times[step]) for step, zh, _ in STEPS)
    return Table(f"The incident loop step by step, cases reported in {period} (事件闭环各环节)", ("step", "cases", "times"),
                 rows, (("a case counts once per step however often it happened; times counts each "
                  "(每个事件在每个环节只计一次，次数则每次都计)"),), headings=HEADINGS_ZH,
                 title_zh=f"事件闭环各环节，{label_zh(period)}")
