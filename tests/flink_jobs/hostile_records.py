"""Hostile records for the hostile-input drill, and how they are mixed into a recording (pure).

Every kind of bad record a broken phone, a broken gateway or an attacker could send, each with
the reason the dead-letter topic must give for it, and valid pings of visitors who are not
customers. A bad record that looks like a ping belongs to a stranger at the food court, stamped
with the recording's start, so that even one accepted by mistake could not change an offer.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

from tests.flink_jobs.harness import Recording
from tests.flink_jobs.ping_builders import AT_SHOP, FOOD_COURT

__all__ = [
    "DEAD_LETTER_MAX_CHARS",
    "HOSTILE_TOTAL",
    "KIND_COUNTS",
    "MEGABYTE",
    "STRANGERS",
    "STRANGER_BASE",
    "UNKNOWN",
    "Hostile",
    "as_dead_letter",
    "hostile_records",
    "mix",
]

HOSTILE_TOTAL = 10_000
UNKNOWN = "unknown customers"
# Just under librdkafka's default message.max.bytes (1,000,000 bytes for key and value).
MEGABYTE = 999_000
# What a dead letter keeps of a record (sql/20_validate_pings.sql).
DEAD_LETTER_MAX_CHARS = 65_536
DEEP = 100_000
# Visitors who are not customers (the simulator's unknown ids start at 1,000,000).
STRANGER_BASE = 9_000_000
STRANGERS = 5
STRANGER_EVERY_MS = 20_000  # a stranger's pings at the shop: a stay far past the 180 s mark
HOSTILE_CUSTOMER = 9_100_000
START_MS = 1_795_352_400_000  # the drills' fixed evening (simulator.engine.EVENING_START_MS)

NOT_JSON = "not a JSON object"
EVENT_ID = "event_id missing"
CUSTOMER_ID = "customer_id missing or not an integer"
DEVICE_ID = "device_id missing"
TS = "ts missing or not an integer"
LAT_LON = "lat/lon missing or not numbers"
ACCURACY = "accuracy_m missing or not a number"
OFF_MAP = "lat/lon off the map or not finite"
BAD_ACCURACY = "accuracy_m negative or not finite"
PAST = "ts too far in the past"
FUTURE = "ts in the future"


@dataclass(frozen=True)
class Hostile:
    """One injected bad record: its kind, its bytes (None: a tombstone), the expected reason."""

    kind: str
    value: bytes | None
    reason: str


def _ping(**changes: object) -> dict[str, object]:
    lat, lon = FOOD_COURT
    ping: dict[str, object] = {
        "event_id": "hostile", "customer_id": HOSTILE_CUSTOMER, "device_id": "dev-hostile",
        "ts": START_MS, "lat": lat, "lon": lon, "accuracy_m": 8.0,
    }  # fmt: skip
    ping.update(changes)
    return ping


def _json(**changes: object) -> bytes:
    return json.dumps(_ping(**changes)).encode()


def _without(field: str) -> bytes:
    return json.dumps({k: v for k, v in _ping().items() if k != field}).encode()


def _token(field: str, token: str) -> bytes:
    """A ping whose field holds a token json.dumps would not write (NaN, 1e309...)."""
    ping = _ping(**{field: "@"})
    return json.dumps(ping).replace('"@"', token).encode()


def _raw_device(raw: bytes) -> bytes:
    """A ping whose device_id string holds these bytes as they are (no JSON escaping)."""
    return _json(device_id="@").replace(b'"@"', b'"dev' + raw + b'"')


_PING = _json()

# Each kind's variants: (record, reason); a kind's records cycle through its variants.
_VARIANTS: dict[str, list[tuple[bytes | None, str]]] = {
    "not JSON": [
        (b"GET /pizza HTTP/1.1", NOT_JSON),
        (b"<ping lat='12.99' lon='77.69'/>", NOT_JSON),
        (b"lat=12.997&lon=77.697", NOT_JSON),
        (b"{event_id: e1, customer_id: 7}", NOT_JSON),
        (b"{'event_id': 'e1'}", NOT_JSON),
        (b"[1, 2, 3]", NOT_JSON),
        (b'"a string"', NOT_JSON),
        (b"42", NOT_JSON),
    ],
    "truncated JSON": [(_PING[:cut], NOT_JSON) for cut in range(1, len(_PING))],
    "a megabyte long": [
        (b"x" * MEGABYTE, NOT_JSON),
        (_json(event_id="e" * MEGABYTE), "event_id longer than 128 characters"),
        # raw control characters: six bytes each once the dead letter escapes them
        (b'{"note": "' + b"\x01" * (MEGABYTE - 12) + b'"}', EVENT_ID),
        # not UTF-8: three bytes each once read with replacement characters
        (b"\xff" * MEGABYTE, NOT_JSON),
    ],
    "nested 100,000 deep": [
        (b"[" * DEEP + b"]" * DEEP, NOT_JSON),
        (b'{"a":' * DEEP + b"1" + b"}" * DEEP, EVENT_ID),
        (_token("lat", "[" * DEEP + "]" * DEEP), LAT_LON),
        (b'{"event_id":' + b"[" * DEEP, NOT_JSON),
    ],
    "missing fields": [
        (_without("event_id"), EVENT_ID),
        (_without("customer_id"), CUSTOMER_ID),
        (_without("device_id"), DEVICE_ID),
        (_without("ts"), TS),
        (_without("lat"), LAT_LON),
        (_without("lon"), LAT_LON),
        (_without("accuracy_m"), ACCURACY),
        (b"{}", EVENT_ID),
    ],
    "mistyped fields": [
        (_json(customer_id="C42"), CUSTOMER_ID),
        (_json(customer_id="9100000.5"), CUSTOMER_ID),
        (_json(customer_id=2**70), CUSTOMER_ID),
        (_json(customer_id=None), CUSTOMER_ID),
        (_json(ts="2026-11-22T19:00"), TS),
        (_json(ts=True), TS),
        (_json(ts=2**64), TS),
        (_json(lat={"deg": 12}), LAT_LON),
        (_json(lon=[77.69]), LAT_LON),
        (_json(lat=False), LAT_LON),
        (_json(accuracy_m="five"), ACCURACY),
        (_json(accuracy_m=True), ACCURACY),
        (_json(event_id=None), EVENT_ID),
        (_json(device_id=""), DEVICE_ID),
        # Flink's JSON field reader truncated these to customer 9100000 and a whole ts, and
        # kept an object, array, number or boolean id as its JSON text
        (_json(customer_id=HOSTILE_CUSTOMER + 0.5), CUSTOMER_ID),
        (_json(customer_id=9.1e6), CUSTOMER_ID),  # written 9100000.0
        (_token("customer_id", "9.1e6"), CUSTOMER_ID),
        (_json(ts=START_MS + 0.5), TS),
        (_json(event_id={"id": "hostile"}), EVENT_ID),
        (_json(event_id=["hostile"]), EVENT_ID),
        (_json(event_id=42), EVENT_ID),
        (_json(device_id=True), DEVICE_ID),
        (_json(device_id={"model": "x"}), DEVICE_ID),
    ],
    "NaN and infinite coordinates": [
        (_token("lat", "NaN"), NOT_JSON),  # NaN is no JSON number
        (_token("lon", "Infinity"), NOT_JSON),  # nor is Infinity
        (_token("lon", "-Infinity"), NOT_JSON),
        (_token("lat", "1e309"), OFF_MAP),  # a JSON number, read as infinity
        (_token("lon", "-1e309"), OFF_MAP),
        (_json(lat="NaN"), OFF_MAP),  # as text, read as a double
        (_json(lon="Infinity"), OFF_MAP),
    ],
    "infinite accuracy": [
        (_token("accuracy_m", "1e309"), BAD_ACCURACY),
        (_json(accuracy_m="Infinity"), BAD_ACCURACY),
        (_json(accuracy_m="NaN"), BAD_ACCURACY),
    ],
    # The sandbox lets pings be ten years old (the recorded evening lies in the past), so "far"
    # is decades: the year 1970, 1900, the ends of a Java long, the year 3000.
    "timestamps far away": [
        (_json(ts=0), PAST),
        (_json(ts=-1), PAST),
        (_json(ts=-2_208_988_800_000), PAST),
        (_json(ts=-(2**63)), PAST),
        (_json(ts=32_503_680_000_000), FUTURE),
        (_json(ts=2**63 - 1), FUTURE),
    ],
    "control characters": [
        (b"\x01" + _PING, NOT_JSON),
        (_PING.replace(b", ", b",\x07 ", 1), NOT_JSON),
        (b"\x00" * 16, NOT_JSON),
        (_raw_device(b"\x00\x01\x1b[2J"), "device_id holds control characters"),
        (_raw_device(b"\x7f"), "device_id holds control characters"),
        (_raw_device("\u0085".encode()), "device_id holds control characters"),
        (_json(event_id="e\u001b[31m"), "event_id holds control characters"),
        # not a control character, but no character at all: half a UTF-16 pair, escaped
        (_raw_device(b"\\ud800"), "device_id holds an unpaired surrogate"),
    ],
    "invalid UTF-8": [
        (_raw_device(b"\xff\xfe"), NOT_JSON),
        (_raw_device(b"\x80"), NOT_JSON),
        (_raw_device("é".encode("latin-1") + b"ice"), NOT_JSON),
        (_PING.replace(b'"device_id"', b'"device\xff_id"'), NOT_JSON),
        (b"\xff\xfe\xfd", NOT_JSON),
        # well-formed in shape only, which Flink's JSON field reader decoded (the last one
        # swallowing the quote it was cut short by: "device_id missing")
        (_raw_device(b"\xc0\xaf"), NOT_JSON),  # an overlong "/"
        (_raw_device(b"\xe0\x80\xaf"), NOT_JSON),  # an overlong "/" in three bytes
        (_raw_device(b"\xed\xa0\x80"), NOT_JSON),  # an encoded surrogate, U+D800
        (_raw_device(b"\xf4\x90\x80\x80"), NOT_JSON),  # above U+10FFFF
        (_raw_device(b"\xc3"), NOT_JSON),  # a sequence cut short by the closing quote
        (_PING + b" \xff", NOT_JSON),  # after the object's end
    ],
    # JSON, but not UTF-8: Jackson guesses the encoding from the first bytes and read these
    "UTF-16, UTF-32 and byte order marks": [
        ("\ufeff".encode("utf-16-le") + _PING.decode().encode("utf-16-le"), NOT_JSON),
        (_PING.decode().encode("utf-16-le"), NOT_JSON),
        (_PING.decode().encode("utf-16-be"), NOT_JSON),
        (_PING.decode().encode("utf-32-le"), NOT_JSON),
        (b"\xef\xbb\xbf" + _PING, NOT_JSON),  # UTF-8, with the byte order mark RFC 8259 forbids
    ],
    "empty records": [(b"", NOT_JSON), (b" ", NOT_JSON), (b"\n", NOT_JSON), (b"\t\r\n", NOT_JSON)],
    "null value": [(None, NOT_JSON), (b"null", NOT_JSON)],
}

KIND_COUNTS: dict[str, int] = {
    "not JSON": 1_000,
    "truncated JSON": 1_000,
    "a megabyte long": 12,
    "nested 100,000 deep": 40,
    "missing fields": 1_000,
    "mistyped fields": 1_400,
    "NaN and infinite coordinates": 800,
    "infinite accuracy": 100,
    "timestamps far away": 800,
    "control characters": 900,
    "invalid UTF-8": 1_000,
    "UTF-16, UTF-32 and byte order marks": 48,
    "empty records": 500,
    "null value": 400,
    UNKNOWN: STRANGERS * 200,
}


def hostile_records() -> list[Hostile]:
    """The bad records of every kind (not the strangers' pings), kinds interleaved evenly."""
    placed: list[tuple[float, int, Hostile]] = []
    for order, (kind, variants) in enumerate(_VARIANTS.items()):
        count = KIND_COUNTS[kind]
        for n in range(count):
            value, reason = variants[n % len(variants)]
            placed.append(((n + 0.5) / count, order, Hostile(kind, value, reason)))
    return [hostile for _, _, hostile in sorted(placed, key=lambda item: item[:2])]


def _stranger_ping(stranger: int, number: int, ts: int) -> bytes:
    lat, lon = AT_SHOP
    return json.dumps({
        "event_id": f"stranger-{stranger}-{number}", "customer_id": STRANGER_BASE + stranger,
        "device_id": f"dev-stranger-{stranger}", "ts": ts, "lat": lat, "lon": lon,
        "accuracy_m": 5.0,
    }).encode()  # fmt: skip


def _timestamps(recording: Recording) -> Iterator[int | None]:
    for value in recording.values:
        try:
            yield int(json.loads(value)["ts"])  # type: ignore[arg-type]
        except (ValueError, TypeError, KeyError):  # the recording's own malformed records
            yield None


def mix(recording: Recording, hostile: list[Hostile]) -> Recording:
    """The recording with the hostile records spread evenly through it and strangers pinging.

    Notes
    -----
    A stranger's ping carries the latest event time the recording has reached, so it is never
    late, and it moves no partition's watermark ahead of what the recording's own pings do:
    the simulator keeps its out-of-order pings within 8 s of the stream, inside the pipeline's
    10 s allowance. A bad record keeps the key of the recorded ping after it (its partition is
    of no consequence: a rejected record's event time is epoch 0, before every watermark).
    """
    every = max(1, len(recording) // len(hostile))
    pending = iter(hostile)
    keys: list[bytes] = []
    values: list[bytes | None] = []
    latest_ts = START_MS
    next_stranger_ts = [START_MS] * STRANGERS
    sent = [0] * STRANGERS
    quota = KIND_COUNTS[UNKNOWN] // STRANGERS
    for index, (key, value, ts) in enumerate(
        zip(recording.keys, recording.values, _timestamps(recording), strict=True)
    ):
        if index % every == 0 and (bad := next(pending, None)) is not None:
            keys.append(key)
            values.append(bad.value)
        keys.append(key)
        values.append(value)
        latest_ts = max(latest_ts, ts or latest_ts)
        for stranger in range(STRANGERS):
            if sent[stranger] < quota and latest_ts >= next_stranger_ts[stranger]:
                ping = _stranger_ping(stranger, sent[stranger], latest_ts)
                keys.append(str(STRANGER_BASE + stranger).encode())
                values.append(ping)
                sent[stranger] += 1
                next_stranger_ts[stranger] = latest_ts + STRANGER_EVERY_MS
    for bad in pending:
        keys.append(recording.keys[-1])
        values.append(bad.value)
    if sum(sent) != KIND_COUNTS[UNKNOWN]:
        raise ValueError(f"the recording is too short for {KIND_COUNTS[UNKNOWN]} stranger pings")
    return Recording(keys, values, recording.summary)


# A surrogate encoded in UTF-8 (ED A0..BF 80..BF): one malformed sequence to Java's decoder.
_ENCODED_SURROGATE = re.compile(rb"\xed[\xa0-\xbf][\x80-\xbf]")


def as_dead_letter(value: bytes | None) -> str | None:
    """A record as the dead-letter topic holds it: UTF-8 text, bad bytes replaced, cut short.

    Notes
    -----
    Flink decodes the record's bytes with Java's UTF-8 decoder, one U+FFFD for each bad
    sequence, as Python's ``errors="replace"`` does for every sequence used here but one: an
    encoded surrogate is one bad sequence to Java and three bad bytes to Python, so it is
    replaced here before decoding. The dead letter keeps the first
    :data:`DEAD_LETTER_MAX_CHARS` characters (UTF-16 units in Flink; the same count here, where
    every long record is in the Basic Multilingual Plane).
    """
    if value is None:
        return None
    value = _ENCODED_SURROGATE.sub("\ufffd".encode(), value)
    return value.decode("utf-8", errors="replace")[:DEAD_LETTER_MAX_CHARS]
