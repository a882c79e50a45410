"""Small, pure geometry helpers on WGS84 degrees and a local metric plane.

A mall is a few hundred metres across, so a local equirectangular projection around the
mall's origin is accurate to millimetres there; the haversine distance is provided for
callers that compare arbitrary coordinates (for example a stream processor's geofence test).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import numpy.typing as npt

__all__ = [
    "EARTH_RADIUS_M",
    "Coordinate",
    "LocalProjection",
    "degrees_to_metres",
    "haversine_m",
    "metres_to_degrees",
]

# Mean Earth radius (IUGG), the usual choice for haversine distances.
EARTH_RADIUS_M = 6_371_008.8
# A coordinate: one float, or an array of them (the projection maps either alike).
Coordinate = TypeVar("Coordinate", float, npt.NDArray[np.float64])


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres between two WGS84 points given in degrees."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlambda = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def metres_to_degrees(east_m: float, north_m: float, at_lat: float) -> tuple[float, float]:
    """Convert a small displacement in metres to ``(dlat, dlon)`` degrees at latitude ``at_lat``."""
    dlat = math.degrees(north_m / EARTH_RADIUS_M)
    dlon = math.degrees(east_m / (EARTH_RADIUS_M * math.cos(math.radians(at_lat))))
    return dlat, dlon


def degrees_to_metres(dlat: float, dlon: float, at_lat: float) -> tuple[float, float]:
    """Convert a small displacement in degrees to ``(east_m, north_m)`` at latitude ``at_lat``."""
    north_m = math.radians(dlat) * EARTH_RADIUS_M
    east_m = math.radians(dlon) * EARTH_RADIUS_M * math.cos(math.radians(at_lat))
    return east_m, north_m


@dataclass(frozen=True)
class LocalProjection:
    """Equirectangular projection around an origin: ``x`` east and ``y`` north, in metres.

    Works on floats and on NumPy arrays alike (only arithmetic is used).
    """

    origin_lat: float
    origin_lon: float

    @property
    def metres_per_degree_lat(self) -> float:
        return math.radians(1.0) * EARTH_RADIUS_M

    @property
    def metres_per_degree_lon(self) -> float:
        return math.radians(1.0) * EARTH_RADIUS_M * math.cos(math.radians(self.origin_lat))

    def to_xy(self, lat: Coordinate, lon: Coordinate) -> tuple[Coordinate, Coordinate]:
        """Degrees to local metres ``(x_m, y_m)``."""
        return (
            (lon - self.origin_lon) * self.metres_per_degree_lon,
            (lat - self.origin_lat) * self.metres_per_degree_lat,
        )

    def to_latlon(self, x_m: Coordinate, y_m: Coordinate) -> tuple[Coordinate, Coordinate]:
        """Local metres to degrees ``(lat, lon)``."""
        return (
            self.origin_lat + y_m / self.metres_per_degree_lat,
            self.origin_lon + x_m / self.metres_per_degree_lon,
        )
