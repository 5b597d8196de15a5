"""gridcore's built-in assessment plugin (import name ``gridcore_assessment``): star ratings (评星定级).

Plain functions for embedders (each takes an open ``Engine``)::

    from gridcore_assessment import assess, stored, history, compare
    result = assess(engine, "2025-Q1")          # rate, store, return an Assessment
    result.rating("g1").stars                    # stars, score, terms with their rules
    compare(stored(engine, "2025-Q1"), result)   # who gained or lost a star, and why
    within(engine, result, "yz-c1")              # one subtree's part, under the ruleset governing it

See docs/assessment.md.  ``Period``, ``PeriodError``, ``parse_period``,
``period_containing`` and ``periods_between`` are re-exported from ``gridcore.periods``
(calendar periods in a community's time zone).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gridcore.periods import (
        Period,
        PeriodError,
        parse_period,
        period_containing,
        periods_between,
    )

    from .archive import (
        OUTDATED,
        StarChange,
        compare,
        history,
        outdated,
        outdated_stored,
        stored,
        stored_or_fresh,
    )
    from .chart import ChartError, rated_labels, render_svg, write_chart
    from .policy import AssessmentPolicy
    from .rating import Assessment, AssessmentError, SubsidyLine, assess, check_policy, within
    from .reports import (
        breakdown_table,
        compare_table,
        people_table,
        ratings_table,
        subsidies_table,
    )
    from .scoring import Rating, Term, shown

# Imported on first use, so loading the plugin (its entry point) stays cheap.
_LAZY = {
    "Period": "gridcore.periods",
    "PeriodError": "gridcore.periods",
    "parse_period": "gridcore.periods",
    "period_containing": "gridcore.periods",
    "periods_between": "gridcore.periods",
    "OUTDATED": ".archive",
    "StarChange": ".archive",
    "compare": ".archive",
    "history": ".archive",
    "outdated": ".archive",
    "outdated_stored": ".archive",
    "stored": ".archive",
    "stored_or_fresh": ".archive",
    "ChartError": ".chart",
    "rated_labels": ".chart",
    "render_svg": ".chart",
    "write_chart": ".chart",
    "AssessmentPolicy": ".policy",
    "Assessment": ".rating",
    "AssessmentError": ".rating",
    "SubsidyLine": ".rating",
    "assess": ".rating",
    "check_policy": ".rating",
    "within": ".rating",
    "breakdown_table": ".reports",
    "compare_table": ".reports",
    "ratings_table": ".reports",
    "people_table": ".reports",
    "subsidies_table": ".reports",
    "Rating": ".scoring",
    "Term": ".scoring",
    "shown": ".scoring",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "OUTDATED",
    "Assessment",
    "AssessmentError",
    "AssessmentPolicy",
    "ChartError",
    "Period",
    "PeriodError",
    "Rating",
    "StarChange",
    "SubsidyLine",
    "Term",
    "assess",
    "breakdown_table",
    "check_policy",
    "compare",
    "compare_table",
    "history",
    "outdated",
    "outdated_stored",
    "parse_period",
    "people_table",
    "period_containing",
    "periods_between",
    "rated_labels",
    "ratings_table",
    "render_svg",
    "shown",
    "stored",
    "stored_or_fresh",
    "subsidies_table",
    "within",
    "write_chart",
]
