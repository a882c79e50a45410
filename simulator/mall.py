"""The mall layout contract (data/mall.json): loading, validation and zone lookup.

The layout is a set of axis-aligned rectangles in WGS84 degrees, so that a stream processor can
classify a position with four comparisons. Rectangles are half-open, ``min <= value < max``:
two zones may share an edge, and a point on a shared edge belongs to the zone whose minimum it
is. People walk along a small graph (``walkways``): corridor centre lines, a node inside each
shop and each entrance. Every edge of it stays on walkable zones, which :func:`load_mall`
checks.
"""

from __future__ import annotations

import json
import math
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from simulator.geometry import LocalProjection, haversine_m

__all__ = [
    "ZONE_KINDS",
    "Mall",
    "MallLayoutError",
    "PizzaShop",
    "Rect",
    "WalkNode",
    "Zone",
    "load_mall",
    "parse_mall",
]

ZONE_KINDS = frozenset({"entrance", "corridor", "store", "food_court", "pizza_shop"})
# Zones that are rounded to 7 decimals (about 1 cm) may touch with that much slack.
_OVERLAP_TOLERANCE_DEG = 2e-7
_SHOP_KINDS = frozenset({"store", "pizza_shop"})
# Edges are checked to stay on walkable zones every metre.
_EDGE_CHECK_STEP_M = 1.0


class MallLayoutError(ValueError):
    """A mall layout that cannot be used; the message names the file, the field and the problem."""


@dataclass(frozen=True)
class Rect:
    """An axis-aligned rectangle in degrees, half-open: ``min <= value < max``."""

    min_lat: float
    max_lat: float
    min_lon: float
    max_lon: float

    def contains(self, lat: float, lon: float) -> bool:
        return self.min_lat <= lat < self.max_lat and self.min_lon <= lon < self.max_lon

    def overlaps(self, other: Rect, tolerance: float = _OVERLAP_TOLERANCE_DEG) -> bool:
        """True when the two rectangles share an area (touching edges do not count)."""
        return (
            min(self.max_lat, other.max_lat) - max(self.min_lat, other.min_lat) > tolerance
            and min(self.max_lon, other.max_lon) - max(self.min_lon, other.min_lon) > tolerance
        )

    def within(self, outer: Rect) -> bool:
        return (
            outer.min_lat <= self.min_lat
            and self.max_lat <= outer.max_lat
            and outer.min_lon <= self.min_lon
            and self.max_lon <= outer.max_lon
        )

    @property
    def centre(self) -> tuple[float, float]:
        return (self.min_lat + self.max_lat) / 2, (self.min_lon + self.max_lon) / 2


@dataclass(frozen=True)
class Zone:
    id: str
    name: str
    kind: str
    rect: Rect


@dataclass(frozen=True)
class PizzaShop:
    """The shop and its geofence: "near the shop" means within ``geofence_radius_m`` of it."""

    zone_id: str
    lat: float
    lon: float
    geofence_radius_m: float

    def in_geofence(self, lat: float, lon: float) -> bool:
        return haversine_m(self.lat, self.lon, lat, lon) <= self.geofence_radius_m


@dataclass(frozen=True)
class WalkNode:
    id: str
    lat: float
    lon: float
    zone_id: str


