from __future__ import annotations

import uuid

import pytest
import requests

from pizzario import Config


@pytest.mark.integration
def test_the_offers_index_maps_ids_dates_and_positions(stack: Config) -> None:
    index = stack.elasticsearch.offers_index
    response = requests.get(f"{stack.elasticsearch.url}/{index}/_mapping", timeout=10)
    properties = response.json()[index]["mappings"]["properties"]
    assert properties["offer_id"]["type"] == "keyword"
    assert properties["segment_label"]["type"] == "keyword"
    assert properties["triggered_at"]["type"] == "date"
    assert properties["triggered_at"]["format"].startswith("epoch_millis")
    assert properties["dwell_seconds"]["type"] == "float"
    assert properties["location"]["type"] == "geo_point"


@pytest.mark.integration
def test_an_indexed_document_is_found_by_term_range_and_distance(stack: Config) -> None:
    url = stack.elasticsearch.url
    # A throw-away index that the offers template still maps ("offers-*").
    index = f"{stack.elasticsearch.offers_index}-test-{uuid.uuid4().hex[:8]}"
    document = {
        "offer_id": "o-42",
        "customer_id": 42,
        "segment_label": "Young Spenders",
        "dwell_seconds": 181.5,
        "triggered_at": 1_700_000_000_000,
        "location": {"lat": 51.5033, "lon": -0.0195},
    }
    put = requests.put(f"{url}/{index}/_doc/o-42?refresh=true", json=document, timeout=30)
    assert put.status_code == 201
    try:
        query = {
            "query": {
                "bool": {
                    "filter": [
                        {"term": {"segment_label": "Young Spenders"}},
                        {"range": {"triggered_at": {"gte": "2023-11-14T22:13:00Z"}}},
                        {"range": {"dwell_seconds": {"gte": 180}}},
                        {
                            "geo_distance": {
                                "distance": "100m",
                                "location": {"lat": 51.5035, "lon": -0.0196},
                            }
                        },
                    ]
                }
            }
        }
        hits = requests.post(f"{url}/{index}/_search", json=query, timeout=30).json()["hits"]
        assert hits["total"]["value"] == 1
        assert hits["hits"][0]["_id"] == "o-42"
        assert hits["hits"][0]["_source"]["customer_id"] == 42
    finally:
        requests.delete(f"{url}/{index}", timeout=30)
