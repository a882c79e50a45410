from __future__ import annotations

import csv
from pathlib import Path

import pytest

from pizzario import load_config
from simulator import Mall, load_mall
from simulator.population import SEGMENT_COLUMNS


@pytest.fixture(scope="session")
def mall() -> Mall:
    return load_mall(load_config({}).paths.mall_json)


@pytest.fixture
def segments_csv(tmp_path: Path) -> Path:
    """A small segment table: 60 customers in a low-spending and a high-spending segment.

    Every fifth customer was ``assigned`` to a segment after fitting; customer ``n`` lies
    ``n / 97`` from the centroid (four decimals).
    """
    path = tmp_path / "segments.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(SEGMENT_COLUMNS)
        for customer_id in range(1, 61):
            high = customer_id % 2 == 0
            writer.writerow([
                customer_id, "Female" if customer_id % 3 else "Male", 20 + customer_id % 40,
                40 + customer_id, 80 + customer_id % 15 if high else 10 + customer_id % 15,
                2 if high else 1, "high spenders" if high else "careful spenders",
                "assigned" if customer_id % 5 == 0 else "created", f"{customer_id / 97:.4f}",
            ])
    return path
