"""Mall movement simulator: customers walk a mall and their phones ping Kafka (Exercise 3).

The public surface is importable from here; the Flink pipeline reads the layout through
:func:`load_mall` and scores dwell detection with :func:`load_ground_truth`.
"""

from __future__ import annotations

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

__all__ = [
    "EARTH_RADIUS_M",
    "ZONE_KINDS",
    "LocalProjection",
    "Mall",
    "MallLayoutError",
    "PizzaShop",
    "Rect",
    "WalkNode",
    "Zone",
    "degrees_to_metres",
    "haversine_m",
    "load_mall",
    "metres_to_degrees",
    "parse_mall",
]
