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


def unlisted_why(engine: Engine, event: IncidentReported) -> str | None:
    """Why ``event`` is refused because the ruleset in force at its node and time closes its category list
    (``categories: closed``) and does not list its category (by code or name); None if it is taken.

    The reason names the closest listed categories (by code and name), else every one, in English and Chinese.
    """
    governing = engine.ruleset_at(event.time, event.node)
    if governing is None:
        return None
    policy = engine.policy(SECTION, at=event.time, node=event.node)
    if policy is None or policy.closed_list is None or policy.lists(category_code(governing, event.category)):
        return None
    listed = policy.categories
    written = event.category
    close = difflib.get_close_matches(written, [c.code for c in listed] + [c.name for c in listed], n=3)
    closest = [c for c in listed if c.code in close or c.name in close]
    meant = closest or list(listed)
    shown = ", ".join(f"{c.code} ({c.name})" if c.name != c.code else c.code for c in meant)
    shown_zh = "、".join(f"{c.name}（{c.code}）" if c.name != c.code else c.code for c in meant)
    if closest:
        hint, hint_zh = f"did you mean {shown}?", f"是不是：{shown_zh}？"
    else:
        hint, hint_zh = f"it lists {shown}", f"所列类别：{shown_zh}"
    return (f"unknown category {written!r}: the ruleset {governing.name} in force at {event.node} takes only the "
            f"categories it lists (categories: closed, {policy.closed_list}); {hint} "
            f"(未知的事件类别 {written!r}：现行规则集 {governing.name} 只受理所列类别（类别清单：仅限所列）；{hint_zh})")
