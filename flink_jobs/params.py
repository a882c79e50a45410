"""Pure functions that turn configuration, the mall layout and the opt-out list into SQL fragments.

Every value that reaches a ``${placeholder}`` in sql/ is built here, quoted or formatted for
SQL, so the templates never need string surgery of their own.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from pizzario.config import ClockSettings, OfferSettings
from simulator.geometry import EARTH_RADIUS_M, LocalProjection
from simulator.mall import Mall

__all__ = [
    "SinkAndSourceOptions",
    "clock_params",
    "mall_params",
    "offer_params",
    "opt_out_params",
    "pipeline_params",
    "sql_double",
    "sql_string",
    "trigger_params",
    "with_options",
]

def sql_string(value: str) -> str:
    """A SQL string literal (single quotes doubled)."""
    return "'" + value.replace("'", "''") + "'"


def sql_double(value: float) -> str:
    """A finite number as a SQL DOUBLE literal (exponent notation), exact to the last bit.

    Coordinates and distances meet DOUBLE columns on every ping. A DECIMAL literal there, even
    inside ``CAST(... AS DOUBLE)``, is not folded by the planner: the generated code converted
    it through ``BigDecimal`` on every comparison, a fifth of the ping reader's CPU.
    """
    if not math.isfinite(value):
        raise ValueError(f"not a finite number: {value!r}")
    text = repr(float(value))
    return text if "e" in text else f"{text}E0"


def with_options(options: Mapping[str, str]) -> str:
    """The body of a ``WITH (...)`` clause from connector options, one per line."""
    pairs = (f"{sql_string(key)} = {sql_string(value)}" for key, value in options.items())
    return ",\n    ".join(pairs)


@dataclass(frozen=True)
class SinkAndSourceOptions:
    """Connector options of every external table (see :mod:`flink_jobs.connectors`)."""

    # the ping topic or file; stage 1 adds its format
    ping_source: Mapping[str, str]
    dead_letter_sink: Mapping[str, str]
    archive_sink: Mapping[str, str]
    # The result tables of sql/00_result_topics.sql, as the offer job writes them.
    footfall_topic: Mapping[str, str]
    visits_topic: Mapping[str, str]
    # The segmentation's outputs, which stage 9 looks customers up in.
    segments_csv: Path
    segment_offers_csv: Path
    offers_topic: Mapping[str, str]

    def as_params(self) -> dict[str, str]:
        return {
            name: sql_string(str(value)) if isinstance(value, Path) else with_options(value)
            for name, value in vars(self).items()
        }


def _zone_case(mall: Mall) -> str:
    """A CASE expression naming the zone of (lat, lon): half-open rectangles, first match wins."""
    lines = ["CASE"]
    for zone in mall.zones:
        rect = zone.rect
        lines.append(
            f"        WHEN lat >= {sql_double(rect.min_lat)} AND lat < {sql_double(rect.max_lat)}"
            f" AND lon >= {sql_double(rect.min_lon)} AND lon < {sql_double(rect.max_lon)}"
            f" THEN {sql_string(zone.id)}"
        )
    lines.append("        ELSE 'outside-zones'")
    lines.append("    END")
    return "\n".join(lines)


def mall_params(mall: Mall) -> dict[str, str]:
    """Bounds, the shop's geofence and the zone lookup of a mall layout."""
    return {
        "min_lat": sql_double(mall.bounds.min_lat),
        "max_lat": sql_double(mall.bounds.max_lat),
        "min_lon": sql_double(mall.bounds.min_lon),
        "max_lon": sql_double(mall.bounds.max_lon),
        "shop_lat": sql_double(mall.pizza_shop.lat),
        "shop_lon": sql_double(mall.pizza_shop.lon),
        "shop_zone_id": sql_string(mall.pizza_shop.zone_id),
        "geofence_radius_m": sql_double(mall.pizza_shop.geofence_radius_m),
        "earth_radius_m": sql_double(EARTH_RADIUS_M),
        "zone_of_lat_lon": _zone_case(mall),
    }


def trigger_params(mall: Mall, offers: OfferSettings) -> dict[str, str]:
    """The dwell rule's window and radii, and the plane around the shop it measures on.

    The rule works in metres east and north of the shop: an equirectangular plane at the
    shop's latitude, exact to millimetres over a mall (see :mod:`simulator.geometry`).
    """
    if offers.position_window_s <= 0:
        raise ValueError("offers.position_window_s must be positive")
    if not 0 < offers.enter_radius_m <= offers.exit_radius_m:
        raise ValueError(
            "offers.enter_radius_m must be positive and not above offers.exit_radius_m"
        )
    plane = LocalProjection(mall.pizza_shop.lat, mall.pizza_shop.lon)
    return {
        "position_window_s": str(int(offers.position_window_s)),
        "enter_radius_m": sql_double(offers.enter_radius_m),
        "exit_radius_m": sql_double(offers.exit_radius_m),
        "metres_per_degree_lat": sql_double(plane.metres_per_degree_lat),
        "metres_per_degree_lon": sql_double(plane.metres_per_degree_lon),
    }


def offer_params(offers: OfferSettings) -> dict[str, str]:
    """Thresholds and windows of the business logic."""
    for name in ("out_of_orderness_s", "session_gap_s", "footfall_window_s"):
        # The SQL writes these as INTERVAL '<n>' SECOND(3), which holds at most 999 seconds.
        if not 0 < getattr(offers, name) < 1000:
            raise ValueError(f"offers.{name} must be between 1 and 999 seconds")
    return {
        "campaign": sql_string(offers.campaign),
        "dwell_threshold_s": str(int(offers.dwell_threshold_s)),
        "out_of_orderness_s": str(int(offers.out_of_orderness_s)),
        "session_gap_s": str(int(offers.session_gap_s)),
        "footfall_window_s": str(int(offers.footfall_window_s)),
        "max_accuracy_m": sql_double(offers.max_accuracy_m),
        "max_past_skew_ms": str(int(offers.max_clock_skew_s) * 1000),
        "max_future_skew_ms": str(int(offers.max_future_skew_s) * 1000),
    }


def clock_params(clock: ClockSettings) -> dict[str, str]:
    """The product clock's offset from the wall clock (pizzario/clock.py), in milliseconds.

    The ping check of stage 1 and the offers' ``emitted_at`` read the time inside Flink; with
    this offset they agree with the simulator's and the command line's "now".
    """
    return {"clock_offset_ms": str(int(clock.offset_s) * 1000)}


def opt_out_params(opted_out_customer_ids: Iterable[int]) -> dict[str, str]:
    """The ``NOT IN (...)`` list of opted-out customers.

    An empty ``IN ()`` is not SQL and ``NOT IN (NULL)`` would exclude everyone, so an empty list
    becomes ``-1``, which is never a customer id.
    """
    ids = sorted({int(customer_id) for customer_id in opted_out_customer_ids})
    return {"opted_out_customer_ids": ", ".join(str(i) for i in ids) if ids else "-1"}


def pipeline_params(
    *,
    connectors: SinkAndSourceOptions,
    mall: Mall,
    offers: OfferSettings,
    clock: ClockSettings,
    opted_out_customer_ids: Iterable[int],
) -> dict[str, str]:
    """Every placeholder value of the pipeline's SQL files."""
    return {
        **connectors.as_params(),
        **mall_params(mall),
        **offer_params(offers),
        **clock_params(clock),
        **trigger_params(mall, offers),
        **opt_out_params(opted_out_customer_ids),
    }
