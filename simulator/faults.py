"""Fault injection: resent, reordered, late and malformed pings at chosen rates (pure)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["MALFORMED_KINDS", "FaultCounts", "FaultRates", "malformed_value"]

# What a broken phone or a buggy app version sends; each must end in the dead-letter topic.
MALFORMED_KINDS = ("not_json", "missing_field", "wrong_type", "off_map")
# A resend follows its original within a few seconds (the phone's retry after a timeout).
RESEND_DELAY_MS = (200, 3_000)


@dataclass(frozen=True)
class FaultRates:
    """Probabilities per ping (``unknown`` is per visitor). All zero by default."""

    duplicate: float = 0.0
    out_of_order: float = 0.0
    late: float = 0.0
    malformed: float = 0.0
    unknown: float = 0.0

    def __post_init__(self) -> None:
        for name in ("duplicate", "out_of_order", "late", "malformed", "unknown"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} rate must be within [0, 1], got {value}")
        if self.out_of_order + self.late + self.duplicate > 1.0:
            raise ValueError("duplicate, out-of-order and late rates must add up to 1 at most")


@dataclass
class FaultCounts:
    """What was generated and injected, so tests and the pipeline's scoring know the truth.

    ``pings`` counts positions generated; ``records`` counts what was sent (pings plus
    resends). A malformed record replaces its ping; a well-formed ping is at most one of:
    resent, delayed out of order (within the watermark) or delayed late (beyond it).
    """

    pings: int = 0
    records: int = 0
    duplicate: int = 0
    out_of_order: int = 0
    late: int = 0
    malformed: dict[str, int] = field(default_factory=lambda: dict.fromkeys(MALFORMED_KINDS, 0))
    visitors: int = 0
    unknown_visitors: int = 0
    skipped_arrivals: int = 0

    @property
    def malformed_total(self) -> int:
        return sum(self.malformed.values())

    @property
    def valid_records(self) -> int:
        """Records a correct pipeline accepts (resends included, before deduplication)."""
        return self.records - self.malformed_total

    def as_dict(self) -> dict[str, object]:
        return {
            "pings": self.pings,
            "records": self.records,
            "valid_records": self.valid_records,
            "duplicate": self.duplicate,
            "out_of_order": self.out_of_order,
            "late": self.late,
            "malformed": dict(self.malformed),
            "malformed_total": self.malformed_total,
            "visitors": self.visitors,
            "unknown_visitors": self.unknown_visitors,
            "skipped_arrivals": self.skipped_arrivals,
        }


def malformed_value(kind: str, ping: dict[str, Any], rng: np.random.Generator) -> bytes:
    """Render a ping as one kind of malformed record."""
    if kind == "not_json":
        text = json.dumps(ping, separators=(",", ":"))
        return text[: int(rng.integers(1, len(text) - 1))].encode()
    broken = dict(ping)
    if kind == "missing_field":
        del broken[str(rng.choice(["event_id", "customer_id", "device_id", "ts", "lat", "lon",
                                   "accuracy_m"]))]
    elif kind == "wrong_type":
        name = str(rng.choice(["customer_id", "ts", "lat", "accuracy_m"]))
        broken[name] = {"customer_id": f"C{ping['customer_id']}", "ts": "yesterday",
                        "lat": f"{ping['lat']}N", "accuracy_m": None}[name]
    elif kind == "off_map":
        # Null Island and a fix a degree away both happen when a phone's GPS is confused.
        if rng.random() < 0.5:
            broken["lat"], broken["lon"] = 0.0, 0.0
        else:
            broken["lat"] = float(ping["lat"]) + 1.0
    else:
        raise ValueError(f"unknown malformed kind {kind!r}")
    return json.dumps(broken, separators=(",", ":")).encode()
