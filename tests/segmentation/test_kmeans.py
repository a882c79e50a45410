"""KMeans: hand-computed toy cases, the estimator contract, and quality against scikit-learn."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from sklearn.cluster import KMeans as SklearnKMeans

from pizzario.config import load_config
from segmentation._kmeans_core import (
    LloydWorkspace,
    kmeans_single_lloyd,
    row_norms_squared,
    tolerance,
)
from segmentation._kmeans_refine import hartigan_refine
from segmentation.customers import read_customers
from segmentation.features import DEFAULT_FEATURES, StandardScaling, feature_matrix
from segmentation.kmeans import KMeans

# Two pairs of points 4 apart: the centres are the pairs' midpoints and every point is 0.5
# from its centre, so the inertia is 4 * 0.5**2 = 1.
FOUR_POINTS = np.array([[0.0, 0.0], [0.0, 1.0], [4.0, 0.0], [4.0, 1.0]])


def _sorted_centers(centers: np.ndarray) -> np.ndarray:
    return centers[np.lexsort(centers.T[::-1])]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_four_points_known_centres_and_inertia(dtype: type) -> None:
    model = KMeans(2, n_init=3, random_state=0).fit(FOUR_POINTS.astype(dtype))
    np.testing.assert_allclose(_sorted_centers(model.cluster_centers_),
                               [[0.0, 0.5], [4.0, 0.5]], atol=1e-6)
    assert model.inertia_ == pytest.approx(1.0, rel=1e-6)
    assert model.labels_[0] == model.labels_[1] != model.labels_[2] == model.labels_[3]
    assert model.cluster_centers_.dtype == dtype


def test_sample_weight_pulls_the_centre_and_weights_the_inertia() -> None:
    # Weight 3 on (0, 0): left centre (0, 0.25); inertia 3*0.25**2 + 0.75**2 + 2*0.5**2 = 1.25.
    weights = np.array([3.0, 1.0, 1.0, 1.0])
    model = KMeans(2, n_init=3, random_state=0).fit(FOUR_POINTS, sample_weight=weights)
    np.testing.assert_allclose(_sorted_centers(model.cluster_centers_),
                               [[0.0, 0.25], [4.0, 0.5]])
    assert model.inertia_ == pytest.approx(1.25)


def test_integer_weights_equal_repeated_rows() -> None:
    rng = np.random.default_rng(3)
    X = rng.normal(size=(60, 3))
    counts = rng.integers(1, 4, size=60)
    weighted = KMeans(3, n_init=5, random_state=1).fit(X, sample_weight=counts)
    repeated = KMeans(3, n_init=5, random_state=1).fit(np.repeat(X, counts, axis=0))
    assert weighted.inertia_ == pytest.approx(repeated.inertia_, rel=1e-9)


def test_empty_cluster_moves_to_the_farthest_point() -> None:
    # The centre at 100 attracts no point. The rows farthest from their centres are 0 and 2
    # (distance 1 from the centre at 1); the tie goes to row 0, so that cluster restarts at
    # 0 and the other two points (1, 2) share a centre at 1.5: inertia 4 * 0.5**2 = 1.
    X = np.array([[0.0], [1.0], [2.0], [10.0], [11.0]])
    weights = np.ones(5)
    workspace = LloydWorkspace.allocate(X, weights, row_norms_squared(X), 3)
    centers, labels, inertia, _ = kmeans_single_lloyd(
        X, np.array([[1.0], [10.5], [100.0]]), workspace, max_iter=50, tol=0.0
    )
    np.testing.assert_allclose(centers.ravel(), [1.5, 10.5, 0.0])
    assert labels.tolist() == [2, 0, 0, 1, 1]
    assert inertia == pytest.approx(1.0)


def test_hartigan_move_lowers_a_lloyd_fixed_point() -> None:
    # Lloyd is stable at {0, 2} | {3, 100}... but moving the point 3 to the left cluster
    # lowers the inertia: left {0, 2, 3} around 5/3 and right {100}.
    X = np.array([[0.0], [2.0], [3.0], [5.0], [5.5]])
    labels = np.array([0, 0, 1, 1, 1])
    centers = np.array([[1.0], [13.5 / 3]])
    new_centers, new_labels = hartigan_refine(X, np.ones(5), labels, centers, max_moves=10)
    before = sum((X[labels == c] - centers[c]).ravel() @ (X[labels == c] - centers[c]).ravel()
                 for c in range(2))
    after = sum(((X[new_labels == c] - new_centers[c]) ** 2).sum() for c in range(2))
    assert after < before - 1e-9


def test_tolerance_is_relative_to_the_mean_variance() -> None:
    X = np.array([[0.0, 0.0], [2.0, 4.0]])  # variances 1 and 4 -> mean 2.5
    assert tolerance(X, 1e-4) == pytest.approx(2.5e-4)
    assert tolerance(X * 10, 1e-4) == pytest.approx(2.5e-2)


def test_same_seed_same_result_and_predict_matches_labels() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(3000, 4))
    first = KMeans(6, random_state=7).fit(X)
    second = KMeans(6, random_state=7).fit(X)
    np.testing.assert_array_equal(first.cluster_centers_, second.cluster_centers_)
    np.testing.assert_array_equal(first.labels_, second.labels_)
    np.testing.assert_array_equal(first.predict(X), first.labels_)
    np.testing.assert_array_equal(KMeans(6, random_state=7).fit_predict(X), first.labels_)
    distances = ((X[:, None, :] - first.cluster_centers_[None]) ** 2).sum(axis=2)
    assert first.inertia_ == pytest.approx(distances.min(axis=1).sum(), rel=1e-9)


def test_float32_stays_float32_and_matches_float64() -> None:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(2000, 3)) + np.repeat(np.eye(3) * 8, [700, 700, 600], axis=0)
    single = KMeans(3, random_state=0).fit(X.astype(np.float32))
    double = KMeans(3, random_state=0).fit(X)
    assert single.cluster_centers_.dtype == np.float32
    assert single.inertia_ == pytest.approx(double.inertia_, rel=1e-4)


def test_memory_stays_linear_in_rows() -> None:
    # 50,000 x 4 x 8 clusters: an (n, k, d) float64 temporary alone would take 12.8 MB; the
    # fit's buffers (feature-major copy, norms, labels, one distance block) take about 8.
    X = np.random.default_rng(2).normal(size=(50_000, 4))
    tracemalloc.start()
    KMeans(8, n_init=2, random_state=0).fit(X)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < X.shape[0] * 8 * X.shape[1] * 8


def test_rejects_more_clusters_than_rows() -> None:
    with pytest.raises(ValueError, match="n_samples=4 should be >= n_clusters=5"):
        KMeans(5).fit(FOUR_POINTS)


def _course_matrix() -> np.ndarray:
    customers = read_customers(load_config().paths.customers_csv)
    X = feature_matrix(customers, DEFAULT_FEATURES)
    return StandardScaling.fit(X).transform(X)


@pytest.mark.parametrize("k", range(2, 11))
@pytest.mark.parametrize("seed", [0, 1])
def test_inertia_no_worse_than_sklearn_on_course_data(k: int, seed: int) -> None:
    X = _course_matrix()
    ours = KMeans(k, n_init=10, random_state=seed).fit(X)
    theirs = SklearnKMeans(k, n_init=10, random_state=seed).fit(X)
    assert ours.inertia_ <= theirs.inertia_ * (1 + 1e-9)


@pytest.mark.parametrize("n_samples", [30_000, 120_000])  # restarts on all rows / a sample
def test_inertia_no_worse_than_sklearn_on_synthetic_blobs(n_samples: int) -> None:
    rng = np.random.default_rng(5)
    centres = rng.uniform(-10, 10, size=(6, 5))
    X = centres[rng.integers(0, 6, size=n_samples)] + rng.normal(scale=4.0, size=(n_samples, 5))
    ours = KMeans(6, n_init=10, random_state=0).fit(X)
    theirs = SklearnKMeans(6, n_init=10, random_state=0).fit(X)
    assert ours.inertia_ <= theirs.inertia_ * (1 + 1e-9)
    np.testing.assert_array_equal(ours.predict(X), ours.labels_)
    again = KMeans(6, n_init=10, random_state=0).fit(X)
    np.testing.assert_array_equal(again.cluster_centers_, ours.cluster_centers_)
