"""Where cells are on the map: a point or a GeoJSON polygon per cell, and which cell holds a spot.

A community may give any node a ``Location``: a point (a building's door,
with a radius in metres that counts as "here", 100 by default) or a polygon /
multipolygon (the cell's boundary), written as GeoJSON geometries (RFC 7946:
``[longitude, latitude]`` in WGS 84 degrees).  ``cell_at`` finds the node a
latitude/longitude falls in (the deepest one, so a unit wins over its grid);
``nearest`` ranks nodes by distance for a refusal that names them.

Distances are metres on a local flat projection around the spot asked about:
exact enough for a community or a district (an error well under 1% within a
few tens of kilometres); nothing here is meant for continents.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from itertools import pairwise
from typing import Any

import attrs

from .classes import frozen
from .errors import RosterError

#: Metres that count as "at" a cell located by a point, unless the roster says otherwise.
DEFAULT_RADIUS = 100.0
#: Mean Earth radius in metres (IUGG).
EARTH_RADIUS = 6_371_008.8
KINDS = ("Point", "Polygon", "MultiPolygon")

Ring = tuple[tuple[float, float], ...]
Polygon = tuple[Ring, ...]


def _coordinate(value: Any, where: str) -> tuple[float, float]:
    if (
        not isinstance(value, (list, tuple))
        or len(value) < 2
        or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value[:2])
    ):
        raise RosterError(f"{where}: a position is [longitude, latitude], got {value!r} (坐标应写成 [经度, 纬度])")
    lon, lat = float(value[0]), float(value[1])
    if not (-180 <= lon <= 180 and -90 <= lat <= 90) or math.isnan(lon) or math.isnan(lat):
        raise RosterError(
            f"{where}: [{value[0]}, {value[1]}] is not a longitude (-180..180) and latitude (-90..90); "
            "GeoJSON writes longitude first (经纬度超出范围：GeoJSON 先写经度)"
        )
    return lon, lat


def _ring(value: Any, where: str) -> Ring:
    if not isinstance(value, (list, tuple)) or len(value) < 4:
        raise RosterError(f"{where}: a polygon ring needs at least 4 positions (the first repeated last) (多边形的环至少 4 个点，首尾相同)")
    ring = tuple(_coordinate(v, where) for v in value)
    if ring[0] != ring[-1]:
        raise RosterError(f"{where}: a polygon ring must end where it starts (GeoJSON closes rings) (多边形的环须首尾相同)")
    return ring


def _polygon(value: Any, where: str) -> Polygon:
    if not isinstance(value, (list, tuple)) or not value:
        raise RosterError(f"{where}: a polygon is a list of rings (the boundary, then any holes) (多边形应为环的列表（边界，然后是其中的洞）)")
    return tuple(_ring(ring, where) for ring in value)


@frozen
class Location:
    """A node's place on the map: ``Point`` (with ``radius`` metres), ``Polygon`` or ``MultiPolygon``.

    ``shape`` holds the coordinates as tuples, longitude first: a point is one
    ``(lon, lat)``; a polygon is one tuple of rings; a multipolygon several.
    Build one from GeoJSON with ``Location.from_geojson``.
    """

    kind: str = attrs.field(validator=attrs.validators.in_(KINDS))
    shape: Any
    radius: float = DEFAULT_RADIUS

    @classmethod
    def point(cls, lat: float, lon: float, radius: float | None = None) -> Location:
        """A point location at ``lat``, ``lon`` (note: latitude first, as people say it)."""
        return cls.from_geojson({"type": "Point", "coordinates": [lon, lat]}, radius=radius)

    @classmethod
    def from_geojson(cls, doc: Mapping[str, Any], *, radius: float | None = None, where: str = "geometry") -> Location:
        """Read a GeoJSON geometry object; ``RosterError`` naming ``where`` if it is not one we read."""
        if not isinstance(doc, Mapping):
            raise RosterError(f"{where}: a GeoJSON geometry is an object with 'type' and 'coordinates' (GeoJSON 几何须有 type 和 coordinates)")
        kind = doc.get("type")
        if kind == "Feature":
            return cls.from_geojson(doc.get("geometry") or {}, radius=radius, where=where)
        if kind not in KINDS:
            raise RosterError(f"{where}: geometry type {kind!r} is not one of {', '.join(KINDS)} (不支持这种几何类型)")
        coordinates = doc.get("coordinates")
        given = radius if radius is not None else doc.get("radius", DEFAULT_RADIUS)
        if isinstance(given, bool) or not isinstance(given, (int, float)) or not 0 < given <= 100_000:
            raise RosterError(f"{where}: radius must be a number of metres above 0, got {given!r} (半径应为大于 0 的米数)")
        if kind == "Point":
            return cls("Point", _coordinate(coordinates, where), float(given))
        if kind == "Polygon":
            return cls("Polygon", _polygon(coordinates, where), float(given))
        if not isinstance(coordinates, (list, tuple)) or not coordinates:
            raise RosterError(f"{where}: a multipolygon is a list of polygons (多多边形应为多边形的列表)")
        return cls("MultiPolygon", tuple(_polygon(p, where) for p in coordinates), float(given))

    def to_geojson(self) -> dict[str, Any]:
        """The GeoJSON geometry (a point also carries its ``radius``)."""
        if self.kind == "Point":
            lon, lat = self.shape
            return {"type": "Point", "coordinates": [lon, lat], "radius": self.radius}
        if self.kind == "Polygon":
            return {"type": "Polygon", "coordinates": _lists(self.shape)}
        return {"type": "MultiPolygon", "coordinates": [_lists(p) for p in self.shape]}

    @property
    def polygons(self) -> tuple[Polygon, ...]:
        """The polygons of the shape (none for a point)."""
        if self.kind == "Polygon":
            return (self.shape,)
        if self.kind == "MultiPolygon":
            return tuple(self.shape)
        return ()

    def centre(self) -> tuple[float, float]:
        """``(lat, lon)`` of the point, or the mean vertex of the outer rings (for labels, not maths)."""
        if self.kind == "Point":
            return self.shape[1], self.shape[0]
        vertices = [v for polygon in self.polygons for v in polygon[0][:-1]]
        return (
            sum(v[1] for v in vertices) / len(vertices),
            sum(v[0] for v in vertices) / len(vertices),
        )

    def distance(self, lat: float, lon: float) -> float:
        """Metres from the spot to this location: 0 inside a polygon, else to its nearest edge or to the point."""
        if self.kind == "Point":
            return _metres((lon, lat), self.shape, lat)
        if any(_inside(polygon, lon, lat) for polygon in self.polygons):
            return 0.0
        return min(
            _segment_metres((lon, lat), a, b, lat)
            for polygon in self.polygons
            for ring in polygon
            for a, b in pairwise(ring)
        )

    def contains(self, lat: float, lon: float) -> bool:
        """True inside a polygon, or within ``radius`` metres of a point."""
        if self.kind == "Point":
            return self.distance(lat, lon) <= self.radius
        return any(_inside(polygon, lon, lat) for polygon in self.polygons)


def _lists(polygon: Polygon) -> list[list[list[float]]]:
    return [[[lon, lat] for lon, lat in ring] for ring in polygon]


def _inside_ring(ring: Ring, lon: float, lat: float) -> bool:
    """Even-odd ray casting (a point on an edge counts as inside)."""
    inside = False
    for (x1, y1), (x2, y2) in pairwise(ring):
        if _on_segment(lon, lat, x1, y1, x2, y2):
            return True
        if (y1 > lat) != (y2 > lat):
            crossing = x1 + (lat - y1) * (x2 - x1) / (y2 - y1)
            if lon < crossing:
                inside = not inside
    return inside


def _on_segment(x: float, y: float, x1: float, y1: float, x2: float, y2: float) -> bool:
    cross = (x2 - x1) * (y - y1) - (y2 - y1) * (x - x1)
    if abs(cross) > 1e-12:
        return False
    return min(x1, x2) <= x <= max(x1, x2) and min(y1, y2) <= y <= max(y1, y2)


def _inside(polygon: Polygon, lon: float, lat: float) -> bool:
    """Inside the boundary and in none of its holes."""
    outer, *holes = polygon
    if not _inside_ring(outer, lon, lat):
        return False
    return not any(_inside_ring(hole, lon, lat) and not _on_edge(hole, lon, lat) for hole in holes)


def _on_edge(ring: Ring, lon: float, lat: float) -> bool:
    return any(_on_segment(lon, lat, *a, *b) for a, b in pairwise(ring))


def _project(point: tuple[float, float], lat0: float) -> tuple[float, float]:
    """Metres east and north of (0, 0) on an equirectangular projection at latitude ``lat0``."""
    lon, lat = point
    scale = math.pi / 180 * EARTH_RADIUS
    return lon * scale * math.cos(math.radians(lat0)), lat * scale


def _metres(a: tuple[float, float], b: tuple[float, float], lat0: float) -> float:
    (ax, ay), (bx, by) = _project(a, lat0), _project(b, lat0)
    return math.hypot(ax - bx, ay - by)


def _segment_metres(p: tuple[float, float], a: tuple[float, float], b: tuple[float, float], lat0: float) -> float:
    (px, py), (ax, ay), (bx, by) = _project(p, lat0), _project(a, lat0), _project(b, lat0)
    dx, dy = bx - ax, by - ay
    length = dx * dx + dy * dy
    t = 0.0 if length == 0 else max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / length))
    return math.hypot(px - (ax + t * dx), py - (ay + t * dy))


def check_spot(lat: float, lon: float) -> None:
    """Refuse a latitude/longitude that cannot be a place on Earth (``ValueError``)."""
    if math.isnan(lat) or math.isnan(lon) or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValueError(f"lat {lat} / long {lon} is not a place (latitude -90..90, longitude -180..180) (不是地球上的位置：纬度 -90..90，经度 -180..180)")


def cell_at(locations: Mapping[str, Location], depth: Mapping[str, int], lat: float, lon: float) -> str | None:
    """The node whose location holds the spot: the deepest one, then the nearest; None if none does.

    ``depth`` gives each node's level index (0 at the top), so a unit inside a
    grid's polygon wins over the grid.
    """
    check_spot(lat, lon)
    holding = [
        (-depth.get(node, 0), location.distance(lat, lon), node)
        for node, location in locations.items()
        if location.contains(lat, lon)
    ]
    return min(holding)[2] if holding else None


def nearest(
    locations: Mapping[str, Location], lat: float, lon: float, count: int = 3, among: Iterable[str] | None = None
) -> list[tuple[str, float]]:
    """The ``count`` nodes nearest the spot, with their distance in metres, nearest first."""
    check_spot(lat, lon)
    wanted = set(among) if among is not None else None
    ranked = sorted(
        (location.distance(lat, lon), node)
        for node, location in locations.items()
        if wanted is None or node in wanted
    )
    return [(node, metres) for metres, node in ranked[:count]]


def locations_from_document(doc: Mapping[str, Any]) -> dict[str, Location]:
    """``{node: GeoJSON geometry}`` (as ``Community.to_document`` writes it) to locations."""
    return {node: Location.from_geojson(geometry, where=f"location of {node!r}") for node, geometry in doc.items()}


def locations_to_document(locations: Mapping[str, Location]) -> dict[str, Any]:
    """Locations as ``{node: GeoJSON geometry}``."""
    return {node: location.to_geojson() for node, location in locations.items()}

