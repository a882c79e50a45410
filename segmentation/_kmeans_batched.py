"""Several Lloyd runs in lockstep, one pass over the rows serving all of them.

On a sample of a few tens of thousands of rows, one Lloyd iteration of one run is a few
hundred microseconds, and most of that is the fixed cost of the ~100 NumPy calls it makes,
not arithmetic. Running the ``n_init`` restarts together turns each call into one over all
runs: one BLAS product per block for every run's centres, the running minimum over (runs,
rows) slices, and the cluster sums updated from the rows that changed cluster, for all runs
in one ``bincount`` per feature. Each run stops on its own rules (same labels as before, or
a squared centre shift within ``tol``, or ``max_iter``), exactly as
:func:`segmentation._kmeans_core.kmeans_single_lloyd`, and its labels and inertia come from
a last pass over its final centres.
"""

from __future__ import annotations

import numpy as np

from segmentation._kmeans_core import (
    LloydWorkspace,
    inertia_of,
    row_norms_squared,
    update_centers,
)

__all__ = ["kmeans_lloyd_batch"]

# Distances per block (runs x k x rows): large blocks keep the per-call cost small against
# the work (25,000 rows, 10 runs of k = 8: 16,384 rows per block ran 1.5x faster than 4,096),
# and the cap keeps memory independent of n whatever n_init is.
_BATCH_BLOCK_CELLS = 16_384 * 80


