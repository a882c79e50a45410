"""A mall layout the simulator or the pipeline cannot use is refused with the file, the field
and the problem: missing keys, wrong types, non-finite numbers, zones that are not rectangles,
a shop off the map, a time zone Flink does not know, a file that is not UTF-8 JSON."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pizzario.config import load_config
from simulator.mall import MallLayoutError, load_mall

Change = Callable[[dict[str, Any]], None]


@pytest.fixture(scope="module")
def shipped() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(load_config({}).paths.mall_json.read_text())
    return document


def _set(path: str, value: object) -> Change:
    """Set the field at a dotted path (``zones.3.rect``) to ``value``."""

    def change(document: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = document
        for key in parents:
            target = target[int(key)] if isinstance(target, list) else target[key]
        target[int(last) if isinstance(target, list) else last] = value

    return change


def _delete(path: str) -> Change:
    def change(document: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = document
        for key in parents:
            target = target[int(key)] if isinstance(target, list) else target[key]
        del target[last]

    return change


BROKEN = {
    "no pizza_shop": (_delete("pizza_shop"), "pizza_shop: missing field"),
    "no timezone value": (_set("timezone", None), "timezone: must be an IANA time zone name"),
    "timezone a number": (_set("timezone", 5.5), "timezone: must be an IANA time zone name"),
    "unknown timezone": (_set("timezone", "Mars/Olympus_Mons"),
                         "timezone: unknown time zone 'Mars/Olympus_Mons'"),
    "timezone a path": (_set("timezone", "../../etc/passwd"), "timezone: unknown time zone"),
    "zones an object": (_set("zones", {"a": 1}), "zones: must be a non-empty list"),
    "no zones": (_set("zones", []), "zones: must be a non-empty list"),
    "a zone a string": (_set("zones.0", "entrance"), "zones[0]: must be an object"),
    "a polygon, not a rectangle": (
        _set("zones.0.rect", [[12.997, 77.6955], [12.9971, 77.6956], [12.997, 77.6957]]),
        "zones[0].rect: must be an object",
    ),
    "a rectangle without a corner": (_delete("zones.0.rect.max_lon"),
                                     "zones[0].rect.max_lon: missing field"),
    "a flat rectangle": (_set("zones.0.rect.max_lat", 12.9969856),
                         "zones[0].rect: degenerate rectangle"),
    "a corner as text": (_set("zones.0.rect.min_lat", "12.99"),
                         "zones[0].rect.min_lat: must be a finite number, got '12.99'"),
    "a corner as a boolean": (_set("bounds.min_lat", True),
                              "bounds.min_lat: must be a finite number, got True"),
    "latitude beyond the pole": (_set("bounds.max_lat", 95.0),
                                 "bounds: not WGS84 degrees"),
    "shop off the map": (_set("pizza_shop.lon", 77.7),
                         "pizza_shop: shop position lies outside bounds"),
    "geofence radius zero": (_set("pizza_shop.geofence_radius_m", 0),
                             "pizza_shop.geofence_radius_m: must be positive"),
    "shop zone unknown": (_set("pizza_shop.zone_id", "nowhere"),
                          "pizza_shop.zone_id: 'nowhere' is not a zone of kind 'pizza_shop'"),
    "empty name": (_set("name", ""), "name: must be a non-empty string"),
}  # fmt: skip


@pytest.mark.parametrize("case", BROKEN, ids=list(BROKEN))
def test_a_broken_layout_is_refused_naming_file_field_and_problem(
    shipped: dict[str, Any], tmp_path: Path, case: str
) -> None:
    change, problem = BROKEN[case]
    document = copy.deepcopy(shipped)
    change(document)
    path = tmp_path / "mall.json"
    path.write_text(json.dumps(document))
    with pytest.raises(MallLayoutError) as refused:
        load_mall(path)
    assert str(refused.value).startswith(f"{path}: {problem}")


# Python's JSON decoder reads these tokens; a layout must not.
@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity", "1e309"])
def test_a_non_finite_coordinate_is_refused(
    shipped: dict[str, Any], tmp_path: Path, token: str
) -> None:
    text = json.dumps(shipped).replace(
        f'"lat": {shipped["pizza_shop"]["lat"]}', f'"lat": {token}', 1
    )
    assert token in text
    path = tmp_path / "mall.json"
    path.write_text(text)
    with pytest.raises(MallLayoutError, match=r"pizza_shop\.lat: must be a finite number"):
        load_mall(path)


UNREADABLE = {
    "empty": (b"", "not valid JSON"),
    "truncated": (b'{"name": "x", "bounds": {', "not valid JSON"),
    "an array": (b"[1, 2]", "top level must be a JSON object"),
    "not UTF-8": (b'{"name": "Caf\xe9"}', "not UTF-8 text (byte 0xe9 at offset 13)"),
    "nested a million deep": (b"[" * 1_000_000 + b"]" * 1_000_000,
                              "not a mall layout (nested too deeply)"),
}  # fmt: skip


@pytest.mark.parametrize("case", UNREADABLE, ids=list(UNREADABLE))
def test_a_file_that_is_no_layout_is_named(tmp_path: Path, case: str) -> None:
    content, problem = UNREADABLE[case]
    path = tmp_path / "mall.json"
    path.write_bytes(content)
    with pytest.raises(MallLayoutError) as refused:
        load_mall(path)
    assert str(refused.value).startswith(f"{path}: {problem}")


def test_a_folder_is_named_not_read(tmp_path: Path) -> None:
    with pytest.raises(MallLayoutError, match=r"mall\.json: cannot be read \(Is a directory\)"):
        (tmp_path / "mall.json").mkdir()
        load_mall(tmp_path / "mall.json")


def test_a_layout_without_a_time_zone_is_in_utc(shipped: dict[str, Any], tmp_path: Path) -> None:
    document = copy.deepcopy(shipped)
    del document["timezone"]
    path = tmp_path / "mall.json"
    path.write_text(json.dumps(document))
    assert load_mall(path).timezone == "UTC"
