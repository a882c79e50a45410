"""Chunked NumPy kernels behind :class:`segmentation.kmeans.KMeans`.

Every pass over the rows works on a block of ``chunk_rows`` rows at a time and writes into
buffers allocated once per fit, so memory stays O(n + chunk_rows * k) whatever the input size:
no array of shape (n, k, d) and no full (n, k) distance matrix is ever built.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "BlockBuffers",
    "LloydWorkspace",
    "assign_labels",
    "inertia_of",
    "inertia_to_centers",
    "kmeans_plusplus",
    "kmeans_single_lloyd",
    "row_norms_squared",
    "tolerance",
    "update_centers",
    "weighted_sums",
]

# Rows per block: 16,384 rows x k distances stay within a 2 MiB L2 cache for k <= 16 while
# the per-block Python overhead (a few microseconds per NumPy call) stays negligible.
_CHUNK_ROWS = 16_384


def row_norms_squared(X: np.ndarray) -> np.ndarray:
    """Squared Euclidean norm of each row, in X's dtype, without an (n, d) temporary."""
    return np.einsum("ij,ij->i", X, X)


def tolerance(X: np.ndarray, tol: float) -> float:
    """Absolute convergence threshold: ``tol`` times the mean per-feature variance of X."""
    if tol == 0:
        return 0.0
    return float(np.mean(np.var(X, axis=0, dtype=np.float64)) * tol)


@dataclass
class LloydWorkspace:
    """Data layouts and buffers shared by every pass of one fit (allocated once)."""

    X_by_feature: np.ndarray
    X_weighted_by_feature: np.ndarray
    x_squared_norms: np.ndarray
    sample_weight: np.ndarray
    unit_weights: bool
    labels: np.ndarray
    labels_previous: np.ndarray
    min_distances: np.ndarray
    buffers: BlockBuffers

    @classmethod
    def allocate(
        cls, X: np.ndarray, sample_weight: np.ndarray, x_squared_norms: np.ndarray, n_clusters: int
    ) -> LloydWorkspace:
        """Allocate the buffers for data X and ``n_clusters`` centres."""
        n_samples = X.shape[0]
        unit_weights = bool(np.all(sample_weight == 1))
        # Feature-major (d, n) copy: the distance product C.X^T then yields one contiguous row
        # per centre, and each centre coordinate is one bincount over a contiguous column
        # (np.add.at over rows is an order of magnitude slower).
        by_feature = np.ascontiguousarray(X.T)
        weighted = by_feature * sample_weight if not unit_weights else by_feature
        return cls(
            X_by_feature=by_feature,
            X_weighted_by_feature=weighted,
            x_squared_norms=x_squared_norms,
            sample_weight=sample_weight,
            unit_weights=unit_weights,
            labels=np.zeros(n_samples, dtype=np.intp),
            labels_previous=np.full(n_samples, -1, dtype=np.intp),
            min_distances=np.empty(n_samples, dtype=X.dtype),
            buffers=BlockBuffers.allocate(n_samples, n_clusters, X.dtype),
        )

    def assign(self, centers: np.ndarray) -> None:
        """Fill ``labels`` and ``min_distances`` for these centres."""
        assign_labels(self.X_by_feature, centers, self.x_squared_norms, self.labels,
                      self.min_distances, self.buffers)


@dataclass
class BlockBuffers:
    """Scratch space for one block of rows: distances (k, rows), a mask, small-int labels."""

    distances: np.ndarray
    closer: np.ndarray
    labels: np.ndarray
    candidate: np.ndarray

    @classmethod
    def allocate(cls, n_samples: int, n_clusters: int, dtype: np.dtype) -> BlockBuffers:
        """Buffers for blocks of up to _CHUNK_ROWS rows of n_samples, k centres."""
        rows = max(1, min(_CHUNK_ROWS, n_samples))
        # The smallest unsigned type that holds every centre index: 1 byte up to k = 256.
        label_type = np.min_scalar_type(max(n_clusters - 1, 0))
        return cls(
            distances=np.empty(rows * n_clusters, dtype=dtype),
            closer=np.empty(rows, dtype=bool),
            labels=np.empty(rows, dtype=label_type),
            candidate=np.empty(rows, dtype=label_type),
        )


