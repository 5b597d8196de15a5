"""Periods named the way staff write them, turned into ``[start, end)`` in the community's zone."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from gridcore import GridcoreError

_FORMS = (
    (re.compile(r"^(\d{4})$"), "year"),
    (re.compile(r"^(\d{4})-[Qq]([1-4])$"), "quarter"),
    (re.compile(r"^(\d{4})-(\d{1,2})$"), "month"),
    (re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"), "day"),
)


def _month_start(year: int, month: int) -> date:
    return date(year + (month - 1) // 12, (month - 1) % 12 + 1, 1)


def period_bounds(text: str, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """``2025``, ``2025-Q1``, ``2025-03`` or ``2025-03-08`` as aware ``[start, end)``."""
    for pattern, kind in _FORMS:
        found = pattern.match(text.strip())
        if found is None:
            continue
        parts = [int(p) for p in found.groups()]
        try:
            if kind == "year":
                first, last = date(parts[0], 1, 1), date(parts[0] + 1, 1, 1)
            elif kind == "quarter":
                month = 3 * (parts[1] - 1) + 1
                first, last = date(parts[0], month, 1), _month_start(parts[0], month + 3)
            elif kind == "month":
                first, last = date(parts[0], parts[1], 1), _month_start(parts[0], parts[1] + 1)
            else:
                first = date(parts[0], parts[1], parts[2])
                last = first + timedelta(days=1)
        except ValueError as exc:
            raise GridcoreError(f"period {text!r} is not a real date: {exc}") from None
        return datetime.combine(first, datetime.min.time(), tz), datetime.combine(
            last, datetime.min.time(), tz
        )
    raise GridcoreError(
        f"period {text!r} not understood; write 2025, 2025-Q1, 2025-03 or 2025-03-08"
    )
