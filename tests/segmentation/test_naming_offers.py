"""Segment names and ids come from centroid positions; offers from the names' levels."""

from __future__ import annotations

import numpy as np
import pytest

from pizzario.config import load_config
from segmentation.customers import Customers, read_customers
from segmentation.features import DEFAULT_FEATURES
from segmentation.model import fit_segment_model
from segmentation.naming import SegmentName, level_of, name_segments, tercile_thresholds
from segmentation.offers import offer_for, offers_for_segments

THRESHOLDS = {"annual_income_k": (40.0, 70.0), "spending_score": (35.0, 65.0),
              "age": (30.0, 45.0)}
# Five centres like the course data's: (income, spending, age).
CENTRES = np.array([[55.0, 50.0, 42.0], [87.0, 82.0, 33.0], [26.0, 79.0, 25.0],
                    [88.0, 17.0, 41.0], [26.0, 21.0, 45.0]])


def _profiles(centres: np.ndarray) -> dict[str, np.ndarray]:
    return {"annual_income_k": centres[:, 0], "spending_score": centres[:, 1],
            "age": centres[:, 2]}


def test_levels_from_terciles() -> None:
    assert tercile_thresholds(np.arange(1, 10)) == pytest.approx((11 / 3, 19 / 3))
    assert [level_of(v, (40, 70)) for v in (39.9, 40, 70, 70.1)] == [
        "low", "average", "average", "high"]


def test_names_and_ids_from_positions() -> None:
    names = name_segments(_profiles(CENTRES), THRESHOLDS, use_age=False)
    assert [(n.segment_id, n.label) for n in names] == [
        (3, "average-income average-spending"),
        (4, "high-income high-spending"),
        (2, "low-income high-spending"),
        (5, "high-income low-spending"),
        (1, "low-income low-spending"),
    ]


def test_age_band_joins_the_label_when_age_is_a_feature() -> None:
    names = name_segments(_profiles(CENTRES), THRESHOLDS, use_age=True)
    assert names[2].label == "young low-income high-spending"
    assert names[0].label == "middle-aged average-income average-spending"


@pytest.mark.parametrize("seed", range(5))
def test_same_names_whatever_the_cluster_order(seed: int) -> None:
    order = np.random.default_rng(seed).permutation(len(CENTRES))
    reference = name_segments(_profiles(CENTRES), THRESHOLDS, use_age=True)
    permuted = name_segments(_profiles(CENTRES[order]), THRESHOLDS, use_age=True)
    assert [permuted[i] for i in np.argsort(order)] == reference


def test_repeated_labels_are_numbered_by_segment_id() -> None:
    centres = np.array([[90.0, 90.0, 30.0], [80.0, 85.0, 30.0]])
    names = name_segments(_profiles(centres), THRESHOLDS, use_age=False)
    assert [n.label for n in names] == ["high-income high-spending #2",
                                        "high-income high-spending #1"]


@pytest.mark.parametrize(
    ("income", "spending", "code", "discount"),
    [("high", "high", "NEWPIZZA-PREMIUM", 5), ("high", "low", "NEWPIZZA-TASTING", 10),
     ("low", "high", "NEWPIZZA-VALUE", 15), ("low", "low", "NEWPIZZA-SAVER", 25),
     ("average", "high", "NEWPIZZA-LAUNCH", 10), ("low", "average", "NEWPIZZA-LAUNCH", 10)],
)
def test_offer_from_position(income: str, spending: str, code: str, discount: int) -> None:
    offer = offer_for(SegmentName(7, "any label", income, spending, None))
    assert (offer.segment_id, offer.offer_code, offer.discount_pct) == (7, code, discount)
    assert offer.message and offer.rationale


def test_offers_are_ordered_by_segment_id() -> None:
    names = name_segments(_profiles(CENTRES), THRESHOLDS, use_age=False)
    assert [o.segment_id for o in offers_for_segments(names)] == [1, 2, 3, 4, 5]


def _reordered(customers: Customers, order: np.ndarray) -> Customers:
    return Customers(**{name: getattr(customers, name)[order]
                        for name in ("customer_id", "gender", "age", "annual_income_k",
                                     "spending_score")})


def test_course_data_segments_survive_a_shuffle_of_the_rows() -> None:
    customers = read_customers(load_config().paths.customers_csv)
    model, assignment = fit_segment_model(customers, DEFAULT_FEATURES, k=5,
                                          k_values=range(2, 7), n_init=4)
    order = np.random.default_rng(0).permutation(len(customers))
    shuffled_model, shuffled = fit_segment_model(_reordered(customers, order),
                                                 DEFAULT_FEATURES, k=5, k_values=range(2, 7),
                                                 seed=7, n_init=4)
    assert [s.label for s in model.segments] == [s.label for s in shuffled_model.segments]
    np.testing.assert_array_equal(assignment.segment_id[order], shuffled.segment_id)
    assert model.sizes == [22, 23, 81, 39, 35]
