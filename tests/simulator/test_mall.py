from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from pizzario import load_config
from simulator import (
    LocalProjection,
    MallLayoutError,
    degrees_to_metres,
    haversine_m,
    load_mall,
    metres_to_degrees,
    parse_mall,
)

MALL_JSON = load_config({}).paths.mall_json


@pytest.fixture(scope="module")
def document() -> dict:
    return json.loads(MALL_JSON.read_text())


def test_shipped_layout_loads_with_the_promised_shape() -> None:
    mall = load_mall(MALL_JSON)
    kinds = [zone.kind for zone in mall.zones]
    assert 18 <= kinds.count("store") <= 24
    assert 2 <= kinds.count("entrance") <= 4
    assert kinds.count("food_court") == 1 and kinds.count("pizza_shop") == 1
    shop = mall.pizza_shop
    assert mall.zone_at(shop.lat, shop.lon).id == shop.zone_id == "pizzario"
    # The geofence reaches over the promenade, so walkers pass through it without stopping.
    corridor = mall.zone("corridor-main").rect
    corridor_centre_lat = (corridor.min_lat + corridor.max_lat) / 2
    assert haversine_m(shop.lat, shop.lon, corridor_centre_lat, shop.lon) < shop.geofence_radius_m


def test_zone_at_uses_half_open_rectangles(document: dict) -> None:
    mall = parse_mall(document)
    west = mall.zone("entrance-west").rect
    # The shared edge between the west entrance and the promenade belongs to the promenade.
    assert mall.zone_at((west.min_lat + west.max_lat) / 2, west.max_lon).id == "corridor-main"
    assert mall.zone_at(west.min_lat + 1e-6, west.min_lon + 1e-6).id == "entrance-west"
    assert mall.zone_at(mall.bounds.min_lat, mall.bounds.min_lon) is None
    assert not mall.in_bounds(mall.bounds.max_lat, mall.bounds.min_lon)


def test_geometry_helpers_agree_with_hand_numbers() -> None:
    # One degree of latitude is 111.195 km on the mean-radius sphere.
    assert haversine_m(12.0, 77.0, 13.0, 77.0) == pytest.approx(111_195, abs=1)
    dlat, dlon = metres_to_degrees(100.0, 50.0, at_lat=60.0)
    # At 60 degrees a degree of longitude is half as long as at the equator.
    assert dlon == pytest.approx(2 * 100.0 / 111_195, rel=1e-4)
    assert degrees_to_metres(dlat, dlon, at_lat=60.0) == pytest.approx((100.0, 50.0))
    projection = LocalProjection(12.9965, 77.6955)
    lat, lon = projection.to_latlon(30.0, -40.0)
    assert projection.to_xy(lat, lon) == pytest.approx((30.0, -40.0))
    assert haversine_m(12.9965, 77.6955, lat, lon) == pytest.approx(50.0, abs=0.01)


def _broken(document: dict, change: Callable[[dict], None]) -> dict:
    broken = copy.deepcopy(document)
    change(broken)
    return broken


def _zone(document: dict, zone_id: str) -> dict:
    return next(zone for zone in document["zones"] if zone["id"] == zone_id)


def _overlap(doc: dict) -> None:
    _zone(doc, "store-02")["rect"] = dict(_zone(doc, "store-01")["rect"])


def _degenerate(doc: dict) -> None:
    rect = _zone(doc, "store-03")["rect"]
    rect["max_lat"] = rect["min_lat"]


def _unknown_kind(doc: dict) -> None:
    _zone(doc, "store-04")["kind"] = "cinema"


def _shop_outside_bounds(doc: dict) -> None:
    doc["pizza_shop"]["lat"] = doc["bounds"]["max_lat"] + 0.01


def _disconnected(doc: dict) -> None:
    doc["walkways"]["edges"] = [
        edge for edge in doc["walkways"]["edges"] if "north-arcade" not in edge
    ]


def _edge_through_wall(doc: dict) -> None:
    doc["walkways"]["edges"].append(["store-01", "store-21"])


def _missing_field(doc: dict) -> None:
    del doc["bounds"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_overlap, "zones[9].rect: zone 'store-02' overlaps zone 'store-01'"),
        (_degenerate, "degenerate rectangle"),
        (_unknown_kind, "unknown kind 'cinema'"),
        (_shop_outside_bounds, "pizza_shop: shop position lies outside bounds"),
        (_disconnected, "graph is not connected"),
        (_edge_through_wall, "edge 'store-01'-'store-21' leaves the walkable zones"),
        (_missing_field, "bounds: missing field"),
    ],
)
def test_broken_layouts_fail_naming_file_field_and_problem(
    document: dict, change: Callable[[dict], None], message: str, tmp_path: Path
) -> None:
    path = tmp_path / "mall.json"
    path.write_text(json.dumps(_broken(document, change)))
    with pytest.raises(MallLayoutError) as raised:
        load_mall(path)
    assert str(raised.value).startswith(f"{path}: ")
    assert message in str(raised.value)


def test_unreadable_files_are_named(tmp_path: Path) -> None:
    path = tmp_path / "mall.json"
    path.write_text("{not json")
    with pytest.raises(MallLayoutError, match="not valid JSON"):
        load_mall(path)
    with pytest.raises(MallLayoutError, match="file not found"):
        load_mall(tmp_path / "missing.json")