def assign_labels(
    X_by_feature: np.ndarray,
    centers: np.ndarray,
    x_squared_norms: np.ndarray,
    labels_out: np.ndarray,
    min_distances_out: np.ndarray,
    buffers: BlockBuffers,
) -> None:
    """Nearest centre of each row and its squared distance, written into the given arrays.

    Distances are expanded as ||x||^2 - 2 c.x + ||c||^2 so that the heavy part is one BLAS
    product per block, written straight into the preallocated (k, rows) block. The nearest
    centre is then found with a running minimum over the k contiguous rows of the block:
    where centre j is closer than all before it, j is the latest and so the largest index to
    win, so the label is the running maximum of ``closer * j``, computed in one-byte integers.
    That is several times faster than ``argmin`` along a short axis or a masked copy, and
    the running minimum is the distance itself; ties go to the lower index, as argmin's.
    """
    n_clusters = centers.shape[0]
    n_samples = X_by_feature.shape[1]
    chunk_rows = buffers.closer.shape[0]
    minus_two_centers = np.ascontiguousarray(-2.0 * centers, dtype=X_by_feature.dtype)
    center_norms = row_norms_squared(centers).astype(X_by_feature.dtype, copy=False)
    closer_as_int = buffers.closer.view(np.uint8)
    for start in range(0, n_samples, chunk_rows):
        stop = min(start + chunk_rows, n_samples)
        rows = stop - start
        distances = buffers.distances[: n_clusters * rows].reshape(n_clusters, rows)
        np.dot(minus_two_centers, X_by_feature[:, start:stop], out=distances)
        nearest = min_distances_out[start:stop]
        labels = buffers.labels[:rows]
        closer, candidate = closer_as_int[:rows], buffers.candidate[:rows]
        np.add(distances[0], center_norms[0], out=nearest)
        labels.fill(0)
        for cluster in range(1, n_clusters):
            row = distances[cluster]
            row += center_norms[cluster]
            np.less(row, nearest, out=closer.view(bool))
            np.minimum(nearest, row, out=nearest)
            np.multiply(closer, cluster, out=candidate, casting="unsafe")
            np.maximum(labels, candidate, out=labels)
        labels_out[start:stop] = labels
        nearest += x_squared_norms[start:stop]
    # Cancellation in the expansion can leave tiny negatives for points on a centre.
    np.maximum(min_distances_out, 0, out=min_distances_out)


