"""Feature parsing, scaling, and the model file round trip."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pizzario.config import load_config
from segmentation.customers import read_customers
from segmentation.features import (
    FEATURE_CANDIDATES,
    StandardScaling,
    feature_matrix,
    parse_features,
)
from segmentation.model import SegmentModel, compare_feature_sets, fit_segment_model


def test_parse_features_orders_and_rejects() -> None:
    assert parse_features("spending_score, annual_income_k") == (
        "annual_income_k", "spending_score")
    with pytest.raises(ValueError, match="unknown feature"):
        parse_features("income")


def test_standard_scaling_round_trip() -> None:
    X = np.array([[1.0, 10.0], [3.0, 10.0], [5.0, 10.0]])  # second column is constant
    scaling = StandardScaling.fit(X)
    scaled = scaling.transform(X)
    np.testing.assert_allclose(scaled[:, 0], [-1.2247449, 0.0, 1.2247449], rtol=1e-6)
    np.testing.assert_allclose(scaled[:, 1], 0.0)
    np.testing.assert_allclose(scaling.inverse_transform(scaled), X)


def test_gender_is_the_female_indicator() -> None:
    customers = read_customers(load_config().paths.customers_csv)
    column = feature_matrix(customers, ("gender",))[:, 0]
    assert column.sum() == np.sum(customers.gender == "Female") == 112


def test_model_file_round_trip_assigns_the_same_segments() -> None:
    customers = read_customers(load_config().paths.customers_csv)
    model, assignment = fit_segment_model(customers, ("annual_income_k", "spending_score"),
                                          k_values=range(2, 7), n_init=4)
    reloaded = SegmentModel.from_json(json.loads(json.dumps(model.to_json())))
    again = reloaded.assign(customers)
    np.testing.assert_array_equal(again.segment_id, assignment.segment_id)
    np.testing.assert_allclose(again.distance_to_centroid, assignment.distance_to_centroid,
                               atol=1e-5)
    np.testing.assert_allclose(reloaded.centroids_original, model.centroids_original,
                               rtol=1e-9)
    assert reloaded.segments == model.segments and reloaded.offers == model.offers


def test_sizes_count_the_assignment_and_comparison_reuses_known_scans() -> None:
    customers = read_customers(load_config().paths.customers_csv)
    features = ("annual_income_k", "spending_score")
    model, assignment = fit_segment_model(customers, features, k_values=range(2, 6), n_init=3)
    assert model.sizes == np.bincount(assignment.segment_id - 1).tolist()
    assert sum(model.sizes) == 200 and model.feature_comparison == []
    rows = compare_feature_sets(customers, range(2, 6), n_init=3, seed=42,
                                known_scores={features: model.k_scores})
    assert [tuple(row["features"]) for row in rows] == list(FEATURE_CANDIDATES)
    best_known = max(model.k_scores, key=lambda s: s.silhouette)
    assert (rows[0]["best_k"], rows[0]["silhouette"]) == (
        best_known.k, round(best_known.silhouette, 10))
