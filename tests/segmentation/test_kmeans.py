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
from segmentation.kmeans import ConvergenceWarning, KMeans
from tests.segmentation.tolerances import inertia_rtol, no_worse_than_reference_rtol

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
    rows = np.repeat(X, counts, axis=0)
    repeated = KMeans(3, n_init=5, random_state=1).fit(rows)
    # both direct sums in float64 at the same centres, up to the rounding of their means
    assert weighted.inertia_ == pytest.approx(repeated.inertia_, rel=inertia_rtol(
        rows, repeated.cluster_centers_, repeated.labels_, expanded=0))


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
    new_centers, new_labels = hartigan_refine(X, np.ones(5), labels, centers, max_moves=10,
                                              min_gain=0.0)
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
    # the reported inertia is a direct sum too: only the order of summation differs
    assert first.inertia_ == pytest.approx(distances.min(axis=1).sum(), rel=inertia_rtol(
        X, first.cluster_centers_, first.labels_, expanded=0))


def test_float32_stays_float32_and_matches_float64() -> None:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(2000, 3)) + np.repeat(np.eye(3) * 8, [700, 700, 600], axis=0)
    single = KMeans(3, random_state=0).fit(X.astype(np.float32))
    double = KMeans(3, random_state=0).fit(X)
    assert single.cluster_centers_.dtype == np.float32
    # The float32 fit assigns rows by squared distances expanded in float32, which may put a
    # row within that error of a boundary on the other side; its rows and centres are float32
    # roundings too (a smaller, first-order effect). About 1e-4 of the inertia on this data.
    assert single.inertia_ == pytest.approx(double.inertia_, rel=inertia_rtol(
        X, double.cluster_centers_, double.labels_, expanded=2, dtype=np.float32))


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


def _nearest_inertia(X: np.ndarray, centers: np.ndarray) -> float:
    """Inertia of the nearest-centre assignment, recomputed in float64 from the centres."""
    X64, centers64 = X.astype(np.float64), centers.astype(np.float64)
    distances = ((X64[:, None, :] - centers64[None]) ** 2).sum(axis=2)
    return float(distances.min(axis=1).sum())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fewer_distinct_points_than_k_finishes_exactly_and_warns(dtype: type) -> None:
    # 40 copies of two scaled points, k = 3: the third cluster can only stay empty.
    X = np.repeat(np.array([[-1.0, -1.0], [1.0, 1.0]]), 20, axis=0).astype(dtype)
    with pytest.warns(ConvergenceWarning, match=r"distinct clusters \(2\) found smaller "
                                                r"than n_clusters \(3\)"):
        model = KMeans(3, n_init=10, random_state=0).fit(X)
    assert model.inertia_ == 0.0
    assert model.n_iter_ <= 3
    assert sorted(np.bincount(model.labels_, minlength=3).tolist()) == [0, 20, 20]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_all_identical_rows_give_one_cluster(dtype: type) -> None:
    with pytest.warns(ConvergenceWarning, match=r"\(1\) found smaller than n_clusters \(2\)"):
        model = KMeans(2, random_state=0).fit(np.full((5, 2), 3.0, dtype=dtype))
    assert model.inertia_ == 0.0
    assert model.labels_.tolist() == [0] * 5
    np.testing.assert_allclose(model.cluster_centers_[0], [3.0, 3.0])


@pytest.mark.parametrize(("dtype", "offset"), [(np.float32, 1e3), (np.float64, 1e7)])
def test_inertia_exact_far_from_the_origin(dtype: type, offset: float) -> None:
    rng = np.random.default_rng(4)
    base = rng.normal(size=(6000, 3)) + np.repeat(np.eye(3) * 3, [2000, 2000, 2000], axis=0)
    X = (base + offset).astype(dtype)
    ours = KMeans(3, n_init=5, random_state=0).fit(X)
    theirs = SklearnKMeans(3, n_init=5, random_state=0).fit(X)
    recomputed = float(((X.astype(np.float64)
                         - ours.cluster_centers_.astype(np.float64)[ours.labels_]) ** 2).sum())
    # both direct float64 sums of the same float values: only the order of summation differs
    assert ours.inertia_ == pytest.approx(recomputed, rel=inertia_rtol(
        X, ours.cluster_centers_, ours.labels_, expanded=0))
    # Not only rounding: both fits stop once the centres' summed squared shift is below tol
    # (1e-4 of the mean variance, in both libraries), so either may stop short of the optimum
    # by about n * tol of inertia (ours is 3.9e-7 above scikit-learn's here).
    assert _nearest_inertia(X, ours.cluster_centers_) <= _nearest_inertia(
        X, theirs.cluster_centers_) * (1 + no_worse_than_reference_rtol(
            X, theirs.cluster_centers_, theirs.labels_))
    np.testing.assert_array_equal(ours.predict(X), ours.labels_)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_zero_weight_rows_do_not_hold_a_cluster(dtype: type) -> None:
    # The far row 1000 has weight 0: an empty cluster must restart on a weighted row, and the
    # fit must equal the fit without that row: {0, 1, 2} {10, 11} can at best be split as
    # {0} {1, 2} {10, 11} or {0, 1} {2} {10, 11}: inertia 0.5 + 0.5 = 1.
    X = np.array([[0.0], [1.0], [2.0], [10.0], [11.0], [1000.0]], dtype=dtype)
    weights = np.array([1, 1, 1, 1, 1, 0], dtype=dtype)
    model = KMeans(3, n_init=5, random_state=0).fit(X, sample_weight=weights)
    assert model.inertia_ == pytest.approx(1.0, rel=1e-6)
    assert np.all(np.abs(model.cluster_centers_) < 20)


