"""When a credit expires (``Booking._expires``): exactly ``add_months`` of its time in the community's zone,
whether the time is read as written (at the zone's own fixed offset: ``Engine.on_local_clock``) or converted,
over every kind of date (month ends, leap days) and zones with and without summer time."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from conftest import small_community
from hypothesis import given, settings
from hypothesis import strategies as st

from gridcore import Community, Engine, FixedClock
from gridcore.periods import add_months
from gridcore_points import api
from gridcore_points.ledger import shared_key

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

ZONES = ["Asia/Shanghai", "America/New_York", "Australia/Lord_Howe", "Pacific/Apia", "Europe/London"]


@pytest.fixture(scope="module")
def engines(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Engine]:
    """An engine of a community on each zone's time."""
    base = small_community()
    out = {}
    for name in ZONES:
        community = Community.build("银泉社区", name, base.hierarchy, list(base.members.values()),
                                    departments=list(base.departments.values()))
        folder: Path = tmp_path_factory.mktemp(name.replace("/", "-"))
        out[name] = Engine.open(store=str(folder / "store"), community=community,
                                clock=FixedClock(datetime(2030, 1, 1, tzinfo=UTC)))
    return out


def fields(when: datetime) -> tuple[Any, ...]:
    """The wall clock, fold and zone object (``==`` compares instants only)."""
    return (when.replace(tzinfo=None), when.fold, when.tzinfo)


@st.composite
def moments(draw: st.DrawFn) -> tuple[str, datetime]:
    """A zone and a time near a month's end (or any day), at the zone's own offset then (mostly: as events
    carry it), at another fixed offset, in UTC or in the zone itself; near changes of offset often."""
    name = draw(st.sampled_from(ZONES))
    zone = ZoneInfo(name)
    year, month = draw(st.integers(1985, 2060)), draw(st.integers(1, 12))
    day = draw(st.sampled_from([1, 15, 28, 29, 30, 31]))
    while True:
        try:
            wall = datetime.combine(date(year, month, day), time(draw(st.integers(0, 23)), draw(st.integers(0, 59))))
            break
        except ValueError:
            day -= 1
    if draw(st.booleans()):
        # (the days of 2025's changes of offset in these zones, and Apia's skipped day)
        wall = datetime(*draw(st.sampled_from([(2025, 3, 9), (2025, 11, 2), (2025, 3, 30), (2025, 10, 26),
                                                (2025, 4, 6), (2025, 10, 5), (2011, 12, 29), (2011, 12, 31)])))
        wall += timedelta(minutes=draw(st.integers(0, 36 * 60)))
    moment = wall.replace(tzinfo=zone, fold=draw(st.integers(0, 1))).astimezone(UTC)
    kind = draw(st.sampled_from(["own", "own", "own", "other", "utc", "zone"]))
    if kind == "own":
        offset = moment.astimezone(zone).utcoffset()
        assert offset is not None
        return name, moment.astimezone(timezone(offset))
    if kind == "other":
        return name, moment.astimezone(timezone(timedelta(minutes=draw(st.integers(-12 * 4, 14 * 4)) * 15)))
    return name, moment if kind == "utc" else moment.astimezone(zone)


@settings(max_examples=500, deadline=None)
@given(st.lists(moments(), min_size=1, max_size=8), st.sampled_from([1, 3, 6, 11, 12, 13, 24]))
def test_a_credit_expires_add_months_of_its_time(engines: dict[str, Engine], asked: list[tuple[str, datetime]],
                                                 months: int) -> None:
    """Asked as the engine asks (the core's local date first, then the points plugin), each expiry is
    ``add_months`` field for field, on the clock or not."""
    for name, when in asked:
        engine = engines[name]
        engine.local_date(when)
        found = api.state(engine)._expires(when, months)
        assert fields(found) == fields(add_months(when, months, engine.community.tz)), (name, when)
        # (its key kept for the accounts whose first lot it is: the moment itself, the zone asked or not)
        assert shared_key(found) == found - EPOCH, (name, when, months)


def test_an_event_at_the_zone_s_own_offset_is_read_as_written(engines: dict[str, Engine]) -> None:
    """Shanghai's events at +08:00 are on its clock once one was converted: the 31st of a month plus one
    month is the month's last day, 29 February plus twelve months 28 February."""
    engine = engines["Asia/Shanghai"]
    cst = timezone(timedelta(hours=8))
    engine.local_time(datetime(2027, 5, 1, 9, tzinfo=cst))
    state = api.state(engine)
    for when, months, expected in [(datetime(2028, 1, 31, 23, 59, tzinfo=cst), 1, datetime(2028, 2, 29, 23, 59)),
                                   (datetime(2028, 2, 29, 8, 30, 5, 7, tzinfo=cst), 12, datetime(2029, 2, 28, 8, 30, 5, 7)),
                                   (datetime(2027, 12, 31, 0, 0, tzinfo=cst), 2, datetime(2028, 2, 29))]:
        assert engine.local_date(when) == when.date()
        assert engine.on_local_clock(when)
        found = state._expires(when, months)
        assert fields(found) == (expected, 0, engine.community.tz)
        assert engine.on_local_clock_until(when, expected.date())  # (its key: ``when``'s, whole days on)
        assert shared_key(found) == found - EPOCH == (when - EPOCH) + (expected.date() - when.date())
