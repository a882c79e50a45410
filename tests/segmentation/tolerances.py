"""Tolerances for comparing results with a reference implementation, derived from the data.

Each figure is a bound on the rounding error of the two computations being compared, built
from the floating-point epsilon of the dtype, the number of terms summed and the magnitudes
involved. A wrong formula moves a score by far more; the order in which a processor's BLAS
kernel sums (the only difference between two correct implementations) moves it by less.

The two ways of computing a Euclidean distance behave very differently:

- directly, from the coordinate differences: relative error about (d + 2) eps;
- expanded, ``sqrt(|x|^2 - 2 x.y + |y|^2)`` (scikit-learn's ``euclidean_distances``, our
  silhouette and k-means assignment): the squared distance is off by up to
  ``E = (d + 2) eps (|x| + |y|)^2`` whatever its size, so a distance ``a`` is off by at most
  ``min(sqrt(E), E / a)``. Far apart, that is negligible; a point against its own centroid (a
  cluster of one) is known only to ``sqrt(E)``, about 1e-6 for rows of norm 19 in 3-D.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "calinski_harabasz_rtol",
    "centre_atol",
    "davies_bouldin_atol",
    "expanded_distance_error",
    "inertia_rtol",
    "no_worse_than_reference_rtol",
    "silhouette_atol",
]


def _eps(dtype: type = np.float64) -> float:
    return float(np.finfo(dtype).eps)


def _direct_distances(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Distances between the rows of A and B from coordinate differences (the accurate way)."""
    return np.sqrt(((A[:, None, :] - B[None, :, :]) ** 2).sum(axis=2))


def expanded_distance_error(A: np.ndarray, B: np.ndarray, dtype: type = np.float64) -> np.ndarray:
    """Bound on the error of each distance between rows of A and B computed expanded in dtype.

    Returns ``min(sqrt(E), E / a) + eps a`` per pair (the module docstring says why), the
    second term for the square root's own rounding.
    """
    eps = _eps(dtype)
    squared_error = (A.shape[1] + 2) * eps * (
        np.linalg.norm(A, axis=1)[:, None] + np.linalg.norm(B, axis=1)[None, :]
    ) ** 2
    distances = _direct_distances(A, B)
    with np.errstate(divide="ignore"):
        far = squared_error / distances
    return np.minimum(np.sqrt(squared_error), far) + eps * distances


