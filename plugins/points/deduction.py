"""Deductions (扣分): negative amounts, booked against the balance down to the floor.

An item written with a negative amount (``activity 乱停车: -10 points``,
``活动 乱停车：扣 10 分``, or a computed amount that comes out negative) takes
points off the member's balance.  The amount is exact until it is booked and
rounded half up once, like an earning.  Tilts and caps are for earnings: they
do not scale or limit a deduction.

A balance never goes below the floor: 0 unless the ruleset's ``floor`` item
says otherwise (``floor: -50 points``, ``floor: none``).  A deduction that
would pass the floor is cut to what the balance allows, and the entry says so
and names the floor's rule; it is never cut silently, and never turned into 0
without the entry saying why.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from gridcore.events import Event

from .ledger import Account, Entry
from .policy import PointsPolicy, round_points
from .records import Records

#: What a deduction's entry says when the ruleset has no floor item.
DEFAULT_FLOOR_TEXT = "default floor 0: a balance never goes below zero (docs/points.md)"




class Deductions(Records):
    """Booking a deduction (a mixin of ``PointsState``, through ``Booking``)."""

    def deduct(
        self,
        account: Account,
        event: Event,
        policy: PointsPolicy,
        scope: str,
        base: Fraction,
        rule: Any,
        inputs: dict[str, Any],
        summary: str,
        entry_id: str | None = None,
    ) -> Entry:
        """Book the deduction ``base`` (< 0) with the floor applied; return its entry."""
        exact = -base
        wanted = round_points(exact)
        rules = [rule]
        if exact.denominator != 1:
            inputs["exact"] = f"-{exact.numerator}/{exact.denominator} = -{float(exact):g}"
        inputs["rounded"] = -wanted
        if exact.denominator != 1:
            summary = f"{summary}, rounded to -{wanted}"
        elif not summary.endswith(f"-{wanted}"):
            summary = f"{summary} = -{wanted}"
        balance = account.balance
        floor = policy.floor
        inputs["balance before"] = balance
        taken = wanted
        if floor.limit is not None:
            room = max(balance - floor.limit, 0)
            inputs["floor"] = floor.limit if floor.rule is not None else DEFAULT_FLOOR_TEXT
            if wanted > room:
                taken = room
                if floor.rule is not None:
                    rules.append(floor.rule)
                summary += (f", cut to {-taken} by the floor of {floor.limit} "
                            f"(balance {balance}; 扣分以余额下限 {floor.limit} 为限)")
        else:
            inputs["floor"] = "none (no floor: the balance may go below zero)"
        inputs["balance after"] = balance - taken
        entry = Entry(
            id=entry_id or event.id,
            kind="deduct",
            amount=-taken,
            member=account.member,
            node=event.node,
            time=event.time,
            rule=rules[0],
            summary=summary,
            cause=event.id,
            activity=scope,
            inputs=inputs,
        )
        if entry.id in self.history.guarded:
            return self.history.guarded[entry.id].entry
        account.deduct(entry, rules=tuple(dict.fromkeys(rules)))
        return entry
