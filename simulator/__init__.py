"""Mall movement simulator: customers walk a mall and their phones ping Kafka (Exercise 3).

The public surface is importable from here; the Flink pipeline reads the layout through
:func:`load_mall` and scores dwell detection with :func:`load_ground_truth`.
"""

from __future__ import annotations

from simulator.engine import Batch, Settings, Simulation
from simulator.faults import MALFORMED_KINDS, FaultCounts, FaultRates
from simulator.geometry import (
    EARTH_RADIUS_M,
    LocalProjection,
    degrees_to_metres,
    haversine_m,
    metres_to_degrees,
)
from simulator.mall import (
    ZONE_KINDS,
    Mall,
    MallLayoutError,
    PizzaShop,
    Rect,
    WalkNode,
    Zone,
    load_mall,
    parse_mall,
)
from simulator.population import (
    UNKNOWN_ID_BASE,
    Customer,
    SegmentsError,
    load_segments,
    synthesize_customers,
)
from simulator.truth import GroundTruth, TruthStay, load_ground_truth, summary_path_for

__all__ = [
    "EARTH_RADIUS_M",
    "MALFORMED_KINDS",
    "UNKNOWN_ID_BASE",
    "ZONE_KINDS",
    "Batch",
    "Customer",
    "FaultCounts",
    "FaultRates",
    "GroundTruth",
    "LocalProjection",
    "Mall",
    "MallLayoutError",
    "PizzaShop",
    "Rect",
    "SegmentsError",
    "Settings",
    "Simulation",
    "TruthStay",
    "WalkNode",
    "Zone",
    "degrees_to_metres",
    "haversine_m",
    "load_ground_truth",
    "load_mall",
    "load_segments",
    "metres_to_degrees",
    "parse_mall",
    "summary_path_for",
    "synthesize_customers",
]
