"""A closed category list (``categories: closed`` / ``类别清单：仅限所列``): a report of a category the ruleset
in force at its node and time does not list is refused, with the closest listed categories named.

Open311 refuses a service_code not on its list; the engine takes any category unless the ruleset closes
its list (docs/escalation.md), so a staff member's typo (水管漏雨 for 水管漏水) is caught where the
community wants it: the refusal comes from ``gridcore_validate_event``, so the command line, ``ingest``
and ``serve`` all give it, and a late report is judged by the ruleset in force at its own time.
"""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING

from .events import IncidentReported, category_code
from .section import SECTION

if TYPE_CHECKING:
    from gridcore import Engine
    from gridcore.onrecord import LeftOnRecord, Proposed

    from .policy import Category, EscalationPolicy


def unlisted_why(engine: Engine, event: IncidentReported) -> str | None:
    """Why ``event`` is refused because the ruleset in force at its node and time closes its category list
    (``categories: closed``) and does not list its category (by code or name); None if it is taken.

    The reason names the closest listed categories (by code and name), else every one, in English and Chinese.
    """
    policy = engine.policy(SECTION, at=event.time, node=event.node)
    if policy is None or policy.closed_list is None:
        # (an open list, every real ruleset's: nothing more asked; the policy is the one the report is
        # judged and applied by, kept by the engine for the event's time and node)
        return None
    governing = engine.ruleset_at(event.time, event.node)  # (the one the policy is of: never None here)
    if governing is None or policy.lists(category_code(governing, event.category)):
        return None
    written = event.category
    _, hint, hint_zh = _hint(policy, written)
    return (f"unknown category {written!r}: the ruleset {governing.name} in force at {event.node} takes only the "
            f"categories it lists (categories: closed, {policy.closed_list}); {hint} "
            f"(未知的事件类别 {written!r}：现行规则集 {governing.name} 只受理所列类别（类别清单：仅限所列）；{hint_zh})")


def left_on_record(engine: Engine, proposed: Proposed) -> list[LeftOnRecord]:
    """The stored reports from ``proposed.effective`` on whose category the proposed ruleset's closed list does
    not hold where it would judge them (``gridcore_check_stored``): each with its category and the closest
    listed ones.  They stay on record, with their cases, under the category written (docs/escalation.md)."""
    from gridcore.onrecord import LeftOnRecord

    found: list[LeftOnRecord] = []
    ruleset = proposed.ruleset
    for event in engine.events(kinds=[IncidentReported.kind], since=proposed.effective):
        if not isinstance(event, IncidentReported) or not proposed.governs(event.time, event.node):
            continue
        policy = proposed.policy(SECTION, at=event.time, node=event.node)
        if policy is None or policy.closed_list is None or policy.lists(category_code(ruleset, event.category)):
            continue
        written = event.category
        closest, hint, hint_zh = _hint(policy, written)
        day = event.time.astimezone(engine.community.tz).isoformat(timespec="minutes")
        found.append(LeftOnRecord(
            event_id=event.id, time=event.time, node=event.node, kind=event.kind,
            reason=(f"report {event.id} (incident {event.incident}, {day} at {event.node}) of category {written!r}, "
                    f"which the ruleset {ruleset.name} does not list (categories: closed, {policy.closed_list}), "
                    f"stays on record as it was judged; {hint}"),
            reason_zh=(f"上报 {event.id}（事件 {event.incident}，{day}，{event.node}）的类别 {written!r} 不在规则集 "
                       f"{ruleset.name} 所列类别中（类别清单：仅限所列），仍按当时的评判保留在记录中；{hint_zh}"),
            facts=(("incident", event.incident), ("category", written),
                   ("closest", ",".join(c.code for c in closest)))))
    return found


def _hint(policy: EscalationPolicy, written: str) -> tuple[list[Category], str, str]:
    """The listed categories closest to ``written`` (by code or name; none when nothing is close) and how to
    say them in English and Chinese: ``did you mean ...?``, else every listed one."""
    listed = policy.categories
    close = difflib.get_close_matches(written, [c.code for c in listed] + [c.name for c in listed], n=3)
    closest = [c for c in listed if c.code in close or c.name in close]
    meant = closest or list(listed)
    shown = ", ".join(f"{c.code} ({c.name})" if c.name != c.code else c.code for c in meant)
    shown_zh = "、".join(f"{c.name}（{c.code}）" if c.name != c.code else c.code for c in meant)
    if closest:
        return closest, f"did you mean {shown}?", f"是不是：{shown_zh}？"
    return closest, f"it lists {shown}", f"所列类别：{shown_zh}"
