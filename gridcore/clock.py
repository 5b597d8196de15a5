"""Injected clocks: the engine never reads the wall clock on its own.

Every time the engine needs "now" it asks the clock it was given, so tests and
replays are deterministic.  All times are timezone-aware datetimes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol

from .errors import InvalidTypeError, InvalidValueError


class Clock(Protocol):
    """Anything with a ``now()`` that returns an aware datetime."""

    def now(self) -> datetime:
        """Return the current time (timezone-aware)."""
        ...


class SystemClock:
    """The real wall clock, in UTC. Use only at the edges (the CLI)."""

    def now(self) -> datetime:
        """Return the current UTC time."""
        return datetime.now(UTC)


class FixedClock:
    """A clock that only moves when told to: for tests, replays and ``tick``."""

    def __init__(self, start: datetime) -> None:
        self._now = require_aware(start)

    def now(self) -> datetime:
        """Return the time the clock was last set to."""
        return self._now

    def set(self, when: datetime) -> None:
        """Move the clock to ``when``; it may never go backwards."""
        when = require_aware(when)
        if when < self._now:
            raise InvalidValueError(f"clock cannot go back from {self._now.isoformat()} to {when.isoformat()}")
        self._now = when

    def advance(self, delta: timedelta) -> datetime:
        """Move the clock forward by ``delta`` and return the new time."""
        self.set(self._now + delta)
        return self._now


def require_aware(when: datetime) -> datetime:
    """Refuse naive datetimes: a time without a zone is ambiguous across communities.

    Raises ``InvalidValueError`` for a naive time, ``InvalidTypeError`` for anything
    that is not a datetime.
    """
    if not isinstance(when, datetime):
        raise InvalidTypeError(f"expected a datetime with a time zone, got {type(when).__name__} {when!r}")
    if when.tzinfo is None or when.utcoffset() is None:
        example = when.isoformat(timespec="minutes") + "+08:00"
        raise InvalidValueError(f"time {when.isoformat()} has no time zone (e.g. {example})")
    return when
