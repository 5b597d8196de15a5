"""Cells on the map: points and GeoJSON polygons, which cell holds a spot, the roster formats."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridcore import Community, RosterError
from gridcore.geo import Location
from gridcore_app.rosterio import load_community, save_community

REPO = Path(__file__).resolve().parent.parent
MINI = REPO / "tests" / "data" / "community-mini"
SQUARE = [[113.0, 22.5], [113.01, 22.5], [113.01, 22.51], [113.0, 22.51], [113.0, 22.5]]
HOLE = [[113.004, 22.504], [113.006, 22.504], [113.006, 22.506], [113.004, 22.506], [113.004, 22.504]]


def polygon(*rings: list[list[float]]) -> Location:
    return Location.from_geojson({"type": "Polygon", "coordinates": list(rings)})


def test_a_polygon_holds_what_is_inside_it_and_not_its_holes() -> None:
    square = polygon(SQUARE)
    assert square.contains(22.505, 113.005) and square.distance(22.505, 113.005) == 0
    assert square.contains(22.5, 113.005)  # on the edge
    assert not square.contains(22.52, 113.005)
    assert square.distance(22.52, 113.005) == pytest.approx(1112, abs=2)  # 0.01° of latitude
    holed = polygon(SQUARE, HOLE)
    assert not holed.contains(22.505, 113.005) and holed.contains(22.502, 113.002)
    multi = Location.from_geojson({"type": "MultiPolygon", "coordinates": [[SQUARE], [HOLE]]})
    assert multi.contains(22.505, 113.005)


def test_a_point_holds_what_is_within_its_radius() -> None:
    door = Location.point(22.5, 113.0, radius=50)
    assert door.contains(22.5003, 113.0)  # about 33 m north
    assert not door.contains(22.5006, 113.0)  # about 67 m
    assert door.to_geojson() == {"type": "Point", "coordinates": [113.0, 22.5], "radius": 50.0}


@given(st.floats(0.001, 0.999), st.floats(0.001, 0.999))
def test_every_spot_inside_a_rectangle_is_held_at_distance_zero(x: float, y: float) -> None:
    lat, lon = 22.5 + 0.01 * y, 113.0 + 0.01 * x
    square = polygon(SQUARE)
    assert square.contains(lat, lon) and square.distance(lat, lon) == 0
    assert not square.contains(lat + 0.011, lon) and square.distance(lat + 0.011, lon) > 0


@pytest.mark.parametrize(
    "doc, message",
    [
        ({"type": "LineString", "coordinates": [[0, 0], [1, 1]]}, "geometry type 'LineString' is not one of"),
        ({"type": "Point", "coordinates": [22.5, 113.0]}, "GeoJSON writes longitude first"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1]]]}, "at least 4 positions"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]}, "must end where it starts"),
        ({"type": "Point", "coordinates": [113.0, 22.5], "radius": -1}, "radius must be a number of metres"),
    ],
)
def test_malformed_geometry_is_refused_with_the_reason(doc: dict[str, object], message: str) -> None:
    with pytest.raises(RosterError, match=message):
        Location.from_geojson(doc)


def test_the_deepest_cell_holding_a_spot_wins_and_outside_names_the_nearest() -> None:
    mini = load_community(MINI)
    located = Community.from_document({
        **mini.to_document(),
        "locations": {
            "g1": {"type": "Polygon", "coordinates": [SQUARE]},
            "g1-u1": {"type": "Polygon", "coordinates": [HOLE]},
            "g1-u2": {"type": "Point", "coordinates": [113.009, 22.501], "radius": 80},
        },
    })
    assert located.cell_at(22.505, 113.005) == "g1-u1"
    assert located.cell_at(22.5012, 113.0089) == "g1-u2"
    assert located.cell_at(22.508, 113.001) == "g1"
    assert located.cell_at(23.0, 114.0) is None
    assert [node for node, _ in located.nearest_cells(22.52, 113.005)] == ["g1-u1", "g1-u2"]
    assert Community.from_document(located.to_document()) == located
    assert "locations" not in mini.to_document()  # communities without a map keep their document
    with pytest.raises(ValueError, match="is not a place"):
        located.cell_at(95.0, 113.0)


def test_roster_files_put_cells_on_the_map_and_save_them_back(tmp_path: Path) -> None:
    folder = tmp_path / "yq"
    shutil.copytree(MINI, folder)
    nodes = (folder / "nodes.csv").read_text(encoding="utf-8-sig").splitlines()
    header, rows = nodes[0] + ",lat,lon,radius", [r + ",,," for r in nodes[1:]]
    rows = [r.replace("g1-u2,2单元,最小单元,g1,,,,", "g1-u2,2单元,最小单元,g1,,22.501,113.009,80") for r in rows]
    (folder / "nodes.csv").write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    (folder / "cells.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"id": "g1"}, "geometry": {"type": "Polygon", "coordinates": [SQUARE]}},
    ]}), encoding="utf-8")
    community = load_community(folder)
    assert community.locations["g1-u2"] == Location.point(22.501, 113.009, radius=80)
    assert community.locations["g1"].kind == "Polygon"
    saved = tmp_path / "saved"
    save_community(community, saved)
    assert load_community(saved) == community
    assert (saved / "cells.geojson").exists()
    save_community(community, tmp_path / "inline", inline=True)
    assert load_community(tmp_path / "inline") == community


@pytest.mark.parametrize(
    "row, message",
    [
        ("g1-u2,2单元,最小单元,g1,,22.5,,", "give both lat and lon"),
        ("g1-u2,2单元,最小单元,g1,,north,113,", "lat must be a number"),
        ("g1-u2,2单元,最小单元,g1,,,,50", "radius is the size of a point"),
        ("g1-u2,2单元,最小单元,g1,,113.0,22.5,", "GeoJSON writes longitude first"),
    ],
)
def test_a_bad_location_cell_names_the_file_and_row(tmp_path: Path, row: str, message: str) -> None:
    folder = tmp_path / "yq"
    shutil.copytree(MINI, folder)
    nodes = (folder / "nodes.csv").read_text(encoding="utf-8-sig").splitlines()
    body = [r + ",,," if not r.startswith("g1-u2,") else row for r in nodes[1:]]
    (folder / "nodes.csv").write_text("\n".join([nodes[0] + ",lat,lon,radius", *body]) + "\n", encoding="utf-8")
    with pytest.raises(RosterError, match=f"nodes.csv row \\d+: .*{message}"):
        load_community(folder)


def test_cells_geojson_must_name_known_nodes(tmp_path: Path) -> None:
    folder = tmp_path / "yq"
    shutil.copytree(MINI, folder)
    (folder / "cells.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"id": "g9"}, "geometry": {"type": "Polygon", "coordinates": [SQUARE]}},
    ]}), encoding="utf-8")
    with pytest.raises(RosterError, match="cells.geojson feature 1: properties.id must name a node"):
        load_community(folder)