def test_relocation_ranks_only_weighted_rows() -> None:
    X = np.array([[0.0], [1.0], [2.0], [10.0], [11.0], [1000.0]])
    weights = np.array([1.0, 1, 1, 1, 1, 0])
    workspace = LloydWorkspace.allocate(X, weights, row_norms_squared(X), 3)
    centers, _, inertia, _ = kmeans_single_lloyd(
        X, np.array([[1.0], [10.5], [500.0]]), workspace, max_iter=50, tol=0.0)
    assert centers.max() < 20
    assert inertia == pytest.approx(1.0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_one_cluster_is_the_weighted_mean(dtype: type) -> None:
    model = KMeans(1, n_init=2, random_state=0).fit(FOUR_POINTS.astype(dtype))
    np.testing.assert_allclose(model.cluster_centers_, [[2.0, 0.5]], rtol=1e-6)
    assert model.inertia_ == pytest.approx(4 * 4 + 4 * 0.25, rel=1e-6)  # 4*2^2 + 4*0.5^2


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_constant_feature_is_harmless(dtype: type) -> None:
    X = np.column_stack([FOUR_POINTS, np.full(4, 7.0)]).astype(dtype)
    model = KMeans(2, n_init=3, random_state=0).fit(X)
    assert model.inertia_ == pytest.approx(1.0, rel=1e-6)
    np.testing.assert_allclose(model.cluster_centers_[:, 2], [7.0, 7.0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_rejects_nan_wrong_width_and_unfitted_predict(dtype: type) -> None:
    X = FOUR_POINTS.astype(dtype)
    with pytest.raises(ValueError, match="NaN or infinity"):
        KMeans(2).fit(np.where(X == 4, np.nan, X))
    with pytest.raises(RuntimeError, match="not fitted"):
        KMeans(2).predict(X)
    model = KMeans(2, random_state=0).fit(X)
    with pytest.raises(ValueError, match="X has 3 features, the model was fitted on 2"):
        model.predict(np.ones((2, 3), dtype=dtype))
    with pytest.raises(ValueError, match="NaN or infinity"):
        model.predict(np.full((1, 2), np.nan, dtype=dtype))


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        ({"n_clusters": True}, "n_clusters must be a positive integer"),
        ({"n_clusters": 2.0}, "n_clusters must be a positive integer"),
        ({"n_clusters": 2, "n_init": 0}, "n_init must be a positive integer"),
        ({"n_clusters": 2, "n_init": 2.5}, "n_init must be a positive integer"),
        ({"n_clusters": 2, "max_iter": False}, "max_iter must be a positive integer"),
        ({"n_clusters": 2, "tol": -1.0}, "tol must be a finite number"),
        ({"n_clusters": 2, "random_state": -3}, "random_state must be"),
        ({"n_clusters": 2, "random_state": "seed"}, "random_state must be"),
    ],
)
def test_rejects_bad_parameters(parameters: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        KMeans(**parameters).fit(FOUR_POINTS)


def test_rejects_zero_features() -> None:
    with pytest.raises(ValueError, match="at least one row and one feature"):
        KMeans(1).fit(np.empty((3, 0)))


def test_random_state_accepts_legacy_and_new_generators() -> None:
    legacy = KMeans(2, random_state=np.random.RandomState(0)).fit(FOUR_POINTS)
    modern = KMeans(2, random_state=np.random.default_rng(0)).fit(FOUR_POINTS)
    assert legacy.inertia_ == pytest.approx(1.0)
    assert modern.inertia_ == pytest.approx(1.0)


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
    # The same optimum or a better one, up to the rounding of two direct float64 sums over the
    # same 200 rows (inertia_rtol, 9e-14). On 200 rows both fits end on a fixed point (every
    # centre the mean of its rows to 7e-16, every row at its nearest centre), so on the same
    # optimum only the summation differs: they agreed to 2.2e-16 where the optima were the
    # same, and differed by 4.6e-4 and more where not.
    assert _nearest_inertia(X, ours.cluster_centers_) <= _nearest_inertia(
        X, theirs.cluster_centers_) * (1 + inertia_rtol(
            X, theirs.cluster_centers_, theirs.labels_, expanded=0))


@pytest.mark.parametrize("n_samples", [30_000, 120_000])  # restarts on all rows / a sample
def test_inertia_no_worse_than_sklearn_on_synthetic_blobs(n_samples: int) -> None:
    rng = np.random.default_rng(5)
    centres = rng.uniform(-10, 10, size=(6, 5))
    X = centres[rng.integers(0, 6, size=n_samples)] + rng.normal(scale=4.0, size=(n_samples, 5))
    ours = KMeans(6, n_init=10, random_state=0).fit(X)
    theirs = SklearnKMeans(6, n_init=10, random_state=0).fit(X)
    # Rounding of two direct float64 sums and, on this many rows, the stopping rule both
    # libraries share (tolerances.no_worse_than_reference_rtol, 7e-5 here)
    assert _nearest_inertia(X, ours.cluster_centers_) <= _nearest_inertia(
        X, theirs.cluster_centers_) * (1 + no_worse_than_reference_rtol(
            X, theirs.cluster_centers_, theirs.labels_))
    np.testing.assert_array_equal(ours.predict(X), ours.labels_)
    again = KMeans(6, n_init=10, random_state=0).fit(X)
    np.testing.assert_array_equal(again.cluster_centers_, ours.cluster_centers_)
