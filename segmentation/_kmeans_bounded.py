"""Lloyd's algorithm with Hamerly's distance bounds, for the large inputs of KMeans.

Once the first few iterations have placed the centres, most rows keep their centre from one
iteration to the next, yet plain Lloyd recomputes all n x k distances and re-sums every
cluster on each pass. Hamerly's bounds (G. Hamerly, "Making k-means even faster", SDM 2010)
prove for most rows that their nearest centre cannot have changed: each row keeps an upper
bound on the distance to its own centre and a lower bound on the distance to any other, both
moved by how far the centres moved. Only rows whose bounds overlap are recomputed, and the
cluster sums are updated by the rows that changed cluster only. The iterates are those of
plain Lloyd (up to rounding in near-ties); the loop ends with a full assignment pass, so the
returned labels and inertia belong to the returned centres exactly as in
:func:`segmentation._kmeans_core.kmeans_single_lloyd`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from segmentation._kmeans_core import (
    BlockBuffers,
    LloydWorkspace,
    inertia_of,
    row_norms_squared,
    update_centers,
    weighted_sums,
)

__all__ = ["kmeans_bounded_lloyd"]

# Above this share of unsure rows, one contiguous pass over all rows replaces the gathers.
_FULL_PASS_SHARE = 0.3
# A cluster weight below this fraction of the total is recounted (see the main loop).
_WEIGHT_DRIFT = 1e-9


@dataclass
class _Bounds:
    """Per-row state of one bounded run: distance bounds and block scratch space."""

    upper: np.ndarray
    lower: np.ndarray
    nearest_block: np.ndarray
    second_block: np.ndarray
    scratch: np.ndarray
    block: BlockBuffers

    @classmethod
    def allocate(cls, n_samples: int, n_clusters: int, dtype: np.dtype) -> _Bounds:
        """Bounds for n_samples rows (float64) and scratch for one block of k distances."""
        block = BlockBuffers.allocate(n_samples, n_clusters, dtype)
        rows = block.closer.shape[0]
        return cls(
            upper=np.empty(n_samples, dtype=np.float64),
            lower=np.empty(n_samples, dtype=np.float64),
            nearest_block=np.empty(rows, dtype=dtype),
            second_block=np.empty(rows, dtype=dtype),
            scratch=np.empty(rows, dtype=dtype),
            block=block,
        )


def _two_nearest(
    X_block: np.ndarray,
    x_norms_block: np.ndarray,
    minus_two_centers: np.ndarray,
    center_norms: np.ndarray,
    bounds: _Bounds,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nearest centre, its squared distance and the second-nearest one for a (d, rows) block.

    A running minimum over the k contiguous rows of the (k, rows) distance block, as in
    :func:`segmentation._kmeans_core.assign_labels` (ties go to the lower index); the second
    smallest is the running minimum of max(nearest so far, next row).
    """
    n_clusters, rows = minus_two_centers.shape[0], X_block.shape[1]
    block = bounds.block
    distances = block.distances[: n_clusters * rows].reshape(n_clusters, rows)
    np.dot(minus_two_centers, X_block, out=distances)
    distances += center_norms[:, None]
    labels = block.labels[:rows]
    nearest, second = bounds.nearest_block[:rows], bounds.second_block[:rows]
    scratch = bounds.scratch[:rows]
    nearest[:] = distances[0]
    second.fill(np.inf)
    labels.fill(0)
    closer, candidate = block.closer.view(np.uint8)[:rows], block.candidate[:rows]
    for cluster in range(1, n_clusters):
        row = distances[cluster]
        np.maximum(nearest, row, out=scratch)
        np.minimum(second, scratch, out=second)
        # Where centre j is closer than all before it, j is the largest index to win so far,
        # so the label is the running maximum of closer * j (one-byte integers, no masks).
        np.less(row, nearest, out=closer.view(bool))
        np.minimum(nearest, row, out=nearest)
        np.multiply(closer, cluster, out=candidate, casting="unsafe")
        np.maximum(labels, candidate, out=labels)
    nearest += x_norms_block
    second += x_norms_block
    # Cancellation in the expansion can leave tiny negatives for points on a centre.
    np.maximum(nearest, 0, out=nearest)
    np.maximum(second, 0, out=second)
    return labels, nearest, second


