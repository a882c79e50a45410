"""A picture of the layout with sample walks: ``python -m simulator map`` (deterministic)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from simulator.agents import Destinations, behaviour_for, build_trajectory, plan_visit
from simulator.engine import FIX_MARGIN_M
from simulator.mall import Mall
from simulator.pings import device_for, sample_pings
from simulator.walkways import WalkGraph

__all__ = ["draw_map"]

KIND_COLOURS = {
    "entrance": "#9ecae1",
    "corridor": "#eeeeee",
    "store": "#fdd0a2",
    "food_court": "#c7e9c0",
    "pizza_shop": "#fb6a4a",
}


def draw_map(mall: Mall, out: str | Path, visitors: int = 12, seed: int = 7,
             truth_radii_m: tuple[float, float] | None = None) -> Path:
    """Draw zones, walkways, the shop's geofence, sample paths, dwell spots and one phone's fixes.

    ``truth_radii_m`` (inner, outer) adds the ground truth's two circles. The same ``seed``
    draws the same picture (PNG metadata without a timestamp).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Circle, Rectangle

    graph, places = WalkGraph(mall), Destinations.of(mall)
    rng = np.random.default_rng(seed)
    fig, ax = plt.subplots(figsize=(13, 7.5), dpi=110)
    for zone in mall.zones:
        x0, x1, y0, y1 = graph.rect_m(zone.id)
        ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, facecolor=KIND_COLOURS[zone.kind],
                               edgecolor="#777777", linewidth=0.6, zorder=1))
        if zone.kind != "corridor":
            ax.text((x0 + x1) / 2, (y0 + y1) / 2, zone.name, fontsize=6, ha="center",
                    va="center", rotation=90 if zone.kind == "store" else 0, color="#333333",
                    zorder=2)
    for a, b in mall.edges:
        (xa, ya), (xb, yb) = graph.xy[a], graph.xy[b]
        ax.plot([xa, xb], [ya, yb], color="#bbbbbb", linewidth=0.6, linestyle=":", zorder=2)
    shop = mall.pizza_shop
    shop_xy = mall.projection.to_xy(shop.lat, shop.lon)
    ax.add_patch(Circle(shop_xy, shop.geofence_radius_m, fill=False, edgecolor="#cb181d",
                        linewidth=1.5, linestyle="--", zorder=4,
                        label=f"Pizzario geofence ({shop.geofence_radius_m:g} m)"))
    for radius, style, name in zip(truth_radii_m or (), (":", "-."), ("inner", "outer"),
                                   strict=False):
        ax.add_patch(Circle(shop_xy, radius, fill=False, edgecolor="#67000d", linewidth=0.9,
                            linestyle=style, zorder=4,
                            label=f"ground truth's {name} radius ({radius:g} m)"))
    colours = plt.get_cmap("tab10")
    for index in range(visitors):
        plan = plan_visit(behaviour_for(float(rng.uniform(10, 95))), places, rng, 7200.0)
        trajectory = build_trajectory(plan, graph, 0.0, rng)
        # Offset each path a little so overlapping corridor walks stay readable.
        jitter = rng.normal(0.0, 0.8, 2)
        x, y = trajectory.x_m + jitter[0], trajectory.y_m + jitter[1]
        colour = colours(index % 10)
        ax.plot(x, y, color=colour, linewidth=1.0, alpha=0.8, zorder=5)
        standing = np.flatnonzero((np.diff(trajectory.x_m) == 0) & (np.diff(trajectory.y_m) == 0))
        stand_s = np.diff(trajectory.t_s)[standing]
        ax.scatter(x[standing], y[standing], s=np.clip(stand_s / 6, 4, 120), color=colour,
                   alpha=0.6, edgecolors="black", linewidths=0.3, zorder=6)
        if index == 0:
            pings = sample_pings(trajectory, device_for(1, "sample"), (0.0, 1e9),
                                 mall.bounds_m(margin_m=FIX_MARGIN_M), rng)
            ax.scatter(pings.x_m, pings.y_m, s=3, color=colour, marker="x", alpha=0.5,
                       zorder=5, label="one phone's reported fixes (GPS noise)")
    ax.scatter([], [], s=40, color="grey", alpha=0.6, edgecolors="black",
               label="where someone stood (size = seconds)")
    bx0, bx1, by0, by1 = mall.bounds_m()
    ax.set_xlim(bx0, bx1)
    ax.set_ylim(by0, by1)
    ax.set_aspect("equal")
    ax.set_xlabel(f"metres east of {mall.origin_lat:.5f}, {mall.origin_lon:.5f}")
    ax.set_ylabel("metres north")
    ax.set_title(f"{mall.name}: {len(mall.zones)} zones, {visitors} sample visits")
    ax.legend(loc="upper right", fontsize=7)
    fig.tight_layout()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, metadata={"Software": None})
    plt.close(fig)
    return out

