"""gridcore's built-in assessment plugin (import name ``gridcore_assessment``): star ratings (评星定级).

Plain functions for embedders (each takes an open ``Engine``)::

    from gridcore_assessment import assess, stored, history, compare
    result = assess(engine, "2025-Q1")          # rate, store, return an Assessment
    result.rating("g1").stars                    # stars, score, terms with their rules
    compare(stored(engine, "2025-Q1"), result)   # who gained or lost a star, and why

See docs/assessment.md.  ``Period``, ``PeriodError``, ``parse_period``,
``period_containing`` and ``periods_between`` are re-exported from ``gridcore.periods``
(calendar periods in a community's time zone).
"""

from gridcore.periods import Period, PeriodError, parse_period, period_containing, periods_between

from .archive import StarChange, compare, history, stored, stored_or_fresh
from .chart import ChartError, render_svg, write_chart
from .policy import AssessmentPolicy
from .rating import Assessment, AssessmentError, SubsidyLine, assess, check_policy
from .reports import breakdown_table, compare_table, ratings_table, subsidies_table
from .scoring import Rating, Term, shown

__all__ = [
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
    "parse_period",
    "period_containing",
    "periods_between",
    "ratings_table",
    "render_svg",
    "shown",
    "stored",
    "stored_or_fresh",
    "subsidies_table",
    "write_chart",
]
