"""Cap counters (caps.py) count as one counter per scope and period kind did, whatever the order of calls.

The reference is what the ledger kept before: per (kind), the current
period's label, points and end; a credit adds to the counter of its period
or starts it again when the period changed, and counters of ended periods
are dropped.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import example, given, settings
from hypothesis import strategies as st

from gridcore.periods import KINDS
from gridcore_points.caps import CapCount
from gridcore_points.ledger import Calendar, utc_key

TZ = ZoneInfo("Asia/Shanghai")
START = datetime(2024, 12, 20, tzinfo=TZ)


@st.composite
def steps(draw: st.DrawFn) -> list[tuple[str, int, int]]:
    """Credits (hours after START, amount) and drops (hours after START), in time order as the ledger calls them."""
    hours = sorted(draw(st.lists(st.integers(0, 24 * 120), min_size=1, max_size=40)))
    return [(draw(st.sampled_from(["credit", "credit", "drop"])), at, draw(st.integers(0, 30))) for at in hours]


@settings(max_examples=200, deadline=None)
@given(history=steps(), restore_at=st.integers(0, 40))
# (dropped at the very end of a month, quarter and year: 2025-01-01 00:00, the week going on)
@example(history=[("credit", 24 * 11 + 9, 5), ("drop", 24 * 12, 0), ("credit", 24 * 12, 3), ("drop", 24 * 17, 0)],
         restore_at=40)
def test_a_cap_count_counts_as_a_counter_per_kind(history: list[tuple[str, int, int]], restore_at: int) -> None:
    calendar = Calendar(TZ)
    count = CapCount()
    reference: dict[str, tuple[str, int, timedelta]] = {}
    for n, (what, hours, amount) in enumerate(history):
        if n == restore_at:  # as a checkpoint restores it: each kind's label and points set, the rest anew
            count = CapCount()
            for kind, (label, points, end) in reference.items():
                count.set(kind, label, points, end)
        when = START + timedelta(hours=hours)
        if what == "drop":
            now = utc_key(when)
            reference = {kind: value for kind, value in reference.items() if value[2] > now}
            assert count.drop_ended(now) == (not reference)
        else:
            periods, ends = calendar.periods_and_ends(when)
            began = []
            for kind in KINDS:
                label = periods[kind][0]
                was = reference.get(kind)
                if was is not None and was[0] == label:
                    reference[kind] = (label, was[1] + amount, was[2])
                else:
                    reference[kind] = (label, amount, ends[kind])
                    began.append(ends[kind])
            assert count.add(amount, periods, ends) == (min(began) if began else None)
        assert {kind: (label, points, end) for kind, label, points, end in count.items()} == reference
        ends_held = [end for _, _, end in reference.values()]
        assert (count.first, count.last) == ((min(ends_held), max(ends_held)) if ends_held else (None, None))
        for kind in KINDS:
            for label in {value[0] for value in reference.values()} | {"2025-01"}:
                want = reference[kind][1] if kind in reference and reference[kind][0] == label else 0
                assert count.count(kind, label) == want
        copied = count.copy()
        assert list(copied.items()) == list(count.items())
