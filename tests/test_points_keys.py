"""Time keys (``ledger.utc_key``): the time since 1970 UTC, whatever zone object a time holds.

A time at a fixed offset (``timezone``, as every time read from text) is
subtracted from the epoch held in its own zone object, on their fields; any
other time is asked for its offset.  Both must give exactly the timedelta of
the time less the epoch in UTC, fold, odd offsets and the ends of time
included (so keys order times by their instants, as the heaps of what falls due need).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from hypothesis import example, given, settings
from hypothesis import strategies as st

from gridcore_points.ledger import NEVER, first_and_last, note_key, shared_key, utc_key

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: offsets a ``timezone`` may hold: strictly within a day, to the microsecond
OFFSETS = st.timedeltas(min_value=timedelta(hours=-23, minutes=-59), max_value=timedelta(hours=23, minutes=59))
ZONES = st.one_of(
    OFFSETS.map(timezone),
    st.just(UTC),
    st.sampled_from([ZoneInfo("Asia/Shanghai"), ZoneInfo("America/New_York"), ZoneInfo("Asia/Kathmandu")]),
)
TIMES = st.datetimes(min_value=datetime(1900, 1, 2), max_value=datetime(2200, 12, 30))


@settings(max_examples=400, deadline=None)
@given(when=TIMES, zone=ZONES, fold=st.sampled_from([0, 1]))
@example(when=datetime(2025, 11, 2, 1, 30), zone=ZoneInfo("America/New_York"), fold=1)  # (the hour twice)
@example(when=datetime(2025, 3, 1, 0, 0), zone=timezone(timedelta(hours=8), "CST"), fold=1)
def test_a_key_is_the_time_less_the_epoch_in_utc(when: datetime, zone: timezone | ZoneInfo, fold: int) -> None:
    aware = when.replace(tzinfo=zone, fold=fold)
    assert utc_key(aware) == aware - EPOCH
    # (asked again, and for an equal time in another zone object: the same)
    assert utc_key(aware) == aware - EPOCH
    assert utc_key(aware.astimezone(timezone(timedelta(hours=8)))) == aware - EPOCH


def test_the_ends_of_time_have_keys() -> None:
    assert utc_key(NEVER) == NEVER - EPOCH
    late = datetime.max.replace(tzinfo=timezone(timedelta(hours=-5)))
    assert utc_key(late) == late - EPOCH


@settings(max_examples=300, deadline=None)
@given(when=TIMES, zone=ZONES, fold=st.sampled_from([0, 1]))
@example(when=datetime(2025, 11, 2, 1, 30), zone=ZoneInfo("America/New_York"), fold=1)
def test_a_key_noted_from_the_offset_alone_is_the_key(when: datetime, zone: timezone | ZoneInfo, fold: int) -> None:
    aware = when.replace(tzinfo=zone, fold=fold)
    assert note_key(aware, datetime(1970, 1, 1, tzinfo=zone)) == aware - EPOCH
    # (kept by the object: what the accounts whose first lot expires then ask)
    assert shared_key(aware) == aware - EPOCH


#: a few instants, so that lists of them hold equal moments in different zone objects
INSTANTS = st.sampled_from([datetime(2025, 11, 2, 5, 30), datetime(2025, 11, 2, 6, 30), datetime(2025, 3, 1),
                            datetime(2025, 3, 1, 0, 0, 1)])
SHARED_ZONES = [ZoneInfo("Asia/Shanghai"), ZoneInfo("America/New_York"), timezone(timedelta(hours=8)),
                timezone(timedelta(hours=8)), UTC]


@settings(max_examples=300, deadline=None)
@given(times=st.lists(st.tuples(INSTANTS | TIMES, st.sampled_from(range(len(SHARED_ZONES))),
                                st.sampled_from([0, 1]), st.booleans()), min_size=1, max_size=12))
@example(times=[(datetime(2025, 11, 2, 1, 40), 1, 0, False), (datetime(2025, 11, 2, 1, 20), 1, 1, False),
                (datetime(2025, 11, 2, 5, 30), 4, 0, False)])  # (the hour twice, and a time of another zone)
@example(times=[(datetime(2025, 11, 2, 1, 50), 1, 0, False), (datetime(2025, 11, 2, 5, 45), 4, 0, False),
                (datetime(2025, 11, 2, 1, 40), 1, 0, False), (datetime(2025, 11, 2, 1, 20), 1, 1, False)])
# (a zone's fields ordering its times otherwise than their moments, a time of another zone kept between them)
def test_first_and_last_are_min_and_max(times: list[tuple[datetime, int, int, bool]]) -> None:
    """The same objects as ``min`` and ``max`` (ties: the first met), whatever zone objects the times hold:
    moments compared across zones, fields within one, folds included."""
    aware = []
    for when, zone, fold, as_utc in times:
        held = when.replace(tzinfo=UTC).astimezone(SHARED_ZONES[zone]) if as_utc else when.replace(
            tzinfo=SHARED_ZONES[zone], fold=fold)
        aware.append(held)
    first, last = first_and_last(aware)
    assert first is min(aware)
    assert last is max(aware)