@dataclass(frozen=True)
class Mall:
    """A validated mall layout; build it with :func:`load_mall` or :func:`parse_mall`."""

    name: str
    origin_lat: float
    origin_lon: float
    timezone: str
    bounds: Rect
    pizza_shop: PizzaShop
    zones: tuple[Zone, ...]
    nodes: tuple[WalkNode, ...]
    edges: tuple[tuple[str, str], ...]
    _zones_by_id: Mapping[str, Zone] = field(repr=False, compare=False, default_factory=dict)

    @property
    def projection(self) -> LocalProjection:
        return LocalProjection(self.origin_lat, self.origin_lon)

    def bounds_m(self, margin_m: float = 0.0) -> tuple[float, float, float, float]:
        """The map in local metres, ``(x_min, x_max, y_min, y_max)``, grown by ``margin_m``.

        A negative margin shrinks it (to keep noisy fixes safely inside the map).
        """
        x0, y0 = self.projection.to_xy(self.bounds.min_lat, self.bounds.min_lon)
        x1, y1 = self.projection.to_xy(self.bounds.max_lat, self.bounds.max_lon)
        return x0 - margin_m, x1 + margin_m, y0 - margin_m, y1 + margin_m

    def zone(self, zone_id: str) -> Zone:
        return self._zones_by_id[zone_id]

    def zones_of_kind(self, kind: str) -> tuple[Zone, ...]:
        return tuple(zone for zone in self.zones if zone.kind == kind)

    def zone_at(self, lat: float, lon: float) -> Zone | None:
        """The zone containing the point, or None (outside every zone: walls, back of house)."""
        for zone in self.zones:
            if zone.rect.contains(lat, lon):
                return zone
        return None

    def in_bounds(self, lat: float, lon: float) -> bool:
        """False for a point "off the map" (outside ``bounds``)."""
        return self.bounds.contains(lat, lon)

    def node(self, node_id: str) -> WalkNode:
        return next(node for node in self.nodes if node.id == node_id)