def weighted_sums(
    workspace: LloydWorkspace, n_clusters: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per-cluster weighted coordinate sums (k, d) and total weights (k,), in float64."""
    labels = workspace.labels
    n_features = workspace.X_weighted_by_feature.shape[0]
    sums = np.empty((n_clusters, n_features), dtype=np.float64)
    for feature in range(n_features):
        sums[:, feature] = np.bincount(
            labels, weights=workspace.X_weighted_by_feature[feature], minlength=n_clusters
        )
    if workspace.unit_weights:
        weights = np.bincount(labels, minlength=n_clusters).astype(np.float64)
    else:
        weights = np.bincount(labels, weights=workspace.sample_weight, minlength=n_clusters)
    return sums, weights


def _relocate_empty_clusters(
    X: np.ndarray, workspace: LloydWorkspace, sums: np.ndarray, weights: np.ndarray
) -> int:
    """Move each empty cluster onto one of the points farthest from their own centre.

    The farthest points are those the current centres explain worst, so seeding an empty
    cluster there lowers the inertia the most; the point leaves its old cluster's sums so the
    update stays a true weighted mean. Returns the number of clusters relocated.
    """
    empty = np.flatnonzero(weights == 0)
    if empty.size == 0:
        return 0
    # Farthest first, ties to the lower row index (a stable sort; empty clusters are rare).
    # A row of weight 0 cannot hold a cluster (its weight would stay 0), so it ranks last.
    distances = workspace.min_distances
    if not workspace.unit_weights:
        distances = np.where(workspace.sample_weight > 0, distances, -np.inf)
    candidates = np.argsort(-distances, kind="stable")[: empty.size]
    for cluster, row in zip(empty, candidates, strict=True):
        weight = float(workspace.sample_weight[row])
        point = X[row].astype(np.float64) * weight
        old = workspace.labels[row]
        sums[old] -= point
        weights[old] -= weight
        sums[cluster] = point
        weights[cluster] = weight
    return int(empty.size)


def update_centers(
    X: np.ndarray, workspace: LloydWorkspace, centers: np.ndarray
) -> tuple[np.ndarray, int]:
    """Weighted mean of each cluster's points, relocating empty clusters first."""
    n_clusters = centers.shape[0]
    sums, weights = weighted_sums(workspace, n_clusters)
    relocated = _relocate_empty_clusters(X, workspace, sums, weights)
    populated = weights > 0
    new_centers = centers.astype(np.float64, copy=True)
    new_centers[populated] = sums[populated] / weights[populated, None]
    return new_centers.astype(X.dtype, copy=False), relocated


def inertia_of(workspace: LloydWorkspace) -> float:
    """Weighted sum of squared distances to the assigned centres, accumulated in float64."""
    if workspace.unit_weights:
        return float(np.sum(workspace.min_distances, dtype=np.float64))
    return float(np.dot(workspace.sample_weight, workspace.min_distances.astype(np.float64)))


def inertia_to_centers(
    X: np.ndarray, centers: np.ndarray, labels: np.ndarray, sample_weight: np.ndarray
) -> float:
    """Weighted sum of ||x - c_label||^2 computed directly (no expansion), in float64.

    The expanded distances used for the assignment lose digits when the points are far from
    the origin relative to their spread; this direct sum does not, so it is the reported value.
    """
    centers64 = centers.astype(np.float64, copy=False)
    weights64 = sample_weight.astype(np.float64, copy=False)
    total = 0.0
    for start in range(0, X.shape[0], _CHUNK_ROWS):
        stop = min(start + _CHUNK_ROWS, X.shape[0])
        difference = X[start:stop].astype(np.float64) - centers64[labels[start:stop]]
        total += float(np.dot(weights64[start:stop], np.einsum("ij,ij->i", difference,
                                                               difference)))
    return total


def kmeans_single_lloyd(
    X: np.ndarray,
    centers_init: np.ndarray,
    workspace: LloydWorkspace,
    max_iter: int,
    tol: float,
) -> tuple[np.ndarray, np.ndarray, float, int]:
    """One run of Lloyd's algorithm from ``centers_init``.

    Returns
    -------
    centers, labels, inertia, n_iter
        ``labels`` and ``inertia`` always belong to the returned ``centers``: when the loop
        stops on the centre-shift tolerance a last assignment pass is made, because the
        labels computed before the final update refer to the previous centres.
    """
    centers = centers_init.astype(X.dtype, copy=True)
    workspace.labels_previous.fill(-1)
    labels_match_centers = False
    n_iter = 0
    for n_iter in range(1, max_iter + 1):  # noqa: B007 - n_iter is returned
        workspace.assign(centers)
        new_centers, relocated = update_centers(X, workspace, centers)
        if relocated == 0 and np.array_equal(workspace.labels, workspace.labels_previous):
            # Same labels as the previous pass: the update reproduced the same centres.
            labels_match_centers = True
            break
        shift = float(np.sum((new_centers.astype(np.float64) - centers) ** 2))
        centers = new_centers
        if shift <= tol:
            break
        workspace.labels_previous[:] = workspace.labels
    if not labels_match_centers:
        workspace.assign(centers)
    return centers, workspace.labels.copy(), inertia_of(workspace), n_iter


def kmeans_plusplus(
    X: np.ndarray,
    X_by_feature: np.ndarray,
    n_clusters: int,
    x_squared_norms: np.ndarray,
    sample_weight: np.ndarray,
    rng: np.random.Generator,
    n_local_trials: int | None = None,
) -> np.ndarray:
    """Greedy k-means++ seeding: the best of ``2 + log(k)`` sampled candidates per centre.

    Candidate distances are laid out as (trials, n) so that each candidate's row is contiguous
    and the potential of every candidate is one matrix-vector product with the weights.
    """
    n_samples, n_features = X.shape
    if n_local_trials is None:
        n_local_trials = 2 + int(np.log(n_clusters))
    centers = np.empty((n_clusters, n_features), dtype=X.dtype)
    weights64 = sample_weight.astype(np.float64, copy=False)
    first = rng.choice(n_samples, p=weights64 / weights64.sum())
    centers[0] = X[first]
    closest = _distances_to_points(X_by_feature, x_squared_norms, X[[first]])[0]
    potential = float(np.dot(weights64, closest))
    for index in range(1, n_clusters):
        cumulative = np.cumsum(weights64 * closest)
        targets = rng.uniform(size=n_local_trials) * potential
        candidate_ids = np.searchsorted(cumulative, targets)
        np.clip(candidate_ids, None, n_samples - 1, out=candidate_ids)
        candidate_distances = _distances_to_points(X_by_feature, x_squared_norms,
                                                   X[candidate_ids])
        np.minimum(candidate_distances, closest, out=candidate_distances)
        candidate_potentials = candidate_distances @ weights64
        best = int(np.argmin(candidate_potentials))
        potential = float(candidate_potentials[best])
        closest = candidate_distances[best]
        centers[index] = X[candidate_ids[best]]
    return centers


def _distances_to_points(
    X_by_feature: np.ndarray, x_squared_norms: np.ndarray, points: np.ndarray
) -> np.ndarray:
    """Squared distances (len(points), n) from each of a few points to every row."""
    distances = np.dot(-2.0 * points, X_by_feature)
    distances += x_squared_norms
    distances += row_norms_squared(points)[:, None]
    np.maximum(distances, 0, out=distances)
    return distances

