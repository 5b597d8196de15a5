"""A throwaway section for the rules language's tests (not a real plugin).

``chores`` / ``家务积分``: ``chore NAME: 5 per hour, at most 40 per month``,
``家务 扫地：每小时 5 分，每月最多 40 分``, ``bonus: 2 if event.hours >= 4, otherwise 0``,
``limit NAME: LEVEL`` (checked against the ruleset's levels).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gridcore.events import ActivityRecorded
from gridcore.rules import CompileContext, Item, ItemKind, Section, schema

CHORES_GRAMMAR = r"""
chores_rate: chores_amount (_COMMA chores_cap)*
chores_amount: expr _PER _HOUR                -> chores_per_hour
             | _PER _HOUR expr _POINTS         -> chores_per_hour
             | expr _POINTS? _PER _TIME         -> chores_per_time
chores_cap: _AT_MOST expr _POINTS? _PER period
          | _PER period _AT_MOST expr _POINTS
chores_bonus: ladder
chores_limit: name
"""

ENV = schema.Env((schema.event_var(ActivityRecorded), schema.MEMBER))


def compile_chores(items: Sequence[Item], ctx: CompileContext) -> dict[str, Any]:
    """The toy policy: chore name -> list of (since, until, rate fn, per-hour?, caps)."""
    policy: dict[str, Any] = {"chores": {}, "bonus": None}
    for item in items:
        if item.kind == "limit":
            ctx.known("level", item.body.first("name"))
            continue
        if item.kind == "bonus":
            ladder = item.body.children[0]
            policy["bonus"] = ctx.compile_ladder(ladder, ENV, expect=schema.NUMBER)
            continue
        versions = []
        for version in item.versions:
            amount = version.body.children[0]
            rate = ctx.compile_expr(amount.first("expr"), ENV, expect=schema.NUMBER)
            caps = {}
            for cap in version.body.all("chores_cap"):
                period = cap.first("period").value
                caps[period] = ctx.constant(cap.first("expr"), expect=schema.NUMBER)
            versions.append((version.since, version.until, rate, amount.kind, caps, version.ref))
        policy["chores"][item.name.text] = versions
    return policy


CHORES = Section(
    name="chores",
    headers=("chores", "家务积分"),
    items=(
        ItemKind("chore", ("chore", "家务"), body="chores_rate"),
        ItemKind("bonus", ("bonus", "奖励"), body="chores_bonus", named=False),
        ItemKind("limit", ("limit", "限定"), body="chores_limit"),
    ),
    grammar=CHORES_GRAMMAR,
    keywords={"AT_MOST": ("at most", "最多"), "POINTS": ("points", "point", "分"),
              "TIME": ("time", "次")},
    compile=compile_chores,
    vocabularies={"activity": "chore"},
)


