"""What a phone reports along a trajectory, and where the person truly was (pure, no I/O)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from simulator.agents import Trajectory

__all__ = [
    "ACCURACY_68_TO_SIGMA",
    "Device",
    "PingBatch",
    "device_for",
    "geofence_stays",
    "sample_pings",
]

# A reported accuracy is the radius holding the true position with 68 % probability
# (Android's Location.getAccuracy); for a 2-D Gaussian with per-axis sigma that radius is
# sigma * sqrt(2 ln(1 / 0.32)) = 1.51 sigma.
ACCURACY_68_TO_SIGMA = 1.0 / np.sqrt(2.0 * np.log(1.0 / 0.32))
PING_INTERVAL_RANGE_S = (3.0, 10.0)
BASE_ACCURACY_RANGE_M = (5.0, 20.0)
# Indoors a fix is occasionally much worse (multipath near glass and steel).
POOR_FIX_PROBABILITY = 0.03
# Phones drop out now and then (background limits, dead spots): about one gap per half hour.
GAP_EVERY_S = 1800.0
GAP_RANGE_S = (20.0, 120.0)


@dataclass(frozen=True)
class Device:
    """A phone: how often it reports and how good its fixes usually are."""

    device_id: str
    ping_interval_s: float
    base_accuracy_m: float


def device_for(customer_id: int, device_id: str) -> Device:
    """The same phone every time a customer visits, independent of the run's seed."""
    digest = hashlib.blake2b(f"device:{customer_id}".encode(), digest_size=8).digest()
    u1 = int.from_bytes(digest[:4], "big") / 2**32
    u2 = int.from_bytes(digest[4:], "big") / 2**32
    low, high = PING_INTERVAL_RANGE_S
    acc_low, acc_high = BASE_ACCURACY_RANGE_M
    return Device(device_id, low + (high - low) * u1, acc_low + (acc_high - acc_low) * u2)


@dataclass(frozen=True)
class PingBatch:
    """Pings of one visit: event times, reported and true positions (metres), accuracy."""

    t_s: np.ndarray
    x_m: np.ndarray
    y_m: np.ndarray
    true_x_m: np.ndarray
    true_y_m: np.ndarray
    accuracy_m: np.ndarray


def sample_pings(
    trajectory: Trajectory,
    device: Device,
    window_s: tuple[float, float],
    clip_xy_m: tuple[float, float, float, float],
    rng: np.random.Generator,
) -> PingBatch:
    """Ping times every ``ping_interval_s`` (jittered, with gaps) and noisy fixes.

    Only pings inside ``window_s`` (start inclusive, end exclusive) are returned. Noisy
    positions are clipped to ``clip_xy_m`` (x0, x1, y0, y1) so that a well-formed ping is
    never off the map; off-map pings are injected deliberately as faults.
    """
    arrival, departure = trajectory.arrival_s, trajectory.departure_s
    interval = device.ping_interval_s
    count = int((departure - arrival) / interval) + 1
    t = arrival + rng.uniform(0, interval) + interval * np.arange(count)
    t = t + rng.uniform(-0.1, 0.1, count) * interval
    keep = (t >= max(window_s[0], arrival)) & (t < min(window_s[1], departure))
    for _ in range(rng.poisson((departure - arrival) / GAP_EVERY_S)):
        gap_start = rng.uniform(arrival, departure)
        keep &= ~((t >= gap_start) & (t < gap_start + rng.uniform(*GAP_RANGE_S)))
    t = t[keep]
    true_x, true_y = trajectory.position(t)
    accuracy = device.base_accuracy_m * rng.lognormal(0.0, 0.35, t.size)
    poor = rng.random(t.size) < POOR_FIX_PROBABILITY
    accuracy = np.where(poor, accuracy * rng.uniform(2.0, 4.0, t.size), accuracy)
    # np.minimum/np.maximum: np.clip's dispatch costs more than the work on short arrays.
    accuracy = np.round(np.minimum(np.maximum(accuracy, 3.0), 100.0), 1)
    sigma = accuracy * ACCURACY_68_TO_SIGMA
    x0, x1, y0, y1 = clip_xy_m
    x = np.minimum(np.maximum(true_x + rng.normal(0.0, 1.0, t.size) * sigma, x0), x1)
    y = np.minimum(np.maximum(true_y + rng.normal(0.0, 1.0, t.size) * sigma, y0), y1)
    return PingBatch(t, x, y, true_x, true_y, accuracy)


def geofence_stays(
    trajectory: Trajectory, centre_xy_m: tuple[float, float], radius_m: float
) -> list[tuple[float, float]]:
    """Exact intervals ``(enter_s, exit_s)`` during which the true position is in the circle.

    Each linear piece of the trajectory meets the circle where a quadratic in the piece's
    fraction ``u`` is non-positive; touching intervals are merged into one stay.
    """
    t, x, y = trajectory.t_s, trajectory.x_m, trajectory.y_m
    cx, cy = centre_xy_m
    dx, dy = np.diff(x), np.diff(y)
    fx, fy = x[:-1] - cx, y[:-1] - cy
    a = dx * dx + dy * dy
    b = 2 * (fx * dx + fy * dy)
    c = fx * fx + fy * fy - radius_m * radius_m
    disc = b * b - 4 * a * c
    # Only pieces that reach into the circle need the exact roots (a handful per visit).
    hits = np.flatnonzero(np.where(a == 0.0, c <= 0, disc >= 0))
    stays: list[tuple[float, float]] = []
    for i, ai, bi, di in zip(hits.tolist(), a[hits].tolist(), b[hits].tolist(),
                             disc[hits].tolist(), strict=True):
        if ai == 0.0:
            lo, hi = 0.0, 1.0
        else:
            root = di ** 0.5
            lo = max(0.0, (-bi - root) / (2 * ai))
            hi = min(1.0, (-bi + root) / (2 * ai))
            if lo >= hi:
                continue
        t0, t1 = float(t[i]), float(t[i + 1])
        enter, leave = t0 + lo * (t1 - t0), t0 + hi * (t1 - t0)
        if stays and enter - stays[-1][1] <= 1e-6:
            stays[-1] = (stays[-1][0], leave)
        else:
            stays.append((enter, leave))
    return stays