def load_mall(path: str | Path) -> Mall:
    """Read and validate a mall layout from a JSON file.

    Parameters
    ----------
    path : str or Path
        The layout file, usually ``Config.paths.mall_json`` (data/mall.json).

    Returns
    -------
    Mall
        Frozen dataclasses; raises :class:`MallLayoutError` naming the file, the field and the
        problem (bad JSON, missing field, overlapping or degenerate zones, unknown kind, shop
        outside the bounds, walkway graph off the walkable zones or not connected).
    """
    path = Path(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise MallLayoutError(f"{path}: file not found") from error
    except OSError as error:
        raise MallLayoutError(f"{path}: cannot be read ({error.strerror})") from error
    except UnicodeDecodeError as error:
        byte = error.object[error.start]
        raise MallLayoutError(
            f"{path}: not UTF-8 text (byte 0x{byte:02x} at offset {error.start})"
        ) from error
    except json.JSONDecodeError as error:
        raise MallLayoutError(f"{path}: not valid JSON ({error})") from error
    except RecursionError as error:  # nesting deeper than Python's decoder goes
        raise MallLayoutError(f"{path}: not a mall layout (nested too deeply)") from error
    return parse_mall(document, source=str(path))


def parse_mall(document: Mapping[str, Any], source: str = "<mall>") -> Mall:
    """Validate a decoded layout document (see :func:`load_mall`)."""
    reader = _Reader(source)
    if not isinstance(document, Mapping):
        raise MallLayoutError(f"{source}: top level must be a JSON object")
    origin = reader.mapping(document, "origin")
    bounds = reader.rect(document, "bounds")
    zones = tuple(_parse_zone(reader, item, f"zones[{i}]") for i, item in enumerate(
        reader.sequence(document, "zones")))
    shop_doc = reader.mapping(document, "pizza_shop")
    shop = PizzaShop(
        zone_id=reader.string(shop_doc, "zone_id", "pizza_shop"),
        lat=reader.number(shop_doc, "lat", "pizza_shop"),
        lon=reader.number(shop_doc, "lon", "pizza_shop"),
        geofence_radius_m=reader.number(shop_doc, "geofence_radius_m", "pizza_shop"),
    )
    walkways = reader.mapping(document, "walkways")
    nodes = tuple(
        WalkNode(
            id=reader.string(item, "id", f"walkways.nodes[{i}]"),
            lat=reader.number(item, "lat", f"walkways.nodes[{i}]"),
            lon=reader.number(item, "lon", f"walkways.nodes[{i}]"),
            zone_id=reader.string(item, "zone_id", f"walkways.nodes[{i}]"),
        )
        for i, item in enumerate(reader.sequence(walkways, "nodes", "walkways"))
    )
    edges = tuple(_parse_edge(reader, item, i) for i, item in enumerate(
        reader.sequence(walkways, "edges", "walkways")))
    mall = Mall(
        name=reader.string(document, "name"),
        origin_lat=reader.number(origin, "lat", "origin"),
        origin_lon=reader.number(origin, "lon", "origin"),
        timezone=_time_zone(reader, document),
        bounds=bounds,
        pizza_shop=shop,
        zones=zones,
        nodes=nodes,
        edges=edges,
        _zones_by_id={zone.id: zone for zone in zones},
    )
    _validate(mall, reader)
    return mall


def _time_zone(reader: _Reader, document: Mapping[str, Any]) -> str:
    """The mall's IANA time zone (UTC when the layout names none).

    Notes
    -----
    The pipeline hands it to Flink as ``table.local-time-zone``, which fails the job's planning
    on a name it does not know; the offer rules' hours and the cap's days are local to it.
    """
    if "timezone" not in document:
        return "UTC"
    name = document["timezone"]
    if not isinstance(name, str) or not name:
        reader.fail("timezone", f"must be an IANA time zone name, got {name!r}")
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        reader.fail("timezone", f"unknown time zone {name!r} (expected e.g. 'Asia/Kolkata')")
    return name


def _parse_zone(reader: _Reader, item: Any, where: str) -> Zone:
    if not isinstance(item, Mapping):
        reader.fail(where, "must be an object")
    kind = reader.string(item, "kind", where)
    if kind not in ZONE_KINDS:
        reader.fail(f"{where}.kind",
                    f"unknown kind {kind!r} (expected one of {sorted(ZONE_KINDS)})")
    return Zone(
        id=reader.string(item, "id", where),
        name=reader.string(item, "name", where),
        kind=kind,
        rect=reader.rect(item, "rect", where),
    )


def _parse_edge(reader: _Reader, item: Any, index: int) -> tuple[str, str]:
    if not (isinstance(item, list | tuple) and len(item) == 2 and all(
            isinstance(end, str) for end in item)):
        reader.fail(f"walkways.edges[{index}]", "must be a pair of node ids")
    return item[0], item[1]


def _validate(mall: Mall, reader: _Reader) -> None:
    seen: set[str] = set()
    for i, zone in enumerate(mall.zones):
        if zone.id in seen:
            reader.fail(f"zones[{i}].id", f"duplicate zone id {zone.id!r}")
        seen.add(zone.id)
        if not zone.rect.within(mall.bounds):
            reader.fail(f"zones[{i}].rect", f"zone {zone.id!r} lies outside bounds")
        for other in mall.zones[:i]:
            if zone.rect.overlaps(other.rect):
                reader.fail(f"zones[{i}].rect", f"zone {zone.id!r} overlaps zone {other.id!r}")
    if not mall.zones_of_kind("entrance"):
        reader.fail("zones", "no zone of kind 'entrance'")
    _validate_shop(mall, reader)
    _validate_walkways(mall, reader)


def _validate_shop(mall: Mall, reader: _Reader) -> None:
    shop = mall.pizza_shop
    zone = mall._zones_by_id.get(shop.zone_id)
    if zone is None or zone.kind != "pizza_shop":
        reader.fail("pizza_shop.zone_id", f"{shop.zone_id!r} is not a zone of kind 'pizza_shop'")
    if not mall.in_bounds(shop.lat, shop.lon):
        reader.fail("pizza_shop", "shop position lies outside bounds")
    if not zone.rect.contains(shop.lat, shop.lon):
        reader.fail("pizza_shop", f"shop position lies outside its zone {zone.id!r}")
    if not shop.geofence_radius_m > 0:
        reader.fail("pizza_shop.geofence_radius_m", "must be positive")


def _validate_walkways(mall: Mall, reader: _Reader) -> None:
    ids = [node.id for node in mall.nodes]
    if len(set(ids)) != len(ids):
        reader.fail("walkways.nodes", "duplicate node ids")
    for i, node in enumerate(mall.nodes):
        zone = mall._zones_by_id.get(node.zone_id)
        if zone is None or not zone.rect.contains(node.lat, node.lon):
            reader.fail(f"walkways.nodes[{i}]", f"node {node.id!r} is not inside zone "
                        f"{node.zone_id!r}")
    by_id = {node.id: node for node in mall.nodes}
    projection = mall.projection
    for i, (a, b) in enumerate(mall.edges):
        for end in (a, b):
            if end not in by_id:
                reader.fail(f"walkways.edges[{i}]", f"unknown node {end!r}")
        # An edge may cross corridors, entrances and the food court, but enter no shop other
        # than the ones it leads to: people do not walk through shop walls.
        allowed = {by_id[a].zone_id, by_id[b].zone_id}
        xa, ya = projection.to_xy(by_id[a].lat, by_id[a].lon)
        xb, yb = projection.to_xy(by_id[b].lat, by_id[b].lon)
        steps = max(1, math.ceil(math.hypot(xb - xa, yb - ya) / _EDGE_CHECK_STEP_M))
        for step in range(steps + 1):
            lat, lon = projection.to_latlon(xa + (xb - xa) * step / steps,
                                            ya + (yb - ya) * step / steps)
            zone = mall.zone_at(lat, lon)
            if zone is None or (zone.kind in _SHOP_KINDS and zone.id not in allowed):
                reader.fail(f"walkways.edges[{i}]", f"edge {a!r}-{b!r} leaves the walkable zones")
    unreached = set(ids) - _reachable(ids[0], mall.edges) if ids else set()
    if unreached:
        reader.fail("walkways", f"graph is not connected: unreachable {sorted(unreached)[:5]}")
    served = {node.zone_id for node in mall.nodes}
    for zone in mall.zones:
        if zone.kind != "corridor" and zone.id not in served:
            reader.fail("walkways.nodes", f"zone {zone.id!r} has no walkway node")


def _reachable(start: str, edges: tuple[tuple[str, str], ...]) -> set[str]:
    neighbours: dict[str, list[str]] = {}
    for a, b in edges:
        neighbours.setdefault(a, []).append(b)
        neighbours.setdefault(b, []).append(a)
    seen, frontier = {start}, [start]
    while frontier:
        for nxt in neighbours.get(frontier.pop(), []):
            if nxt not in seen:
                seen.add(nxt)
                frontier.append(nxt)
    return seen


class _Reader:
    """Typed field access that names the source and the field in every error."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, problem: str) -> NoReturn:
        raise MallLayoutError(f"{self.source}: {where}: {problem}")

    def _get(self, doc: Mapping[str, Any], key: str, where: str) -> Any:
        if key not in doc:
            self.fail(_join(where, key), "missing field")
        return doc[key]

    def mapping(self, doc: Mapping[str, Any], key: str, where: str = "") -> Mapping[str, Any]:
        value = self._get(doc, key, where)
        if not isinstance(value, Mapping):
            self.fail(_join(where, key), "must be an object")
        return value

    def sequence(self, doc: Mapping[str, Any], key: str, where: str = "") -> list[Any]:
        value = self._get(doc, key, where)
        if not isinstance(value, list) or not value:
            self.fail(_join(where, key), "must be a non-empty list")
        return value

    def string(self, doc: Mapping[str, Any], key: str, where: str = "") -> str:
        value = self._get(doc, key, where)
        if not isinstance(value, str) or not value:
            self.fail(_join(where, key), "must be a non-empty string")
        return value

    def number(self, doc: Mapping[str, Any], key: str, where: str = "") -> float:
        value = self._get(doc, key, where)
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(
                value):
            self.fail(_join(where, key), f"must be a finite number, got {value!r}")
        return float(value)

    def rect(self, doc: Mapping[str, Any], key: str, where: str = "") -> Rect:
        value = self.mapping(doc, key, where)
        here = _join(where, key)
        rect = Rect(*(self.number(value, name, here)
                      for name in ("min_lat", "max_lat", "min_lon", "max_lon")))
        if not (rect.min_lat < rect.max_lat and rect.min_lon < rect.max_lon):
            self.fail(here, "degenerate rectangle (min must be below max)")
        if not (-90 <= rect.min_lat < rect.max_lat <= 90
                and -180 <= rect.min_lon < rect.max_lon <= 180):
            self.fail(here, "not WGS84 degrees (latitudes within -90..90, longitudes -180..180)")
        return rect


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key
