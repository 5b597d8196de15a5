"""Which version of each item is in force on a day: the one rule, applied once by the core.

An item is its item line and the dated lines under it (``from DATE:``,
``from DATE until DATE:``).  On a day, the version in force is **the last one
written whose dates include that day**; the item line has no dates, so it
covers every day no later version covers.  (The checker has already refused
dates that do not increase and ranges that overlap.)

A section's policy for a day is compiled from the versions in force that
day.  The core cuts time at every date an item names, so that nothing changes
inside a span, and compiles each span once; ``Ruleset.policy(section,
at=day)`` is then a lookup.  Plugins never see dated versions.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Sequence
from datetime import date
from typing import Generic, TypeVar

import attrs
from attrs import field

from ..classes import frozen
from . import ast

T = TypeVar("T")


@frozen
class InForce(Generic[T]):
    """A policy and the days it is in force: ``since`` included, ``until`` excluded (None: open)."""

    since: date | None
    until: date | None
    policy: T

    def covers(self, day: date) -> bool:
        """True if ``day`` falls in this span."""
        return (self.since is None or self.since <= day) and (self.until is None or day < self.until)


@frozen
class Span:
    """A span of days over which no item of a section changes, and the items in force in it."""

    since: date | None
    until: date | None
    items: tuple[ast.Item, ...]


def spans(items: Sequence[ast.Item]) -> list[Span]:
    """The spans of days over which nothing changes, each with the versions in force.

    Each item of a span carries exactly one version (the one in force), and
    its ``ref`` is that version's line.  Neighbouring spans with the same
    versions are merged.
    """
    cuts = sorted({d for item in items for v in item.versions for d in (v.since, v.until)
                   if d is not None})
    bounds: list[date | None] = [None, *cuts]
    out: list[Span] = []
    for i, since in enumerate(bounds):
        until = bounds[i + 1] if i + 1 < len(bounds) else None
        day = since if since is not None else date.min
        chosen = tuple(_in_force(item, day) for item in items)
        current = tuple(c for c in chosen if c is not None)
        if out and _same(out[-1].items, current):
            out[-1] = attrs.evolve(out[-1], until=until)
            continue
        out.append(Span(since, until, current))
    return out


def _in_force(item: ast.Item, day: date) -> ast.Item | None:
    version = item.at(day)
    if version is None:
        return None
    return attrs.evolve(item, versions=(version,), ref=version.ref)


def _same(a: tuple[ast.Item, ...], b: tuple[ast.Item, ...]) -> bool:
    return len(a) == len(b) and all(x.versions[0] is y.versions[0] for x, y in zip(a, b))


@frozen
class Timeline(Generic[T]):
    """A section's compiled policies, one per span, in date order."""

    spans: tuple[InForce[T], ...]
    _starts: tuple[date, ...] = field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        starts = tuple(s.since for s in self.spans[1:] if s.since is not None)
        object.__setattr__(self, "_starts", starts)

    def at(self, day: date) -> T:
        """The policy in force on ``day``."""
        return self.spans[bisect.bisect_right(self._starts, day)].policy

    def __iter__(self) -> Iterator[InForce[T]]:
        return iter(self.spans)
