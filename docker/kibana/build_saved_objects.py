"""Write the Kibana 7.17 saved objects of the Pizzario dashboard as NDJSON.

The committed ``saved_objects.ndjson`` beside this file is this script's output; the provisioning
step (docker/provision.py) imports it through Kibana's saved-objects import API. Regenerate it
after a change here with::

    python docker/kibana/build_saved_objects.py

Objects are legacy (aggregation-based) visualizations, whose shape is stable across 7.x; each
carries the ``migrationVersion`` of the shape it is written in, so Kibana runs only the later
migrations on import.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from pizzario import load_config

__all__ = ["DASHBOARD_ID", "DATA_VIEW_IDS", "build_saved_objects", "to_ndjson"]

KIBANA_VERSION = "7.17.29"
DASHBOARD_ID = "pizzario-offers-dashboard"
# Stable ids, so that a second import overwrites instead of duplicating.
DATA_VIEW_IDS = {
    "offers": "pizzario-offers",
    "visits": "pizzario-visits",
    "footfall": "pizzario-footfall",
}
# Each index's event-time field (epoch milliseconds, mapped as date by the index templates).
TIME_FIELDS = {"offers": "triggered_at", "visits": "visit_start", "footfall": "window_start"}
INDEX_REF = "kibanaSavedObjectMeta.searchSourceJSON.index"
SEARCH_SOURCE = {"query": {"query": "", "language": "kuery"}, "filter": []}


def _count(agg_id: str = "1", label: str = "") -> dict[str, Any]:
    params = {"customLabel": label} if label else {}
    return {"id": agg_id, "enabled": True, "type": "count", "params": params, "schema": "metric"}


def _metric(agg_id: str, kind: str, field: str, label: str) -> dict[str, Any]:
    return {
        "id": agg_id,
        "enabled": True,
        "type": kind,
        "params": {"field": field, "customLabel": label},
        "schema": "metric",
    }


def _date_histogram(agg_id: str, field: str) -> dict[str, Any]:
    return {
        "id": agg_id,
        "enabled": True,
        "type": "date_histogram",
        "params": {
            "field": field,
            "useNormalizedEsInterval": True,
            "scaleMetricValues": False,
            "interval": "auto",
            "drop_partials": False,
            "min_doc_count": 1,
            "extended_bounds": {},
        },
        "schema": "segment",
    }


def _terms(agg_id: str, field: str, schema: str, label: str, size: int = 10) -> dict[str, Any]:
    return {
        "id": agg_id,
        "enabled": True,
        "type": "terms",
        "params": {
            "field": field,
            "orderBy": "1",
            "order": "desc",
            "size": size,
            "otherBucket": False,
            "otherBucketLabel": "Other",
            "missingBucket": False,
            "missingBucketLabel": "Missing",
            "customLabel": label,
        },
        "schema": schema,
    }


def _histogram(agg_id: str, field: str, interval: int, label: str) -> dict[str, Any]:
    return {
        "id": agg_id,
        "enabled": True,
        "type": "histogram",
        "params": {
            "field": field,
            "interval": interval,
            "min_doc_count": False,
            "has_extended_bounds": False,
            "extended_bounds": {"min": "", "max": ""},
            "customLabel": label,
        },
        "schema": "segment",
    }


def _xy_params(chart: str, value_title: str, category_title: str) -> dict[str, Any]:
    """Parameters of a vislib bar ("histogram") or line chart with one value axis.

    Kibana's 7.12.0 visualization migration adds the rest (palette, ``isVislibVis``,
    ``detailedTooltip``) to these objects on import, as they claim the 7.10.0 shape.
    """
    return {
        "type": chart,
        "grid": {"categoryLines": False},
        "categoryAxes": [
            {
                "id": "CategoryAxis-1",
                "type": "category",
                "position": "bottom",
                "show": True,
                "style": {},
                "scale": {"type": "linear"},
                "labels": {"show": True, "filter": True, "truncate": 100},
                "title": {"text": category_title},
            }
        ],
        "valueAxes": [
            {
                "id": "ValueAxis-1",
                "name": "LeftAxis-1",
                "type": "value",
                "position": "left",
                "show": True,
                "style": {},
                "scale": {"type": "linear", "mode": "normal"},
                "labels": {"show": True, "rotate": 0, "filter": False, "truncate": 100},
                "title": {"text": value_title},
            }
        ],
        "seriesParams": [
            {
                "show": True,
                "type": chart,
                "mode": "stacked" if chart == "histogram" else "normal",
                "data": {"label": value_title, "id": "1"},
                "valueAxis": "ValueAxis-1",
                "drawLinesBetweenPoints": True,
                "lineWidth": 2,
                "interpolate": "linear",
                "showCircles": True,
            }
        ],
        "addTooltip": True,
        "addLegend": True,
        "legendPosition": "right",
        "times": [],
        "addTimeMarker": False,
        "labels": {"show": False},
        "thresholdLine": {
            "show": False,
            "value": 10,
            "width": 1,
            "style": "full",
            "color": "#E7664C",
        },
    }


def _visualization(
    vis_id: str,
    title: str,
    description: str,
    index: str,
    vis_type: str,
    params: dict[str, Any],
    aggs: list[dict[str, Any]],
) -> dict[str, Any]:
    vis_state = {"title": title, "type": vis_type, "aggs": aggs, "params": params}
    search_source = {**SEARCH_SOURCE, "indexRefName": INDEX_REF}
    return {
        "id": vis_id,
        "type": "visualization",
        "attributes": {
            "title": title,
            "description": description,
            "version": 1,
            "uiStateJSON": "{}",
            "visState": json.dumps(vis_state, separators=(",", ":")),
            "kibanaSavedObjectMeta": {
                "searchSourceJSON": json.dumps(search_source, separators=(",", ":"))
            },
        },
        "references": [{"name": INDEX_REF, "type": "index-pattern", "id": DATA_VIEW_IDS[index]}],
        "migrationVersion": {"visualization": "7.10.0"},
        "coreMigrationVersion": KIBANA_VERSION,
    }


def _data_view(index: str, title: str) -> dict[str, Any]:
    return {
        "id": DATA_VIEW_IDS[index],
        "type": "index-pattern",
        "attributes": {"title": title, "timeFieldName": TIME_FIELDS[index]},
        "references": [],
        "migrationVersion": {"index-pattern": "7.6.0"},
        "coreMigrationVersion": KIBANA_VERSION,
    }


def _visualizations() -> list[dict[str, Any]]:
    metric_params = {
        "addTooltip": True,
        "addLegend": False,
        "type": "metric",
        "metric": {
            "percentageMode": False,
            "useRanges": False,
            "colorSchema": "Green to Red",
            "metricColorMode": "None",
            "colorsRange": [{"from": 0, "to": 10000}],
            "labels": {"show": True},
            "invertColors": False,
            "style": {
                "bgFill": "#000",
                "bgColor": False,
                "labelColor": False,
                "subText": "",
                "fontSize": 48,
            },
        },
    }
    table_params = {
        "perPage": 10,
        "showPartialRows": False,
        "showMetricsAtAllLevels": False,
        "showTotal": True,
        "totalFunc": "sum",
        "percentageCol": "",
    }
    return [
        _visualization(
            "pizzario-offers-per-segment",
            "Offers per segment over time",
            "Offers fired, by the segment of the customer, in event time (triggered_at).",
            "offers",
            "histogram",
            _xy_params("histogram", "Offers", "triggered_at"),
            [
                _count(label="Offers"),
                _date_histogram("2", "triggered_at"),
                _terms("3", "segment_label", "group", "Segment"),
            ],
        ),
        _visualization(
            "pizzario-offers-totals",
            "Offers and customers reached",
            "How many offers fired and to how many distinct customers.",
            "offers",
            "metric",
            metric_params,
            [
                _count(label="Offers"),
                _metric("2", "cardinality", "customer_id", "Customers reached"),
            ],
        ),
        _visualization(
            "pizzario-offers-by-code",
            "Offers by segment and offer",
            "Which offer each segment received, with the mean discount and dwell at firing time.",
            "offers",
            "table",
            table_params,
            [
                _count(label="Offers"),
                _terms("2", "segment_label", "bucket", "Segment"),
                _terms("3", "offer_code", "bucket", "Offer"),
                _metric("4", "avg", "discount_pct", "Mean discount %"),
                _metric("5", "avg", "dwell_seconds", "Mean dwell at firing (s)"),
            ],
        ),
        _visualization(
            "pizzario-dwell-distribution",
            "Dwell time near the shop (visits)",
            "Distribution of visit dwell times near the pizza shop, in 30-second bins.",
            "visits",
            "histogram",
            _xy_params("histogram", "Visits", "dwell_seconds"),
            [_count(label="Visits"), _histogram("2", "dwell_seconds", 30, "Dwell (s)")],
        ),
        _visualization(
            "pizzario-footfall-per-zone",
            "Footfall per zone",
            "Peak distinct customers per footfall window, by mall zone.",
            "footfall",
            "line",
            _xy_params("line", "Distinct customers (peak per window)", "window_start"),
            [
                _metric("1", "max", "visitors", "Distinct customers"),
                _date_histogram("2", "window_start"),
                _terms("3", "zone", "group", "Zone", size=20),
            ],
        ),
    ]


# (visualization id, x, y, width, height) on Kibana's 48-column dashboard grid.
_LAYOUT = [
    ("pizzario-offers-per-segment", 0, 0, 32, 15),
    ("pizzario-offers-totals", 32, 0, 16, 15),
    ("pizzario-dwell-distribution", 0, 15, 24, 15),
    ("pizzario-footfall-per-zone", 24, 15, 24, 15),
    ("pizzario-offers-by-code", 0, 30, 48, 15),
]


def _dashboard() -> dict[str, Any]:
    panels = []
    references = []
    for number, (vis_id, x, y, width, height) in enumerate(_LAYOUT, start=1):
        ref_name = f"panel_{number - 1}"
        panels.append(
            {
                "version": KIBANA_VERSION,
                "type": "visualization",
                "gridData": {"x": x, "y": y, "w": width, "h": height, "i": str(number)},
                "panelIndex": str(number),
                "embeddableConfig": {"enhancements": {}},
                "panelRefName": ref_name,
            }
        )
        references.append({"name": ref_name, "type": "visualization", "id": vis_id})
    return {
        "id": DASHBOARD_ID,
        "type": "dashboard",
        "attributes": {
            "title": "Pizzario offers",
            "description": "Offers per segment, dwell near the shop and footfall per zone.",
            "hits": 0,
            "version": 1,
            "panelsJSON": json.dumps(panels, separators=(",", ":")),
            "optionsJSON": json.dumps(
                {"useMargins": True, "syncColors": False, "hidePanelTitles": False},
                separators=(",", ":"),
            ),
            # The simulator may run its clock ahead of wall time, so the window spans both sides.
            "timeRestore": True,
            "timeFrom": "now-1d",
            "timeTo": "now+1d",
            "refreshInterval": {"pause": False, "value": 10_000},
            "kibanaSavedObjectMeta": {
                "searchSourceJSON": json.dumps(SEARCH_SOURCE, separators=(",", ":"))
            },
        },
        "references": references,
        "migrationVersion": {"dashboard": "7.17.3"},
        "coreMigrationVersion": KIBANA_VERSION,
    }


def build_saved_objects(index_names: dict[str, str]) -> list[dict[str, Any]]:
    """Return the data views, visualizations and dashboard, referenced objects first.

    Parameters
    ----------
    index_names : dict
        The Elasticsearch index of each data view, keyed ``offers``, ``visits``, ``footfall``.

    Returns
    -------
    list of dict
        Saved objects in Kibana's export shape.
    """
    data_views = [_data_view(key, index_names[key]) for key in DATA_VIEW_IDS]
    return [*data_views, *_visualizations(), _dashboard()]


def to_ndjson(objects: list[dict[str, Any]]) -> str:
    """One compact JSON object per line, keys sorted, so the file diffs cleanly."""
    return "".join(
        json.dumps(item, sort_keys=True, separators=(",", ":")) + "\n" for item in objects
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--output",
        type=Path,
        default=Path(__file__).resolve().with_name("saved_objects.ndjson"),
        help="where to write the NDJSON (default: beside this script)",
    )
    args = parser.parse_args()
    elasticsearch = load_config({}).elasticsearch
    objects = build_saved_objects(
        {
            "offers": elasticsearch.offers_index,
            "visits": elasticsearch.visits_index,
            "footfall": elasticsearch.footfall_index,
        }
    )
    args.output.write_text(to_ndjson(objects), encoding="utf-8")
    print(f"wrote {len(objects)} saved objects to {args.output}")


if __name__ == "__main__":
    main()
