"""Explanations of ledger entries (``points:<entry id>``) and the balances a what-if compares.

Read-only views of the points state (state.py), which its hooks answer with.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gridcore import Explanation, Outcome, OutcomeKind

from . import ledger
from .ledger import Entry

if TYPE_CHECKING:
    from .state import PointsState

NAME = "points"

#: What the points plugin reports to a what-if comparison: each member's balance.
BALANCES = OutcomeKind("points", "Members whose points change", "points")


def explain(state: PointsState, decision: str) -> Explanation | None:
    """Explain ``points:<entry id>``: the entry, its rule(s) and inputs."""
    if not decision.startswith(NAME + ":"):
        return None
    entry_id = decision[len(NAME) + 1 :]
    entry = state.entries.get(entry_id) or _find_derived(state, entry_id)
    if entry is None:
        return None
    rules = state.extra_rules.get(entry.id) or ((entry.rule,) if entry.rule is not None else ())
    inputs = dict(entry.inputs)
    inputs.update({"member": entry.member, "node": entry.node, "time": entry.time.isoformat()})
    if entry.cause:
        inputs["event"] = entry.cause
    if entry.id in state.taken:
        inputs["taken_from"] = ", ".join(f"{lot} ({n})" for lot, n in state.taken[entry.id])
    return Explanation(
        decision=decision,
        summary=f"{entry.kind} {entry.amount:+d} for {entry.member}: {entry.summary}",
        rules=tuple(rules),
        inputs=inputs,
        result=entry.amount,
    )


def _find_derived(state: PointsState, entry_id: str) -> Entry | None:
    for account in state.views():
        for entry in account.entries:
            if entry.id == entry_id:
                return entry
    return None


def balances(state: PointsState) -> list[Outcome]:
    """Each member's balance now, with the rules that produced it."""
    outcomes = []
    for account in state.views():
        rules = {
            rule
            for entry in account.entries
            for rule in state.extra_rules.get(entry.id, (entry.rule,))
            if rule is not None
        }
        totals = ledger.totals(account.entries)
        outcomes.append(
            Outcome(
                plugin=NAME,
                subject=f"member:{account.member}:balance",
                value=account.balance,
                rules=tuple(sorted(rules, key=lambda r: (r.file, r.line, r.column))),
                detail=f"earned {totals['earned']}, redeemed {totals['redeemed']}, expired {totals['expired']}",
                kind=BALANCES,
            )
        )
    return outcomes
