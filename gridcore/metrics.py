"""Metrics: numbers about a node's subtree over a period, contributed by plugins.

A metric is computed for one node (including everything below it) over a
half-open period ``[start, end)`` of aware datetimes.  Plugins contribute
metrics through ``gridcore_register_metrics``; the assessment plugin turns them
into scores, but anyone may read them (``Engine.metric``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from attrs import field

from .classes import frozen

if TYPE_CHECKING:
    from .engine import Engine


@frozen
class MetricValue:
    """A metric's value and the inputs it was computed from (for explanations).

    A share or a mean should be an exact ``Fraction`` (``Fraction(100, 3)``, not
    ``33.33``), so that whoever scores it rounds once, for display: a rounded
    share can push a boundary score below its step.
    """

    value: Fraction | float
    inputs: Mapping[str, Any] = field(factory=dict)


#: What a metric is about: a node's subtree (the default) ...
NODE = "node"
#: ... or one person (a member, or a registered resident): patrols they logged, their tasks.
MEMBER = "member"


@frozen
class Metric:
    """A named metric: ``compute(engine, subject, start, end) -> MetricValue | None``.

    ``subject`` is a node id (the node's whole subtree) when ``about`` is
    ``NODE``, a person's id when it is ``MEMBER`` (per-person metrics an
    assessment rates people by).  ``None`` means "not applicable here" (e.g. a
    rate with nothing to divide by).  ``unit`` is a short label (``"%"``,
    ``"per patrol"``, ``"points"``); ``higher_is_better`` tells readers (and
    charts) which way is good.  ``inputs_zh`` gives the Chinese of the names of
    its inputs (``MetricValue.inputs``: ``{"patrols": "巡查次数"}``): an
    explanation in Chinese heads each input by it (``巡查次数 patrols: 12``).
    ``unit_zh`` is the unit in Chinese (``"件"``, ``"每次巡查"``), what staff
    reading Chinese see in its place (``gridcore --lang zh assess metrics``);
    empty: the unit as it is (``"%"``).
    """

    name: str
    title: str
    unit: str
    compute: Callable[[Engine, str, datetime, datetime], MetricValue | None]
    title_zh: str = ""
    higher_is_better: bool = True
    about: str = field(default=NODE)
    inputs_zh: Mapping[str, str] = field(factory=dict, eq=False)
    unit_zh: str = ""

    @about.validator
    def _about(self, attribute: object, value: str) -> None:
        if value not in (NODE, MEMBER):
            raise ValueError(f"a metric is about a {NODE!r} or a {MEMBER!r}, not {value!r}")