def _assign_all(
    workspace: LloydWorkspace, centers: np.ndarray, labels_out: np.ndarray,
    nearest_out: np.ndarray,
) -> None:
    """Nearest centre and squared distance of every row for each of R runs' (R, k, d) centres.

    The product is laid out cluster-major, (k, R, rows), so that the running minimum over
    the k clusters (as in :func:`segmentation._kmeans_core.assign_labels`) works on whole
    (R, rows) slices: 3 NumPy calls per cluster and block whatever R is.
    """
    n_runs, n_clusters, n_features = centers.shape
    stacked = np.ascontiguousarray(centers.transpose(1, 0, 2)).reshape(-1, n_features)
    minus_two = -2.0 * stacked
    norms = row_norms_squared(stacked).reshape(n_clusters, n_runs, 1)
    X_by_feature, n_samples = workspace.X_by_feature, workspace.X_by_feature.shape[1]
    chunk_rows = max(256, _BATCH_BLOCK_CELLS // (n_runs * n_clusters))
    closer = np.empty((n_runs, chunk_rows), dtype=np.uint8)
    candidate = np.empty_like(closer)
    for start in range(0, n_samples, chunk_rows):
        stop = min(start + chunk_rows, n_samples)
        rows = stop - start
        distances = np.dot(minus_two, X_by_feature[:, start:stop]).reshape(
            n_clusters, n_runs, rows)
        distances += norms
        nearest, labels = nearest_out[:, start:stop], labels_out[:, start:stop]
        np.copyto(nearest, distances[0])
        labels.fill(0)
        block_closer, block_candidate = closer[:, :rows], candidate[:, :rows]
        for cluster in range(1, n_clusters):
            row = distances[cluster]
            np.less(row, nearest, out=block_closer.view(bool))
            np.minimum(nearest, row, out=nearest)
            np.multiply(block_closer, cluster, out=block_candidate, casting="unsafe")
            np.maximum(labels, block_candidate, out=labels)
        nearest += workspace.x_squared_norms[start:stop]


def _batch_sums(
    workspace: LloydWorkspace, labels: np.ndarray, n_clusters: int, rows: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Weighted sums (R, k, d) and weights (R, k) of the given flat (run * n + row) cells.

    ``rows`` None means every row of every run; sums of several runs come from one
    ``bincount`` per feature over run-offset labels.
    """
    n_runs, n_samples = labels.shape
    if rows is None:
        rows = np.arange(n_runs * n_samples)
    run, row = np.divmod(rows, n_samples)
    keys = labels.ravel()[rows].astype(np.intp) + run * n_clusters
    size = n_runs * n_clusters
    weights = np.bincount(keys, weights=None if workspace.unit_weights
                          else workspace.sample_weight[row], minlength=size)
    sums = np.stack([np.bincount(keys, weights=workspace.X_weighted_by_feature[feature, row],
                                 minlength=size)
                     for feature in range(workspace.X_by_feature.shape[0])], axis=1)
    return sums.reshape(n_runs, n_clusters, -1), weights.astype(np.float64).reshape(n_runs, -1)


def kmeans_lloyd_batch(
    X: np.ndarray,
    centers_init: list[np.ndarray],
    workspace: LloydWorkspace,
    max_iter: int,
    tol: float,
) -> list[tuple[np.ndarray, np.ndarray, float, int]]:
    """Lloyd's algorithm from each of ``centers_init`` at once; one result per start.

    Returns
    -------
    list of (centers, labels, inertia, n_iter)
        In the order of ``centers_init``; labels and inertia belong to the returned centres.
    """
    n_clusters, n_samples = centers_init[0].shape[0], X.shape[0]
    centers = np.stack([start.astype(X.dtype) for start in centers_init])
    label_type = np.min_scalar_type(max(n_clusters - 1, 0))
    labels = np.empty((len(centers_init), n_samples), dtype=label_type)
    previous = np.empty_like(labels)
    nearest = np.empty((len(centers_init), n_samples), dtype=X.dtype)
    run_ids = np.arange(len(centers_init))
    n_iter = np.zeros(len(centers_init), dtype=int)
    finished: dict[int, tuple[np.ndarray, int]] = {}
    sums = weights = None
    sums_stale = False
    while run_ids.size:
        n_iter += 1
        _assign_all(workspace, centers, labels, nearest)
        if sums is None:  # first pass: no labels before it, not a fixed point yet
            sums, weights = _batch_sums(workspace, labels, n_clusters, None)
            moved_rows = np.full(run_ids.size, n_samples)
        else:
            changed = np.flatnonzero(labels != previous)
            moved_rows = np.bincount(changed // n_samples, minlength=run_ids.size)
            if sums_stale or _weights_drifted(workspace, weights):
                sums, weights = _batch_sums(workspace, labels, n_clusters, None)
            elif changed.size:
                added, added_weights = _batch_sums(workspace, labels, n_clusters, changed)
                removed, removed_weights = _batch_sums(workspace, previous, n_clusters, changed)
                sums += added - removed
                weights += added_weights - removed_weights
        sums_stale = False
        new_centers = np.empty_like(centers)
        relocated = np.zeros(run_ids.size, dtype=bool)
        for position in range(run_ids.size):
            if np.any(weights[position] == 0):
                new_centers[position] = _relocating_update(
                    X, workspace, centers[position], labels[position], nearest[position])
                relocated[position] = True
            else:
                new_centers[position] = sums[position] / weights[position][:, None]
        shift = np.sum((new_centers.astype(np.float64) - centers) ** 2, axis=(1, 2))
        # Same labels as the pass before: the update reproduced the same centres.
        fixed = (moved_rows == 0) & ~relocated
        done = fixed | (shift <= tol) | (n_iter >= max_iter)
        for position in np.flatnonzero(done):
            final = centers[position] if fixed[position] else new_centers[position]
            finished[int(run_ids[position])] = (final.copy(), int(n_iter[position]))
        # Relocation moved a row's weight without its label: recount after the next pass.
        sums_stale = bool(relocated.any())
        if not done.any():
            centers, previous, labels = new_centers, labels, previous  # swap label buffers
            continue
        keep = ~done
        run_ids, n_iter = run_ids[keep], n_iter[keep]
        centers, labels, nearest = new_centers[keep], labels[keep], nearest[keep]
        previous = labels.copy()
        sums, weights = sums[keep], weights[keep]
    results = []
    for run in range(len(centers_init)):
        final, iterations = finished[run]
        workspace.assign(final)
        results.append((final, workspace.labels.copy(), inertia_of(workspace), iterations))
    return results


def _weights_drifted(workspace: LloydWorkspace, weights: np.ndarray) -> bool:
    """Whether weights updated by differences may hide an empty cluster (weighted rows only)."""
    if workspace.unit_weights:
        return False  # counts of rows are exact in float64
    return bool(np.any(weights <= 1e-9 * weights.sum(axis=1, keepdims=True)))


def _relocating_update(
    X: np.ndarray, workspace: LloydWorkspace, centers: np.ndarray, labels: np.ndarray,
    nearest: np.ndarray,
) -> np.ndarray:
    """One run's centre update with its empty clusters moved to the farthest rows."""
    workspace.labels[:] = labels
    workspace.min_distances[:] = np.maximum(nearest, 0)
    new_centers, _ = update_centers(X, workspace, centers)
    return new_centers
