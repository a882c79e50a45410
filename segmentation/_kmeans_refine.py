"""Refinements of a Lloyd solution for small inputs: Hartigan moves and a swap search.

Both keep (n, k) or (n, candidates) arrays and work one move at a time, so they are meant for
inputs of a few thousand rows at most (the limits live in :mod:`segmentation.kmeans`).
"""

from __future__ import annotations

import numpy as np

__all__ = ["hartigan_refine", "ranked_swaps"]


def hartigan_refine(
    X: np.ndarray,
    sample_weight: np.ndarray,
    labels: np.ndarray,
    centers: np.ndarray,
    max_moves: int,
    min_gain: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Improve a Lloyd solution by single-point moves (Hartigan's rule), best move first.

    Moving a point of weight w from cluster a (total weight W_a) to b changes the inertia by
    W_b w / (W_b + w) d_b - W_a w / (W_a - w) d_a, where d are squared distances to the
    current centres; Lloyd ignores the two weight factors, so it stops at solutions that
    such a move still improves. Every accepted move lowers the inertia, and at the end each
    point is nearest to its own centre, so the result is also a Lloyd fixed point.
    A move must lower the inertia by more than ``min_gain`` (a floor set from the data's
    scale): rounding noise must not count as a gain, or duplicate points bounce for ever.
    Costs O(n k) memory and O(n k) per move: meant for small and medium inputs.
    """
    X64 = X.astype(np.float64, copy=False)
    w = sample_weight.astype(np.float64, copy=False)
    labels = labels.copy()
    n_clusters = centers.shape[0]
    rows = np.arange(X.shape[0])
    weights = np.bincount(labels, weights=w, minlength=n_clusters)
    sums = np.stack(
        [np.bincount(labels, weights=w * X64[:, j], minlength=n_clusters)
         for j in range(X.shape[1])], axis=1,
    )
    centers64 = np.where(weights[:, None] > 0, sums / np.maximum(weights, 1e-300)[:, None],
                         centers)
    squared = np.empty((X.shape[0], n_clusters))
    for cluster in range(n_clusters):
        squared[:, cluster] = np.sum((X64 - centers64[cluster]) ** 2, axis=1)
    for _ in range(max_moves):
        own_weight = weights[labels]
        remaining = own_weight - w
        # A point alone in its cluster may not leave it (the cluster would vanish): its
        # removal "saves" -inf, so every move of it costs +inf.
        with np.errstate(divide="ignore", invalid="ignore"):
            removal = np.where(
                remaining > 0, own_weight * w / remaining * squared[rows, labels], -np.inf
            )
        with np.errstate(invalid="ignore"):
            change = weights * w[:, None] / (weights + w[:, None]) * squared
        change -= removal[:, None]
        change[rows, labels] = np.inf
        flat = int(np.argmin(change))
        row, target = divmod(flat, n_clusters)
        if not change[row, target] < -min_gain:
            break
        source = labels[row]
        point = X64[row] * w[row]
        sums[source] -= point
        weights[source] -= w[row]
        sums[target] += point
        weights[target] += w[row]
        labels[row] = target
        for cluster in (source, target):
            centers64[cluster] = sums[cluster] / weights[cluster]
            squared[:, cluster] = np.sum((X64 - centers64[cluster]) ** 2, axis=1)
    return centers64.astype(X.dtype), labels


def ranked_swaps(
    X: np.ndarray,
    sample_weight: np.ndarray,
    centers: np.ndarray,
    max_candidates: int,
    rng: np.random.Generator,
) -> list[tuple[float, int, int]]:
    """Every (centre, point) swap ranked by the inertia it leaves before any re-convergence.

    Moving centre j onto point p leaves each row with the nearer of its best centre other
    than j and p; that cost is computed for all pairs from the nearest and second-nearest
    distances and one (n, candidates) distance block per centre. Candidate points are all
    rows, or a sample drawn in proportion to their weighted squared distance when there are
    more than ``max_candidates``. Returns (cost, centre, row) sorted by cost, then indices.
    """
    X64 = X.astype(np.float64, copy=False)
    w = sample_weight.astype(np.float64, copy=False)
    n_clusters = centers.shape[0]
    to_centers = np.empty((X.shape[0], n_clusters))
    for cluster in range(n_clusters):
        to_centers[:, cluster] = np.sum((X64 - centers[cluster]) ** 2, axis=1)
    order = np.argsort(to_centers, axis=1, kind="stable")
    rows = np.arange(X.shape[0])
    nearest = to_centers[rows, order[:, 0]]
    second = to_centers[rows, order[:, 1]] if n_clusters > 1 else np.full(X.shape[0], np.inf)
    if X.shape[0] <= max_candidates:
        candidates = rows
    else:
        contribution = w * nearest
        candidates = np.sort(rng.choice(X.shape[0], size=max_candidates, replace=False,
                                        p=contribution / contribution.sum()))
    candidate_points = X64[candidates]
    to_candidates = (
        np.sum(X64**2, axis=1)[:, None] - 2 * X64 @ candidate_points.T
        + np.sum(candidate_points**2, axis=1)
    )
    np.maximum(to_candidates, 0, out=to_candidates)
    swaps = []
    for cluster in range(n_clusters):
        without = np.where(order[:, 0] == cluster, second, nearest)
        costs = w @ np.minimum(without[:, None], to_candidates)
        swaps.extend(zip(costs.tolist(), [cluster] * len(candidates), candidates.tolist(),
                         strict=True))
    swaps.sort()
    return swaps