def _clusters(X: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Consecutive codes, cluster sizes and centroids."""
    _, codes = np.unique(labels, return_inverse=True)
    sizes = np.bincount(codes)
    centroids = np.stack([X[codes == k].mean(axis=0) for k in range(sizes.size)])
    return codes, sizes, centroids


def _centroid_error(X: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Bound on the error of each cluster's mean: a sum of n rows is off by (n - 1) eps times
    the sum of their magnitudes (recursive summation), so the mean by n eps times the largest
    row norm."""
    return sizes * _eps() * np.linalg.norm(X, axis=1).max()


def davies_bouldin_atol(X: np.ndarray, labels: np.ndarray) -> float:
    """Bound on |ours - scikit-learn's| Davies-Bouldin index (absolute).

    Ours takes distances directly; scikit-learn expands them. With errors ds on the spreads
    and dg on a centroid gap g, a ratio r = (s_i + s_j) / g moves by at most
    (ds_i + ds_j + r dg) / (g - dg), and a mean of maxima by no more than the largest move.
    A cluster of one has spread 0 in exact arithmetic; expanded, its row against its own
    centroid is ``sqrt(E)`` at most, which is what sets the figure on the suite's data.
    """
    codes, sizes, centroids = _clusters(X, labels)
    centroid_error = _centroid_error(X, sizes)
    d = X.shape[1]
    to_centroid = _direct_distances(X, centroids)
    row_error = (
        expanded_distance_error(X, centroids) + (d + 2) * _eps() * to_centroid
    )[np.arange(X.shape[0]), codes] + 2 * centroid_error[codes]
    spread_error = np.bincount(codes, weights=row_error) / sizes
    spreads = np.bincount(codes, weights=to_centroid[np.arange(X.shape[0]), codes]) / sizes
    gaps = _direct_distances(centroids, centroids)
    gap_error = (
        expanded_distance_error(centroids, centroids)
        + (d + 2) * _eps() * gaps
        + 2 * (centroid_error[:, None] + centroid_error[None, :])
    )
    off_diagonal = ~np.eye(sizes.size, dtype=bool)
    ratios = (spreads[:, None] + spreads[None, :]) / np.where(off_diagonal, gaps, 1.0)
    moves = (spread_error[:, None] + spread_error[None, :] + ratios * gap_error) / (
        gaps - gap_error
    )
    return float(moves[off_diagonal].max())


def silhouette_atol(X: np.ndarray, labels: np.ndarray) -> float:
    """Bound on |ours - scikit-learn's| mean silhouette (absolute).

    Both expand the pairwise distances. A row's score s = (b - a) / max(a, b) moves by at most
    (da + db) / max(a, b) when its mean distances a (own cluster) and b (nearest other) move by
    da and db; ours also counts the row's distance to itself (0 in exact arithmetic, up to
    ``sqrt(E)`` expanded) in ``a``. The bound is taken for each of the two implementations.
    """
    codes, sizes, _ = _clusters(X, labels)
    distances = _direct_distances(X, X)
    errors = expanded_distance_error(X, X)
    one_hot = np.eye(sizes.size)[codes]
    rows = np.arange(X.shape[0])
    own_size = sizes[codes]
    mean_distances = distances @ one_hot / sizes
    mean_errors = errors @ one_hot / sizes
    a = (distances @ one_hot)[rows, codes] / np.maximum(own_size - 1, 1)
    a_error = (errors @ one_hot)[rows, codes] / np.maximum(own_size - 1, 1)
    mean_distances[rows, codes] = np.inf
    b = mean_distances.min(axis=1)
    mean_errors[rows, codes] = 0.0
    b_error = mean_errors.max(axis=1)
    # a cluster of one scores 0 by definition, in both
    moves = np.where(own_size > 1, (a_error + b_error) / np.maximum(a, b), 0.0)
    return float(2 * moves.mean())


def calinski_harabasz_rtol(X: np.ndarray, labels: np.ndarray) -> float:
    """Bound on the relative difference of two direct Calinski-Harabasz computations.

    Between-cluster dispersion B = sum n_k |c_k - c|^2 and within-cluster W = sum |x - c_k|^2
    are sums of squares of direct differences: each term is off by 2 |v| dv + (d + 2) eps |v|^2
    for a difference v whose centroid is off by dv, and a sum of m terms by m eps more. The
    ratio's relative error is at most the sum of the two; the bound is taken for each of the
    two implementations.
    """
    codes, sizes, centroids = _clusters(X, labels)
    centroid_error = _centroid_error(X, sizes)
    grand_error = X.shape[0] * _eps() * np.linalg.norm(X, axis=1).max()
    d = X.shape[1]
    gaps = np.linalg.norm(centroids - X.mean(axis=0), axis=1)
    between = float(np.sum(sizes * gaps**2))
    shift = centroid_error + grand_error
    between_error = float(
        np.sum(sizes * (2 * gaps * shift + shift**2 + (d + 2) * _eps() * gaps**2))
    ) + sizes.size * _eps() * between
    residuals = np.linalg.norm(X - centroids[codes], axis=1)
    within = float(np.sum(residuals**2))
    within_error = float(
        np.sum(2 * residuals * centroid_error[codes] + (d + 2) * _eps() * residuals**2)
    ) + X.shape[0] * d * _eps() * within
    return 2 * (between_error / between + within_error / within)


def inertia_rtol(
    X: np.ndarray,
    centers: np.ndarray,
    labels: np.ndarray,
    *,
    expanded: int,
    dtype: type = np.float64,
    weights: np.ndarray | None = None,
) -> float:
    """Bound on the relative difference of two computations of sum w |x - c_label|^2.

    Parameters
    ----------
    X, centers, labels
        The rows, the centres and each row's centre.
    expanded : int
        How many of the two computations expand the squared distances in ``dtype`` (0, 1 or
        2); the others take them directly in float64 from the same float values.
    dtype : type
        The dtype the expanded distances are computed in.
    weights : array, optional
        Positive row weights (1 when omitted).

    Notes
    -----
    An expanded squared distance is off by (d + 2) eps (|x| + |c|)^2 (the module docstring), a
    direct one by (d + 2) eps of itself (the subtraction of two floats is exact to one
    rounding); either weighted sum of n terms adds n eps of float64, where it accumulates.
    """
    X64 = X.astype(np.float64)
    centers64 = centers.astype(np.float64)[labels]
    w = np.ones(X.shape[0]) if weights is None else weights.astype(np.float64)
    d = X.shape[1]
    total = float(w @ ((X64 - centers64) ** 2).sum(axis=1))
    norms = np.linalg.norm(X64, axis=1) + np.linalg.norm(centers64, axis=1)
    per_expanded = (d + 2) * _eps(dtype) * float(w @ norms**2) / total
    per_direct = (d + 2) * _eps()
    summation = X.shape[0] * _eps()
    return expanded * per_expanded + (2 - expanded) * per_direct + 2 * summation


def centre_atol(
    X: np.ndarray, weights: np.ndarray, labels: np.ndarray, n_updates: int
) -> float:
    """Bound on the difference between cluster means from fresh float64 sums and from float64
    sums updated ``n_updates`` times by the rows that changed cluster.

    Notes
    -----
    Each update adds and subtracts per-cluster sums of at most n rows of magnitude
    ``max |w x|``, each off by n eps of that; a mean divides by its cluster's weight. The
    cast of the mean to the data's dtype is not included: it is one unit in the last place
    (``rtol = eps`` of the dtype).
    """
    X64, w = X.astype(np.float64), weights.astype(np.float64)
    cluster_weights = np.bincount(labels, weights=w)
    largest = float(np.max(np.abs(X64) * w[:, None]))
    n = X.shape[0]
    return (n_updates + 1) * 2 * n * _eps() * largest / float(
        cluster_weights[cluster_weights > 0].min()
    )


def no_worse_than_reference_rtol(
    X: np.ndarray, centers: np.ndarray, labels: np.ndarray, relative_tol: float = 1e-4
) -> float:
    """How far above a reference k-means fit's inertia ours may lie at the same optimum.

    Parameters
    ----------
    X, centers, labels
        The rows and the reference fit's centres and labels.
    relative_tol : float
        The ``tol`` both fits were given (1e-4, the default of both libraries).

    Notes
    -----
    Two terms. Rounding: both inertias are direct float64 sums (:func:`inertia_rtol` with
    ``expanded=0``). Stopping: neither fit is a float computation of the optimum's inertia;
    both stop once the centres' summed squared shift falls below ``tol`` (``relative_tol``
    times the mean variance), where their inertia may still lie about ``n * tol`` above the
    fixed point's. A fit on another optimum differs by far more than either term.
    """
    from segmentation._kmeans_core import tolerance

    rounding = inertia_rtol(X, centers, labels, expanded=0)
    X64 = X.astype(np.float64)
    inertia = float(((X64 - centers.astype(np.float64)[labels]) ** 2).sum())
    return rounding + X.shape[0] * tolerance(X64, relative_tol) / inertia
