"""The dwell rule's radii against the simulator's phones: where the weighted position lies.

Plays simple tracks through the simulator's own fix model (``simulator.pings.sample_pings``:
its ping intervals, accuracies, poor fixes and drop-outs) and the dwell rule's Python model
(``flink_jobs.dwell_rule``), for a few candidate pairs of enter and exit radii:

- standing in the shop at 0, 5 and 9.5 m from its centre (9.5 m: a far corner) for 300 s, the
  first ping already there: how far the 60 s weighted position strays (p99.9 over pings), how
  often a stay breaks in two, how often no offer comes;
- browsing 30 m from the centre (the nearest neighbouring shop's spots) for 20 minutes: how
  close the weighted position comes (p1 over pings), how often a stay begins, how often an
  offer fires;
- walking in at 1.2 m/s, standing 240 s at the counter and walking out: the offer's time
  against the true crossing of the enter radius plus the threshold (p1, p50, p99).

No service is needed; it prints a table (about a minute)::

    .venv/bin/python bench/dwell_radii.py [--tracks 1000] [--seed 1]
"""

from __future__ import annotations

import argparse
import math

import numpy as np

from flink_jobs.dwell_rule import DwellParams, Fix, dwell_triggers
from pizzario.config import load_config
from simulator.agents import Trajectory
from simulator.pings import BASE_ACCURACY_RANGE_M, PING_INTERVAL_RANGE_S, Device, sample_pings

RADII = [(15.0, 22.0), (16.0, 23.0), (17.0, 24.0), (18.0, 24.0), (18.0, 25.0)]
CLIP_M = (-1000.0, 1000.0, -1000.0, 1000.0)
WALK_MPS = 1.2


def _fixes(trajectory: Trajectory, rng: np.random.Generator, max_accuracy_m: float) -> list[Fix]:
    device = Device(
        "bench",
        float(rng.uniform(*PING_INTERVAL_RANGE_S)),
        float(rng.uniform(*BASE_ACCURACY_RANGE_M)),
    )
    window = (trajectory.arrival_s, trajectory.departure_s + 1.0)
    pings = sample_pings(trajectory, device, window, CLIP_M, rng)
    return [
        Fix(round(t * 1000), x, y, a)
        for t, x, y, a in zip(
            pings.t_s.tolist(), pings.x_m.tolist(), pings.y_m.tolist(),
            pings.accuracy_m.tolist(), strict=True,
        )
        if a <= max_accuracy_m
    ]  # fmt: skip


def _standing(distance_m: float, seconds: float, rng: np.random.Generator) -> Trajectory:
    angle = rng.uniform(0, 2 * math.pi)
    x, y = distance_m * math.cos(angle), distance_m * math.sin(angle)
    return Trajectory(np.array([0.0, seconds]), np.array([x, x]), np.array([y, y]))


def _walk_in(rng: np.random.Generator) -> Trajectory:
    angle = rng.uniform(0, 2 * math.pi)
    far_x, far_y = 80.0 * math.cos(angle), 80.0 * math.sin(angle)
    walk_s = 80.0 / WALK_MPS
    t = np.array([0.0, walk_s, walk_s + 240.0, 2 * walk_s + 240.0])
    return Trajectory(t, np.array([far_x, 0.0, 0.0, far_x]), np.array([far_y, 0.0, 0.0, far_y]))


def _distances(fixes: list[Fix], window_ms: int) -> list[float]:
    """The weighted position's distance at each ping with a full window behind it."""
    out: list[float] = []
    for k, fix in enumerate(fixes):
        if fix.ts_ms - fixes[0].ts_ms < window_ms:
            continue
        inside = [f for f in fixes[: k + 1] if fix.ts_ms - f.ts_ms < window_ms]
        weights = [1.0 / max(f.accuracy_m, 1.0) ** 2 for f in inside]
        east = sum(w * f.east_m for w, f in zip(weights, inside, strict=True)) / sum(weights)
        north = sum(w * f.north_m for w, f in zip(weights, inside, strict=True)) / sum(weights)
        out.append(math.hypot(east, north))
    return out


def _stays(fixes: list[Fix], params: DwellParams) -> int:
    """How many stays begin: with a threshold of 0 the rule fires where each stay begins."""
    instant = DwellParams(
        params.window_ms, params.enter_radius_m, params.exit_radius_m, params.session_gap_ms, 0
    )
    return len(dwell_triggers(fixes, instant))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tracks", type=int, default=1000, help="tracks per case")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    offers = load_config().offers
    rng = np.random.default_rng(args.seed)
    base = DwellParams.from_offers(offers)
    threshold_s = offers.dwell_threshold_s

    cases: dict[str, list[list[Fix]]] = {
        f"in the shop, {d} m": [
            _fixes(_standing(d, 300.0, rng), rng, offers.max_accuracy_m)
            for _ in range(args.tracks)
        ]
        for d in (0.0, 5.0, 9.5)
    }
    browsing = [
        _fixes(_standing(30.0, 1200.0, rng), rng, offers.max_accuracy_m)
        for _ in range(args.tracks)
    ]
    walks = [_walk_in(rng) for _ in range(args.tracks)]
    walk_fixes = [_fixes(walk, rng, offers.max_accuracy_m) for walk in walks]

    print(f"window {offers.position_window_s} s, threshold {threshold_s} s, "
          f"{args.tracks} tracks per case")
    for name, tracks in cases.items():
        distances = [d for fixes in tracks for d in _distances(fixes, base.window_ms)]
        print(f"{name}: weighted position p99.9 {np.percentile(distances, 99.9):.1f} m")
    distances = [d for fixes in browsing for d in _distances(fixes, base.window_ms)]
    print(f"browsing at 30 m: weighted position p1 {np.percentile(distances, 1):.1f} m, "
          f"beyond 24 m at {np.mean(np.array(distances) > 24.0):.1%} of pings")
    print()
    print("enter/exit | in shop: no offer, broken (0 / 5 / 9.5 m) | browsing 30 m: stay, offer"
          " | walk-in offset vs enter radius + threshold p1/p50/p99")
    for enter_m, exit_m in RADII:
        params = DwellParams(
            base.window_ms, enter_m, exit_m, base.session_gap_ms, base.dwell_threshold_ms
        )
        shop = []
        for tracks in cases.values():
            none = np.mean([not dwell_triggers(fixes, params) for fixes in tracks])
            broken = np.mean([_stays(fixes, params) > 1 for fixes in tracks])
            shop.append(f"{none:.1%} {broken:.1%}")
        stay = np.mean([_stays(fixes, params) > 0 for fixes in browsing])
        offer = np.mean([bool(dwell_triggers(fixes, params)) for fixes in browsing])
        offsets = []
        for fixes in walk_fixes:
            triggers = dwell_triggers(fixes, params)
            if triggers:
                entry_s = (80.0 - enter_m) / WALK_MPS
                offsets.append(triggers[0].ts_ms / 1000 - entry_s - threshold_s)
        p1, p50, p99 = np.percentile(offsets, [1, 50, 99])
        print(f"{enter_m:.0f}/{exit_m:.0f} m | {' / '.join(shop)} | {stay:.1%}, {offer:.1%}"
              f" | {p1:+.1f} / {p50:+.1f} / {p99:+.1f} s ({len(walks) - len(offsets)} missed)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
