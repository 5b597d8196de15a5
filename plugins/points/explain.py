"""Explanations of ledger entries (``points:<entry id>``) and the balances a what-if compares.

Read-only views of the points state (state.py), which its hooks answer with.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

from attrs import evolve

from gridcore import Explanation, Outcome, OutcomeKind
from gridcore.errors import chinese_first, chinese_of

from .display import (
    INPUTS_ZH,
    KINDS_ZH,
    PERIODS_ZH,
    category_named,
    category_titles,
    kind_shown,
    shown,
)
from .ledger import Record

if TYPE_CHECKING:
    from .state import PointsState

NAME = "points"

#: What the points plugin reports to a what-if comparison: each member's balance.
BALANCES = OutcomeKind("points", "Members whose points change (积分有变化的人员)", "points", "分")


def explain(state: PointsState, decision: str, lang: str = "en") -> Explanation | None:
    """Explain ``points:<entry id>``: the entry, its rule(s) and inputs (each headed by its Chinese for
    ``lang="zh"``: ``display.INPUTS_ZH``)."""
    if not decision.startswith(NAME + ":"):
        return None
    entry_id = decision[len(NAME) + 1 :]
    record = state.entry(entry_id) or _find_due(state, entry_id)
    if record is None:
        return None
    entry = record.entry
    rules = [r for r in record.rules or (entry.rule,) if r is not None]
    inputs = dict(entry.inputs)
    inputs.update({"member": entry.member, "node": entry.node, "time": entry.time.isoformat()})
    if entry.cause:
        inputs["event"] = entry.cause
    if record.taken is not None:
        inputs["taken_from"] = ", ".join(f"{lot} ({n})" for lot, n in record.taken)
    answer = Explanation(
        decision=decision,
        summary=f"{kind_shown(entry.kind)} {entry.amount:+d} for {entry.member}: {shown(entry.summary)}",
        rules=tuple(rules),
        inputs=inputs,
        result=entry.amount,
    )
    if lang != "zh":
        return answer
    # in Chinese: the summary (``获得 +15 分（yq-fw8）：...``) and a cap's room (``上限 X 每月（cap X per month）
    # = 30，还剩 12``), each input headed by its Chinese
    community = state.engine.community
    inputs = {_tilt_zh(_cap_zh(key), {**community.level_names, **community.roles}):
              _room_zh(value) if key.startswith("cap ") else f"「{value}」" if key == "condition"
              else value for key, value in inputs.items()}  # (a rule's condition quoted as the ruleset writes it)
    said = shown(entry.summary)
    said = chinese_first(said) if chinese_of(said) else said
    ruleset = state.engine.ruleset_at(entry.time, entry.node)
    said = category_named(said, category_titles([ruleset.titles.get("category", {})] if ruleset else []))
    summary = f"{KINDS_ZH.get(entry.kind, entry.kind)} {entry.amount:+d} 分（{entry.member}）：{said}"
    return evolve(answer, summary=summary, inputs=inputs).labelled(INPUTS_ZH)


def _cap_zh(key: str) -> str:
    """``cap 配合社区工作 per month`` -> ``上限 配合社区工作 每月（cap 配合社区工作 per month）``; another key as it is."""
    found = re.fullmatch(r"cap (.+) per (\w+)", key)
    return f"上限 {found[1]} 每{PERIODS_ZH.get(found[2], found[2])}（{key}）" if found else key


def _tilt_zh(key: str, names: Mapping[str, str]) -> str:
    """``tilt fulltime_gridworker`` -> ``tilt 专职网格员（fulltime_gridworker）``: the role or level by its Chinese."""
    found = re.fullmatch(r"tilt (\S+)", key)
    return f"tilt {names[found[1]]}（{found[1]}）" if found and found[1] in names else key


def _room_zh(value: object) -> object:
    """A cap's ``30, 12 left`` -> ``30，还剩 12``; another value as it is."""
    found = re.fullmatch(r"(\d+), (-?\d+) left", str(value))
    return f"{found[1]}，还剩 {found[2]}" if found else value


def _find_due(state: PointsState, entry_id: str) -> Record | None:
    """An expiry or bonus that fell due by now but no event has booked yet.

    Only the accounts such an entry can be in are advanced (each view of an
    account books what fell due in a copy of it): a streak bonus's id names
    its member (``streak:<member>:<unit>-<label>``, ``Account._judge_streak``),
    an expiry's the lot it expires (``expire:<entry id>``, ``Account._expire``),
    whose earning names the member; no other id falls due.  (Every account
    was advanced before: a quarter of a second an id on a community of 430
    members, for an event's id that has no entry, as ``explain`` is asked of
    each plugin.)
    """
    for member in _owners(state, entry_id):
        for record in state.view(member).extras:
            if record.entry.id == entry_id:
                return record
    return None


def _owners(state: PointsState, entry_id: str) -> list[str]:
    """The members whose accounts may hold the due entry ``entry_id`` (by the shapes of the due entries' ids)."""
    if entry_id.startswith("expire:"):
        lot = entry_id[len("expire:"):]
        if lot.startswith("streak:"):
            return _owners(state, lot)  # (a bonus that fell due, then expired, unbooked both)
        earned = state.entry(lot)
        return [earned.entry.member] if earned is not None else []
    if entry_id.startswith("streak:"):
        named = entry_id[len("streak:"):]
        # (``<member>:<unit>-<label>``: the member is a prefix before a colon; a member's id may hold one)
        return [named[:at] for at, char in enumerate(named) if char == ":" and named[:at] in state.accounts]
    return []


def balances(state: PointsState) -> list[Outcome]:
    """Each member's balance now, with the rules that produced it."""
    outcomes = []
    for account in state.views():
        outcomes.append(
            Outcome(
                plugin=NAME,
                subject=f"member:{account.member}:balance",
                value=account.balance,
                rules=tuple(sorted(account.rules, key=lambda r: (r.file, r.line, r.column))),
                detail=f"earned {account.credited}, redeemed {account.redeemed}, expired {account.expired}",
                kind=BALANCES,
            )
        )
    return outcomes