def _full_pass(workspace: LloydWorkspace, centers: np.ndarray, bounds: _Bounds) -> None:
    """Exact labels, squared distances (``workspace.min_distances``) and bounds of all rows."""
    minus_two_centers = np.ascontiguousarray(-2.0 * centers, dtype=centers.dtype)
    center_norms = row_norms_squared(centers)
    n_samples, chunk_rows = workspace.labels.shape[0], bounds.block.closer.shape[0]
    for start in range(0, n_samples, chunk_rows):
        stop = min(start + chunk_rows, n_samples)
        labels, nearest, second = _two_nearest(
            workspace.X_by_feature[:, start:stop], workspace.x_squared_norms[start:stop],
            minus_two_centers, center_norms, bounds)
        workspace.labels[start:stop] = labels
        workspace.min_distances[start:stop] = nearest
        np.sqrt(nearest, out=bounds.upper[start:stop])
        np.sqrt(second, out=bounds.lower[start:stop])


def _bounded_pass(
    X: np.ndarray,
    workspace: LloydWorkspace,
    centers: np.ndarray,
    rows: np.ndarray,
    limits: np.ndarray,
    bounds: _Bounds,
) -> tuple[np.ndarray, np.ndarray]:
    """Re-examine the given rows; returns those that changed centre and their old labels.

    Each row's upper bound is first tightened to the exact distance to its own centre (d
    operations per row instead of k distances); only rows where that still exceeds their
    ``limits`` entry (the distance below which no other centre can be nearer) get all k.
    """
    minus_two_centers = np.ascontiguousarray(-2.0 * centers, dtype=centers.dtype)
    center_norms = row_norms_squared(centers)
    changed, old_labels = [], []
    chunk_rows = bounds.block.closer.shape[0]
    for start in range(0, rows.size, chunk_rows):
        block_rows = rows[start:start + chunk_rows]
        # Gathering whole rows of the row-major X copies d contiguous values per row, far
        # faster than gathering from each of the d rows of the feature-major copy.
        X_block = X[block_rows]
        previous = workspace.labels[block_rows]
        offsets = X_block - centers[previous]
        own = np.sqrt(np.einsum("ij,ij->i", offsets, offsets))
        bounds.upper[block_rows] = own
        unsure = np.flatnonzero(own > limits[start:start + chunk_rows])
        if unsure.size == 0:
            continue
        block_rows, previous = block_rows[unsure], previous[unsure]
        labels, nearest, second = _two_nearest(
            X_block[unsure].T, workspace.x_squared_norms[block_rows],
            minus_two_centers, center_norms, bounds)
        bounds.upper[block_rows] = np.sqrt(nearest)
        bounds.lower[block_rows] = np.sqrt(second)
        moved = np.flatnonzero(labels != previous)
        changed.append(block_rows[moved])
        old_labels.append(previous[moved])
        workspace.labels[block_rows[moved]] = labels[moved]
    if not changed:
        return np.empty(0, dtype=np.intp), np.empty(0, dtype=np.intp)
    return np.concatenate(changed), np.concatenate(old_labels)


def _move_rows(
    workspace: LloydWorkspace, rows: np.ndarray, old_labels: np.ndarray,
    sums: np.ndarray, weights: np.ndarray,
) -> None:
    """Update the cluster sums and weights for rows that moved from ``old_labels``."""
    n_clusters = weights.shape[0]
    new_labels = workspace.labels[rows]
    row_weights = None if workspace.unit_weights else workspace.sample_weight[rows]
    weights += np.bincount(new_labels, weights=row_weights, minlength=n_clusters)
    weights -= np.bincount(old_labels, weights=row_weights, minlength=n_clusters)
    for feature in range(sums.shape[1]):
        coordinates = workspace.X_weighted_by_feature[feature, rows]
        sums[:, feature] += np.bincount(new_labels, weights=coordinates, minlength=n_clusters)
        sums[:, feature] -= np.bincount(old_labels, weights=coordinates, minlength=n_clusters)


