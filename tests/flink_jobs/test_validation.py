"""The ping contract is checked twice (stage 2): on the typed 'json' stream that feeds the
pipeline and on the raw lines that feed the dead-letter topic. Every line must land on exactly
one side, whatever it looks like."""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

import pytest

from flink_jobs.local import run_on_files
from pizzario.config import load_config
from tests.flink_jobs.ping_builders import AT_SHOP

pytestmark = pytest.mark.slow


def _lines(now_ms: int) -> dict[str, str]:
    """Edge cases by name; each event_id is its name, so a kept line can be found again."""
    lat, lon = AT_SHOP

    def ping(name: str, **changes: object) -> str:
        fields = {"event_id": name, "customer_id": 1, "device_id": "phone-1", "ts": now_ms,
                  "lat": lat, "lon": lon, "accuracy_m": 5.0}  # fmt: skip
        fields.update(changes)
        return json.dumps({key: value for key, value in fields.items() if value is not None})

    return {
        "plain": ping("plain"),
        "extra-field": ping("extra-field", battery_pct=80),
        "numbers-as-strings": ping("numbers-as-strings", customer_id="1", lat=str(lat)),
        "integral-float-ts": ping("integral-float-ts", ts=float(now_ms)),
        "nan-latitude": ping("nan-latitude", lat="NaN"),
        "huge-latitude": ping("huge-latitude", lat=1e308),
        "null-device": ping("null-device", device_id=None),
        "empty-event-id": ping("empty-event-id", event_id=""),
        "boolean-accuracy": ping("boolean-accuracy", accuracy_m=True),
        "json-array": json.dumps([1, 2, 3]),
        "empty-line": "",
        "truncated": ping("truncated")[:40],
    }


def test_every_line_is_either_kept_or_dead_lettered_once(tmp_path: Path) -> None:
    config = load_config()
    config = dataclasses.replace(
        config, offers=dataclasses.replace(config.offers, max_clock_skew_s=3 * 86_400)
    )
    lines = _lines(int(time.time() * 1000) - 3_600_000)
    (tmp_path / "pings.jsonl").write_text("\n".join(lines.values()) + "\n", encoding="utf-8")
    result = run_on_files(config, tmp_path / "pings.jsonl", tmp_path / "out")

    kept = {row["event_id"] for row in result["archive"]}
    dead = {row["record"] for row in result["dead_letters"]}
    placed = {name: (name in kept, line in dead) for name, line in lines.items()}
    assert [name for name, (kept_, dead_) in placed.items() if kept_ == dead_] == []
    assert len(result["dead_letters"]) == len(dead)
    assert {name for name, (is_kept, _) in placed.items() if is_kept} == {
        "plain", "extra-field", "numbers-as-strings", "integral-float-ts",
    }  # fmt: skip
