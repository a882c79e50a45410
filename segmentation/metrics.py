"""Cluster quality scores in NumPy: silhouette, Davies-Bouldin and Calinski-Harabasz."""

from __future__ import annotations

import numpy as np

__all__ = ["calinski_harabasz_score", "davies_bouldin_score", "silhouette_score"]

# Rows of the pairwise-distance block: 2048 x n float64 stays small for the sizes scored here.
_SILHOUETTE_BLOCK_ROWS = 2048


def _encode_labels(labels: object, n_samples: int) -> tuple[np.ndarray, int]:
    """Labels as consecutive integers 0..k-1, and k; at least two clusters are required."""
    labels = np.asarray(labels)
    if labels.shape != (n_samples,):
        raise ValueError(f"labels must have shape ({n_samples},), got {labels.shape}")
    _, codes = np.unique(labels, return_inverse=True)
    n_clusters = int(codes.max()) + 1 if codes.size else 0
    if not 2 <= n_clusters <= n_samples - 1:
        raise ValueError(
            f"scores need 2 <= number of clusters <= n_samples - 1, got {n_clusters}"
        )
    return codes.astype(np.intp), n_clusters


def _centroids(X: np.ndarray, codes: np.ndarray, n_clusters: int) -> np.ndarray:
    """Mean of each cluster's rows (k, d)."""
    counts = np.bincount(codes, minlength=n_clusters).astype(np.float64)
    sums = np.stack(
        [np.bincount(codes, weights=X[:, j], minlength=n_clusters) for j in range(X.shape[1])],
        axis=1,
    )
    return sums / counts[:, None]


def silhouette_score(
    X: object,
    labels: object,
    *,
    sample_size: int | None = None,
    random_state: int | np.random.Generator | None = None,
) -> float:
    """Mean silhouette coefficient over the rows (or over a random sample of them).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        The rows, in the space the clustering was made in.
    labels : array-like of shape (n_samples,)
        Cluster of each row.
    sample_size : int, optional
        Score a random sample of this many rows (distances within the sample only).
    random_state : int or Generator, optional
        Seed of the sample.

    Returns
    -------
    float
        Between -1 (wrong clusters) and 1 (dense, well separated clusters).

    Notes
    -----
    The exact score needs all n^2 pairwise distances, so large inputs are scored on a sample;
    the distances are computed a block of rows at a time and summed per cluster with one
    matrix product against the one-hot label matrix, never holding the n x n matrix. A row
    alone in its cluster scores 0, as in the usual definition.
    """
    X = np.asarray(X, dtype=np.float64)
    codes, _ = _encode_labels(labels, X.shape[0])
    if sample_size is not None and sample_size < X.shape[0]:
        rng = np.random.default_rng(random_state)
        rows = np.sort(rng.choice(X.shape[0], size=sample_size, replace=False))
        X = X[rows]
        codes, _ = _encode_labels(codes[rows], X.shape[0])
    n_clusters = int(codes.max()) + 1
    one_hot = np.zeros((X.shape[0], n_clusters))
    one_hot[np.arange(X.shape[0]), codes] = 1.0
    counts = one_hot.sum(axis=0)
    squared_norms = np.einsum("ij,ij->i", X, X)
    scores = np.empty(X.shape[0])
    for start in range(0, X.shape[0], _SILHOUETTE_BLOCK_ROWS):
        stop = min(start + _SILHOUETTE_BLOCK_ROWS, X.shape[0])
        squared = squared_norms[start:stop, None] - 2 * X[start:stop] @ X.T + squared_norms
        distance_sums = np.sqrt(np.maximum(squared, 0)) @ one_hot
        own = codes[start:stop]
        rows = np.arange(stop - start)
        own_size = counts[own]
        a = distance_sums[rows, own] / np.maximum(own_size - 1, 1)
        mean_to_others = distance_sums / counts
        mean_to_others[rows, own] = np.inf
        b = mean_to_others.min(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            block_scores = (b - a) / np.maximum(a, b)
        scores[start:stop] = np.where(own_size > 1, np.nan_to_num(block_scores), 0.0)
    return float(scores.mean())


def davies_bouldin_score(X: object, labels: object) -> float:
    """Davies-Bouldin index: mean over clusters of the worst (spread_i + spread_j) / gap_ij.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        The rows.
    labels : array-like of shape (n_samples,)
        Cluster of each row.

    Returns
    -------
    float
        0 or more; lower means tighter, better separated clusters.

    Notes
    -----
    A cluster's spread is the mean Euclidean distance of its rows to its centroid and the gap
    is the distance between centroids, so the index rewards compact clusters far apart.
    """
    X = np.asarray(X, dtype=np.float64)
    codes, n_clusters = _encode_labels(labels, X.shape[0])
    centroids = _centroids(X, codes, n_clusters)
    to_centroid = np.sqrt(np.sum((X - centroids[codes]) ** 2, axis=1))
    spread = np.bincount(codes, weights=to_centroid, minlength=n_clusters) / np.bincount(
        codes, minlength=n_clusters
    )
    gaps = np.sqrt(np.sum((centroids[:, None, :] - centroids[None, :, :]) ** 2, axis=2))
    if np.allclose(spread, 0) or np.allclose(gaps, 0):
        return 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = (spread[:, None] + spread[None, :]) / gaps
    np.fill_diagonal(ratios, -np.inf)
    return float(np.mean(ratios.max(axis=1)))


def calinski_harabasz_score(X: object, labels: object) -> float:
    """Calinski-Harabasz index: between- over within-cluster dispersion, per degree of freedom.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        The rows.
    labels : array-like of shape (n_samples,)
        Cluster of each row.

    Returns
    -------
    float
        Higher means better separated clusters; 1.0 when every cluster is a single point.

    Notes
    -----
    Dividing by (k - 1) and (n - k) keeps the ratio comparable across k, which is why it is
    used beside the elbow to choose the number of clusters.
    """
    X = np.asarray(X, dtype=np.float64)
    codes, n_clusters = _encode_labels(labels, X.shape[0])
    centroids = _centroids(X, codes, n_clusters)
    counts = np.bincount(codes, minlength=n_clusters)
    between = float(np.sum(counts * np.sum((centroids - X.mean(axis=0)) ** 2, axis=1)))
    within = float(np.sum((X - centroids[codes]) ** 2))
    if within == 0:
        return 1.0
    return between * (X.shape[0] - n_clusters) / (within * (n_clusters - 1))
