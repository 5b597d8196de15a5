"""Events and their JSON form: validation messages and exact round trips."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridcore import EventError
from gridcore.codec import EventCodec
from gridcore.events import CORE_EVENT_TYPES, ActivityRecorded
from gridcore_escalation.events import INCIDENT_EVENT_TYPES, IncidentReported, IncidentVerified
from gridcore_points.events import POINTS_EVENT_TYPES, PointsRedeemed

CST = timezone(timedelta(hours=8))
T = datetime(2025, 3, 1, 9, 0, tzinfo=CST)
#: The core's kinds and the built-in plugins' (registered as any plugin's would be).
ALL_TYPES = (*CORE_EVENT_TYPES, *INCIDENT_EVENT_TYPES, *POINTS_EVENT_TYPES)
codec = EventCodec(ALL_TYPES)


def test_every_kind_is_unique_and_registered() -> None:
    kinds = [cls.kind for cls in ALL_TYPES]
    assert len(kinds) == len(set(kinds))
    assert set(codec.kinds) == set(kinds)
    assert set(EventCodec().kinds) == {cls.kind for cls in CORE_EVENT_TYPES}


def test_the_core_keeps_only_what_every_plugin_shares() -> None:
    assert {cls.kind for cls in CORE_EVENT_TYPES} == {
        "activity_recorded", "patrol_logged", "resident_registered", "resident_moved",
        "household_moved_in", "household_moved_out", "household_split", "household_visited"}


@pytest.mark.parametrize(
    "change,message",
    [
        ({"severity": 9}, "severity must be between 1 and 5, got 9"),
        ({"severity": "high"}, "severity: expected a whole number, got 'high'"),
        ({"time": "2025-03-01T09:00:00"}, "time must carry a time zone"),
        ({"time": "next tuesday"}, "time: expected an ISO 8601 time"),
        ({"category": ""}, "category must be a non-empty string"),
        ({"colour": "red"}, "unknown field(s) colour"),
        ({"kind": "incident_exploded"}, "unknown event kind 'incident_exploded'"),
        ({"key_person": "yes"}, "key_person: expected true or false"),
    ],
)
def test_invalid_documents_name_the_field_and_reason(change: dict[str, object], message: str) -> None:
    doc = codec.to_dict(IncidentReported(id="e1", time=T, actor="m1", node="g1", incident="i1", category="fire"))
    with pytest.raises(EventError) as info:
        codec.from_dict({**doc, **change})
    assert message in str(info.value)


def test_missing_fields_are_named() -> None:
    with pytest.raises(EventError, match="category: missing"):
        codec.from_dict({"kind": "incident_reported", "id": "e1", "time": T.isoformat(),
                         "actor": "m", "node": "g", "incident": "i"})
    with pytest.raises(EventError, match="kind: missing"):
        codec.from_dict({"id": "e1"})
    with pytest.raises(EventError, match="must be a JSON object"):
        codec.from_dict(["not", "an", "object"])  # type: ignore[arg-type]


def test_constructors_validate_too() -> None:
    with pytest.raises(ValueError, match="satisfaction must be between 1 and 5"):
        IncidentVerified(id="v", time=T, actor="m", node="g", incident="i", satisfaction=0)
    with pytest.raises(ValueError, match="time zone"):
        ActivityRecorded(id="a", time=T.replace(tzinfo=None), actor="m", node="g", activity="x")
    assert PointsRedeemed(id="r", time=T, actor="m", node="g", reward="大米").redeemer == "m"


names = st.text(alphabet=st.characters(codec="utf-8", categories=["L", "N"]), min_size=1, max_size=12)
times = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1),
    timezones=st.sampled_from([UTC, CST, timezone(timedelta(hours=-5))]),
)


@given(
    cls=st.sampled_from(ALL_TYPES),
    data=st.data(),
)
def test_round_trip_is_exact(cls: type, data: st.DataObject) -> None:
    values: dict[str, object] = {}
    for a in attrs.fields(cls):
        if a.name == "time":
            values[a.name] = data.draw(times)
        elif a.type in ("str", str) or a.name in ("id", "actor", "node", "incident", "category", "activity",
                                                    "reward", "person", "to_node", "reason", "member",
                                                    "decision"):
            values[a.name] = data.draw(names)
        elif a.name in ("severity", "satisfaction", "score"):
            values[a.name] = data.draw(st.integers(1, 5))
        elif a.name == "participants":
            values[a.name] = tuple(data.draw(st.lists(names, min_size=1, max_size=4, unique=True)))
        elif a.name in ("days", "hours") and a.type in ("int", int):  # an extension asks for some time
            values[a.name] = data.draw(st.integers(1, 30))
        elif a.name in ("hours", "quantity") and a.type in ("float", float):
            values[a.name] = data.draw(st.floats(0, 1000, allow_nan=False))
        elif a.name in ("minutes", "visits", "hazards_found", "quantity", "points"):
            values[a.name] = data.draw(st.integers(0 if a.name in ("minutes", "visits", "hazards_found") else 1,
                                                   1000))
    event = cls(**values)
    assert codec.from_dict(codec.to_dict(event)) == event
