"""Line departments' record (条线部门): summoned cases answered on time, cases resolved on time, returns.

For each department summoned to cases (吹哨报到, an escalation to it by hand or
by a breach) in a period: how many, how many it reported in to (one of its
members took the case on) within its ``report within`` limit, late, or not
yet (overdue already, or still within the limit), how many were resolved
within its ``resolve within`` limit while it was summoned, and how many
cases it sent back (退单, whether summoned or routed to it at report).  The
deadlines are those its limits set when it was summoned, so the record never
depends on when it is read, except that a case still unanswered counts as
late only once its deadline has passed (``now``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from gridcore import Table
from gridcore.classes import frozen
from gridcore.periods import label_zh, parse_period

from .headings import HEADINGS_ZH
from .incident import Incident
from .views import state_of

if TYPE_CHECKING:
    from gridcore import Engine


@frozen
class DepartmentRecord:
    """One department's answers in a period (see the module's docstring)."""

    department: str
    summoned: int = 0
    arrived_on_time: int = 0
    arrived_late: int = 0
    not_arrived: int = 0
    resolved_on_time: int = 0
    resolved_late: int = 0
    returned: int = 0


def records(
    incidents: Iterable[Incident], start: datetime, end: datetime, now: datetime
) -> list[DepartmentRecord]:
    """Every department summoned to, or sending back, one of ``incidents`` in ``[start, end)``."""
    counts: dict[str, dict[str, int]] = {}

    def bump(department: str, key: str) -> None:
        counts.setdefault(department, {}).setdefault(key, 0)
        counts[department][key] += 1

    for incident in incidents:
        for summons in incident.summons:
            if not start <= summons.time < end:
                continue
            bump(summons.department, "summoned")
            if summons.returned and summons.arrived_at is None:
                continue  # sent back before reporting in: counted as sent back
            due = summons.report_due
            if summons.arrived_at is not None:
                late = due is not None and summons.arrived_at > due
                bump(summons.department, "arrived_late" if late else "arrived_on_time")
            elif due is not None and due <= now and (summons.left_at is None or summons.left_at >= due):
                bump(summons.department, "arrived_late")
            else:
                bump(summons.department, "not_arrived")
            due = summons.resolve_due
            if summons.resolved_at is not None:
                late = due is not None and summons.resolved_at > due
                bump(summons.department, "resolved_late" if late else "resolved_on_time")
            elif due is not None and due <= now and (summons.left_at is None or summons.left_at >= due):
                bump(summons.department, "resolved_late")
        for back in incident.returns:
            if back.department is not None and start <= back.time < end:
                bump(back.department, "returned")
    return [DepartmentRecord(name, **found) for name, found in sorted(counts.items())]


def incidents_within(engine: Engine, within: str | None, start: datetime, end: datetime) -> list[Incident]:
    """The incidents reported at ``within`` or below it (None: anywhere) with a step in ``[start, end)``
    (a superset: the open ones, and the closed ones spanning the period)."""
    hierarchy = engine.community.hierarchy
    return [i for i in state_of(engine).active_between(start, end)
            if within is None or hierarchy.is_within(i.node, within)]


def departments_table(engine: Engine, period: str, within: str | None = None) -> Table:
    """The ``escalation.departments`` report: each line department's record in ``period``."""
    span = parse_period(period, engine.community.tz)
    now = min(span.end, engine.clock.now())
    rows = tuple(
        (r.department, engine.community.departments[r.department].name if r.department in
         engine.community.departments else r.department, r.summoned, r.arrived_on_time, r.arrived_late,
         r.not_arrived, r.resolved_on_time, r.resolved_late, r.returned)
        for r in records(incidents_within(engine, within, span.start, span.end), span.start, span.end, now)
    )
    columns = ("department", "name", "summoned", "reported in on time", "reported in late", "not yet",
               "resolved on time", "resolved late", "sent back")
    return Table(f"Line departments in {period} (条线部门吹哨报到)", columns, rows,
                 ("deadlines as the department's limits set them when it was summoned (吹哨报到)",),
                 headings=HEADINGS_ZH, title_zh=f"条线部门吹哨报到，{label_zh(period)}")

