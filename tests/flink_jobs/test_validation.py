"""The ping contract, checked once per record by the 'pizzario-ping' format (stage 1) and split
by stage 2 into the pipeline and the dead-letter topic. Every line must land on exactly one
side, whatever it looks like, and a dead letter carries the first rule its record broke."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from datetime import time as time_of_day
from pathlib import Path

import pytest

from flink_jobs.local import run_on_files
from pizzario.clock import Clock, configured_clock
from pizzario.config import load_config
from simulator.mall import Rect, load_mall
from tests.flink_jobs.hostile_records import as_dead_letter
from tests.flink_jobs.ping_builders import AT_SHOP

pytestmark = pytest.mark.slow


def _records(now_ms: int, bounds: Rect) -> dict[str, bytes]:
    """Edge cases by name; each event_id is its name, so a kept record can be found again.

    Besides the contract's own edges, the cases cover ways of writing a valid ping that the two
    sides must read alike: escapes, unusual numbers, field order, a repeated field, values
    exactly on the map's edges.
    """
    lat, lon = AT_SHOP

    def ping(name: str, **changes: object) -> str:
        fields = {"event_id": name, "customer_id": 1, "device_id": "phone-1", "ts": now_ms,
                  "lat": lat, "lon": lon, "accuracy_m": 5.0}  # fmt: skip
        fields.update(changes)
        return json.dumps({key: value for key, value in fields.items() if value is not None})

    lines = {
        # the gateway's heartbeats: only a time, neither a ping nor a dead letter when valid
        "heartbeat": json.dumps({"heartbeat": True, "ts": now_ms}),
        "heartbeat-without-ts": json.dumps({"heartbeat": True}),
        "heartbeat-in-the-future": json.dumps({"heartbeat": True, "ts": now_ms + 86_400_000}),
        "heartbeat-false": ping("heartbeat-false", heartbeat=False),  # an unknown field's value
        "plain": ping("plain"),
        "extra-field": ping("extra-field", battery_pct=80),
        "numbers-as-strings": ping("numbers-as-strings", customer_id="1", lat=str(lat)),
        "integral-float-ts": ping("integral-float-ts", ts=float(now_ms)),
        # The 'json' format reads the first JSON value of a record and ignores what follows.
        "trailing-text": ping("trailing-text") + " and more",
        "decimal-string-id": ping("decimal-string-id", customer_id="1.0"),
        "nan-latitude": ping("nan-latitude", lat="NaN"),
        "huge-latitude": ping("huge-latitude", lat=1e308),
        "null-device": ping("null-device", device_id=None),
        "empty-event-id": ping("empty-event-id", event_id=""),
        "boolean-accuracy": ping("boolean-accuracy", accuracy_m=True),
        "negative-accuracy": ping("negative-accuracy", accuracy_m=-1.0),
        "infinite-accuracy": ping("infinite-accuracy", accuracy_m="Infinity"),
        "ancient": ping("ancient", ts=now_ms - 30 * 86_400_000),
        "json-array": json.dumps([1, 2, 3]),
        "empty-line": "",
        "truncated": ping("truncated")[:40],
        "compact": json.dumps(json.loads(ping("compact")), separators=(",", ":")),
        "reordered": json.dumps(dict(reversed(json.loads(ping("reordered")).items()))),
        "escaped-id": ping("escaped-id").replace('"escaped-id"', '"escaped\\u002did"'),
        "non-ascii-device": ping("non-ascii-device", device_id="téléphone"),
        "exponent-latitude": ping("exponent-latitude").replace(f"{lat!r}", f"{lat * 10!r}e-1"),
        "long-fraction-longitude": ping("long-fraction-longitude", lon=lon + 1e-13),
        "integer-accuracy": ping("integer-accuracy", accuracy_m=5),
        "negative-zero-accuracy": ping("negative-zero-accuracy", accuracy_m=-0.0),
        "repeated-latitude": ping("repeated-latitude")[:-1] + f', "lat": {lat!r}}}',
        "on-the-lower-edges": ping("on-the-lower-edges", lat=bounds.min_lat, lon=bounds.min_lon),
        "on-the-upper-edge": ping("on-the-upper-edge", lat=bounds.max_lat),
        "leading-zero-latitude": ping("leading-zero-latitude").replace(f"{lat!r}", f"0{lat!r}"),
        "escape-in-device": ping("escape-in-device", device_id="phone\x1b[2J"),
        "raw-control-in-device": ping("raw-control-in-device").replace("phone-1", "phone\x01"),
        "long-device-id": ping("long-device-id", device_id="p" * 129),
        "longest-device-id": ping("longest-device-id", device_id="p" * 128),
    }
    records = {name: line.encode() for name, line in lines.items()}
    # Not UTF-8: the 'json' format cannot decode it, so it must be dead-lettered.
    records["invalid-utf8"] = (
        ping("invalid-utf8", device_id="phone-@").encode().replace(b"@", b"\xff\xfe")
    )
    records.update(_strictly_read(ping, now_ms))
    return records


def _strictly_read(ping: Callable[..., str], now_ms: int) -> dict[str, bytes]:
    """Records Flink's JSON field reader accepted (or named wrongly) and the contract refuses.

    Not UTF-8 in a string (Jackson decoded the first four; the fifth lost its quote), UTF-16
    (Jackson guesses the encoding from the first bytes), numbers that are not integers, ids that
    are not strings; and forms that must still read as before, or as decided (the last of a
    repeated field counts).
    """

    def raw_device(name: str, raw: bytes) -> bytes:
        return ping(name, device_id="@").encode().replace(b'"@"', b'"phone' + raw + b'"')

    def token(name: str, field: str, text: str) -> bytes:
        return ping(name, **{field: "@"}).replace('"@"', text).encode()

    plain = ping("utf-16")
    deep = 100_000
    return {
        "overlong-slash": raw_device("overlong-slash", b"\xc0\xaf"),
        "overlong-three-bytes": raw_device("overlong-three-bytes", b"\xe0\x80\xaf"),
        "encoded-surrogate": raw_device("encoded-surrogate", b"\xed\xa0\x80"),
        "beyond-unicode": raw_device("beyond-unicode", b"\xf4\x90\x80\x80"),
        "cut-short-by-a-quote": raw_device("cut-short-by-a-quote", b"\xc3"),
        "invalid-after-the-object": ping("invalid-after-the-object").encode() + b" \xff",
        "utf-8-bom": b"\xef\xbb\xbf" + ping("utf-8-bom").encode(),
        "utf-16-le-bom": "\ufeff".encode("utf-16-le")
        + plain.replace("utf-16", "le-bom").encode("utf-16-le"),
        "utf-16-le": plain.replace("utf-16", "le").encode("utf-16-le"),
        "utf-16-be": plain.replace("utf-16", "be").encode("utf-16-be"),
        "fractional-customer-id": ping("fractional-customer-id", customer_id=1.5).encode(),
        "float-customer-id": ping("float-customer-id", customer_id=1.0).encode(),
        "exponent-customer-id": token("exponent-customer-id", "customer_id", "1e0"),
        "huge-customer-id": ping("huge-customer-id", customer_id=2**70).encode(),
        "fractional-ts": token("fractional-ts", "ts", f"{now_ms}.5"),
        "exponent-ts": token("exponent-ts", "ts", f"{now_ms / 1000!r}e3"),
        "object-event-id": ping("object-event-id", event_id={"id": "object-event-id"}).encode(),
        "array-event-id": ping("array-event-id", event_id=["array-event-id"]).encode(),
        "number-event-id": ping("number-event-id", event_id=42).encode(),
        "boolean-device": ping("boolean-device", device_id=True).encode(),
        "object-device": ping("object-device", device_id={"model": "x"}).encode(),
        "nan-literal-latitude": token("nan-literal-latitude", "lat", "NaN"),
        "raw-nul-in-device": raw_device("raw-nul-in-device", b"\x00"),
        "escaped-lone-surrogate": raw_device("escaped-lone-surrogate", b"\\ud800"),
        "escaped-reversed-pair": raw_device("escaped-reversed-pair", b"\\udf55\\ud83c"),
        "escaped-pair": raw_device("escaped-pair", b"\\ud83c\\udf55"),
        "nested-unknown-field": ('{"a":' * deep + "1" + "}" * deep).encode(),
        "nested-latitude": token("nested-latitude", "lat", "[" * deep + "]" * deep),
        "repeated-id-last-mistyped": ping("repeated-id-last-mistyped")[:-1].encode()
        + b', "customer_id": [1]}',
        "repeated-id-last-valid": b'{"customer_id": [1], '
        + ping("repeated-id-last-valid")[1:].encode(),
    }


def _clock_edges(now_ms: int, wall_ms: int, max_past_skew_ms: int) -> dict[str, bytes]:
    """Pings at the edges of the skew check, measured from the product's clock, and one stamped
    with the unshifted wall clock (days ahead of the product's clock in this test)."""
    lat, lon = AT_SHOP

    def ping(name: str, ts: int) -> bytes:
        return json.dumps({"event_id": name, "customer_id": 1, "device_id": "phone-1",
                           "ts": ts, "lat": lat, "lon": lon, "accuracy_m": 5.0}).encode()

    # The check runs seconds to a minute after now_ms was read (the mini cluster starts
    # first), so the kept edges sit ten minutes inside the bounds.
    return {
        "a-minute-ahead": ping("a-minute-ahead", now_ms + 60_000),
        "ten-minutes-ahead": ping("ten-minutes-ahead", now_ms + 600_000),
        "inside-the-past-bound": ping("inside-the-past-bound", now_ms - max_past_skew_ms + 600_000),
        "on-the-wall-clock": ping("on-the-wall-clock", wall_ms),
    }


HEARTBEATS = {"heartbeat"}
EXPECTED_REASONS = {
    "heartbeat-without-ts": "ts missing or not an integer",
    "heartbeat-in-the-future": "ts in the future",
    "escape-in-device": "device_id holds control characters",
    "raw-control-in-device": "device_id holds control characters",
    "long-device-id": "device_id longer than 128 characters",
    "ten-minutes-ahead": "ts in the future",
    "on-the-wall-clock": "ts in the future",
    "decimal-string-id": "customer_id missing or not an integer",
    "nan-latitude": "lat/lon off the map or not finite",
    "huge-latitude": "lat/lon off the map or not finite",
    "null-device": "device_id missing",
    "empty-event-id": "event_id missing",
    "boolean-accuracy": "accuracy_m missing or not a number",
    "negative-accuracy": "accuracy_m negative or not finite",
    "infinite-accuracy": "accuracy_m negative or not finite",
    "ancient": "ts too far in the past",
    "json-array": "not a JSON object",
    "empty-line": "not a JSON object",
    "truncated": "not a JSON object",
    "invalid-utf8": "not a JSON object",
    "on-the-upper-edge": "lat/lon off the map or not finite",
    "leading-zero-latitude": "not a JSON object",
    # read strictly (the decoder's own reader, no longer Flink's JSON field reader)
    "overlong-slash": "not a JSON object",
    "overlong-three-bytes": "not a JSON object",
    "encoded-surrogate": "not a JSON object",
    "beyond-unicode": "not a JSON object",
    "cut-short-by-a-quote": "not a JSON object",
    "invalid-after-the-object": "not a JSON object",
    "utf-8-bom": "not a JSON object",
    "utf-16-le-bom": "not a JSON object",
    "utf-16-le": "not a JSON object",
    "utf-16-be": "not a JSON object",
    "fractional-customer-id": "customer_id missing or not an integer",
    "float-customer-id": "customer_id missing or not an integer",
    "exponent-customer-id": "customer_id missing or not an integer",
    "huge-customer-id": "customer_id missing or not an integer",
    "fractional-ts": "ts missing or not an integer",
    "object-event-id": "event_id missing",
    "array-event-id": "event_id missing",
    "number-event-id": "event_id missing",
    "boolean-device": "device_id missing",
    "object-device": "device_id missing",
    "nan-literal-latitude": "not a JSON object",
    "raw-nul-in-device": "device_id holds control characters",
    "escaped-lone-surrogate": "device_id holds an unpaired surrogate",
    "escaped-reversed-pair": "device_id holds an unpaired surrogate",
    "nested-unknown-field": "event_id missing",
    "nested-latitude": "lat/lon missing or not numbers",
    "repeated-id-last-mistyped": "customer_id missing or not an integer",
}


def _product_clock(time_zone: str) -> Clock:
    """The product's clock two days behind the configured one, at 19:30 mall time.

    A fixed time of day, and a day and more from the wall clock: a ping check that ignored the
    clock's offset would keep ``on-the-wall-clock`` and refuse ``inside-the-past-bound``.
    """
    configured = configured_clock(load_config().clock)
    return Clock(configured.offset_s - 2 * 86_400).at_local_time(time_zone, time_of_day(19, 30))


def test_every_line_is_either_kept_or_dead_lettered_once_with_its_reason(
    tmp_path: Path,
) -> None:
    config = load_config()
    mall = load_mall(config.paths.mall_json)
    clock = _product_clock(mall.timezone)
    config = dataclasses.replace(config, clock=clock.settings)
    bounds = mall.bounds
    now_ms = clock.now_ms()
    records = {
        **_records(now_ms - 3_600_000, bounds),
        **_clock_edges(now_ms, Clock().now_ms(), config.offers.max_clock_skew_s * 1000),
    }
    (tmp_path / "pings.jsonl").write_bytes(b"\n".join(records.values()) + b"\n")
    result = run_on_files(config, tmp_path / "pings.jsonl", tmp_path / "out", mall=mall)
    checked_by_ms = clock.now_ms()

    archived = {row["event_id"]: row for row in result["archive"]}
    kept = set(archived)
    # The dead-letter record is the original, decoded as UTF-8 with replacement characters
    # and cut short.
    reasons = {row["record"]: row["reason"] for row in result["dead_letters"]}
    placed = {
        name: (name in kept, reasons.get(as_dead_letter(record)))
        for name, record in records.items()
    }
    assert {name for name, (is_kept, reason) in placed.items() if is_kept == bool(reason)} == (
        HEARTBEATS
    )
    # a valid heartbeat is neither archived nor dead-lettered
    assert {placed[name] for name in HEARTBEATS} == {(False, None)}
    assert len(result["dead_letters"]) == len(reasons)
    assert {name: reason for name, (_, reason) in placed.items() if reason} == EXPECTED_REASONS
    assert {name for name, (is_kept, _) in placed.items() if is_kept} == {
        "plain", "extra-field", "numbers-as-strings", "integral-float-ts", "trailing-text",
        "compact", "reordered", "escaped-id", "non-ascii-device", "exponent-latitude",
        "long-fraction-longitude", "integer-accuracy", "negative-zero-accuracy",
        "repeated-latitude", "on-the-lower-edges", "a-minute-ahead", "inside-the-past-bound",
        "longest-device-id", "exponent-ts", "repeated-id-last-valid", "escaped-pair",
        "heartbeat-false",
    }  # fmt: skip
    # each dead letter is stamped on the product's clock, while the run was checking records
    assert all(now_ms <= row["rejected_at"] <= checked_by_ms for row in result["dead_letters"])

    # The archive keeps each value exactly as read: text byte for byte, doubles to the last bit.
    lat, lon = AT_SHOP
    assert archived["non-ascii-device"]["device_id"] == "téléphone"
    assert archived["long-fraction-longitude"]["lon"] == lon + 1e-13
    assert (archived["plain"]["lat"], archived["plain"]["lon"]) == (lat, lon)
    assert archived["on-the-lower-edges"]["lat"] == bounds.min_lat
    assert archived["integer-accuracy"]["accuracy_m"] == 5.0
    assert archived["exponent-ts"]["ts"] == now_ms - 3_600_000
    assert archived["repeated-id-last-valid"]["customer_id"] == 1
    assert archived["escaped-pair"]["device_id"] == "phone\U0001f355"
