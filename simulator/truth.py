"""Ground truth: each visitor's true stays inside the pizza shop's geofence, and fault counts.

The pipeline's tests and benchmarks score dwell detection against it: a stay of at least the
dwell threshold (180 s) by a known customer is an offer that should fire.
"""

from __future__ import annotations

import csv
import json
from dataclasses import astuple, dataclass, fields
from pathlib import Path

__all__ = ["GroundTruth", "TruthStay", "load_ground_truth", "summary_path_for",
           "write_ground_truth"]


@dataclass(frozen=True)
class TruthStay:
    """One uninterrupted stay inside the geofence (times in epoch ms, clipped to the run).

    ``stopped_at_shop`` tells a planned stop at the shop from passing by or browsing next door.
    """

    customer_id: int
    known: bool
    enter_ts: int
    exit_ts: int
    device_id: str
    visit_id: int
    stopped_at_shop: bool

    @property
    def dwell_s(self) -> float:
        return (self.exit_ts - self.enter_ts) / 1000.0


@dataclass(frozen=True)
class GroundTruth:
    """The stays and the run's summary (settings, counts of pings and injected faults)."""

    stays: tuple[TruthStay, ...]
    summary: dict[str, object]

    def stays_longer_than(self, threshold_s: float, known_only: bool = True
                          ) -> tuple[TruthStay, ...]:
        return tuple(stay for stay in self.stays if stay.dwell_s >= threshold_s
                     and (stay.known or not known_only))


def summary_path_for(truth_csv: str | Path) -> Path:
    """The summary JSON written beside a truth CSV: ``stays.csv`` -> ``stays.summary.json``."""
    path = Path(truth_csv)
    return path.with_name(f"{path.stem}.summary.json")


def write_ground_truth(path: str | Path, stays: list[TruthStay], summary: dict[str, object]
                       ) -> None:
    """Write the stays CSV and its summary JSON beside it."""
    path = Path(path)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([item.name for item in fields(TruthStay)] + ["dwell_s"])
        for stay in sorted(stays, key=lambda s: (s.enter_ts, s.customer_id)):
            row = list(astuple(stay))
            row[1], row[6] = int(stay.known), int(stay.stopped_at_shop)
            writer.writerow([*row, f"{stay.dwell_s:.3f}"])
    summary_path_for(path).write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")


def load_ground_truth(path: str | Path) -> GroundTruth:
    """Read a truth CSV written by the simulator (and its summary JSON when present)."""
    path = Path(path)
    with path.open(newline="", encoding="utf-8") as handle:
        stays = tuple(
            TruthStay(int(row["customer_id"]), row["known"] == "1", int(row["enter_ts"]),
                      int(row["exit_ts"]), row["device_id"], int(row["visit_id"]),
                      row["stopped_at_shop"] == "1")
            for row in csv.DictReader(handle)
        )
    summary_file = summary_path_for(path)
    summary = json.loads(summary_file.read_text()) if summary_file.exists() else {}
    return GroundTruth(stays, summary)