def _half_gaps(centers: np.ndarray) -> np.ndarray:
    """Half the distance from each centre to the nearest other one (inf when k = 1)."""
    centers64 = centers.astype(np.float64)
    squared = row_norms_squared(centers64)
    gaps = squared[:, None] - 2.0 * centers64 @ centers64.T + squared[None, :]
    np.fill_diagonal(gaps, np.inf)
    return 0.5 * np.sqrt(np.maximum(gaps.min(axis=1), 0.0))


def kmeans_bounded_lloyd(
    X: np.ndarray,
    centers_init: np.ndarray,
    workspace: LloydWorkspace,
    max_iter: int,
    tol: float,
) -> tuple[np.ndarray, np.ndarray, float, int]:
    """One run of Lloyd's algorithm from ``centers_init``, skipping rows whose bounds hold.

    Same inputs, stopping rules and result as
    :func:`segmentation._kmeans_core.kmeans_single_lloyd`: it stops when the labels no longer
    change (confirmed by a full pass) or when the squared centre shift is at most ``tol``,
    and the returned labels and inertia come from a full pass over the returned centres.

    Returns
    -------
    centers, labels, inertia, n_iter
    """
    n_samples, n_clusters = X.shape[0], centers_init.shape[0]
    bounds = _Bounds.allocate(n_samples, n_clusters, X.dtype)
    centers = centers_init.astype(X.dtype, copy=True)
    _full_pass(workspace, centers, bounds)
    sums, weights = weighted_sums(workspace, n_clusters)
    n_iter, exact = 1, True
    while True:
        if not workspace.unit_weights and np.any(weights <= _WEIGHT_DRIFT * weights.sum()):
            # Weights updated by differences can leave a rounding residue where a cluster
            # emptied: recount before deciding which clusters are empty.
            sums, weights = weighted_sums(workspace, n_clusters)
        if np.any(weights == 0):
            # Relocation needs exact distances and leaves labels stale: a full pass follows.
            if not exact:
                _full_pass(workspace, centers, bounds)
                sums, weights = weighted_sums(workspace, n_clusters)
            new_centers, _ = update_centers(X, workspace, centers)
            exact = False
            full_pass_next = True
        else:
            new_centers = (sums / weights[:, None]).astype(X.dtype)
            full_pass_next = False
        moved = np.sqrt(np.sum((new_centers.astype(np.float64) - centers) ** 2, axis=1))
        centers = new_centers
        if float(np.sum(moved**2)) <= tol or n_iter >= max_iter:
            break
        n_iter += 1
        if full_pass_next:
            _full_pass(workspace, centers, bounds)
            sums, weights = weighted_sums(workspace, n_clusters)
            exact = True
            continue
        np.add(bounds.upper, moved[workspace.labels], out=bounds.upper)
        bounds.lower -= moved.max()
        rows = np.flatnonzero(bounds.upper > bounds.lower)
        # A row within half the gap between its centre and the nearest other one keeps its
        # centre too; checked on the few rows left rather than on all n.
        limits = np.maximum(bounds.lower[rows], _half_gaps(centers)[workspace.labels[rows]])
        unsure = bounds.upper[rows] > limits
        rows, limits = rows[unsure], limits[unsure]
        if rows.size > _FULL_PASS_SHARE * n_samples:
            # Early on most rows are unsure: one contiguous pass is cheaper than gathering.
            previous = workspace.labels_previous
            previous[:] = workspace.labels
            _full_pass(workspace, centers, bounds)
            changed = np.flatnonzero(workspace.labels != previous)
            old_labels = previous[changed]
        else:
            changed, old_labels = _bounded_pass(X, workspace, centers, rows, limits, bounds)
        exact = False
        if changed.size == 0:
            # No row can have changed centre, so the centres are a fixed point; a full pass
            # confirms it (bounds are rounded) and recomputes the sums if rounding disagreed.
            previous = workspace.labels.copy()
            _full_pass(workspace, centers, bounds)
            exact = True
            if np.array_equal(previous, workspace.labels):
                return centers, workspace.labels.copy(), inertia_of(workspace), n_iter
            sums, weights = weighted_sums(workspace, n_clusters)
            continue
        _move_rows(workspace, changed, old_labels, sums, weights)
    _full_pass(workspace, centers, bounds)
    return centers, workspace.labels.copy(), inertia_of(workspace), n_iter
