"""k-means clustering in NumPy, with scikit-learn's estimator contract."""

from __future__ import annotations

import numbers
import warnings

import numpy as np

from segmentation._kmeans_batched import kmeans_lloyd_batch
from segmentation._kmeans_bounded import kmeans_bounded_lloyd
from segmentation._kmeans_core import (
    BlockBuffers,
    LloydWorkspace,
    assign_labels,
    inertia_of,
    inertia_to_centers,
    kmeans_plusplus,
    kmeans_single_lloyd,
    row_norms_squared,
    tolerance,
)
from segmentation._kmeans_refine import hartigan_refine, ranked_swaps
from segmentation._kmeans_validation import (
    generator,
    positive_int,
    validate_data,
    validate_weights,
)

__all__ = ["ConvergenceWarning", "KMeans", "nearest_centers"]

# One k-means run: centres, labels, inertia, Lloyd iterations.
_Run = tuple[np.ndarray, np.ndarray, float, int]

# Hartigan refinement keeps an (n, k) distance matrix and costs O(n k) per move, so it is
# applied only up to this many (row, cluster) cells; larger inputs keep the Lloyd result.
_HARTIGAN_MAX_CELLS = 10_000
# From this many rows on, the restarts run on a sample of max(_SAMPLE_MIN_ROWS, n / 8) rows and
# only the _REFINED_RUNS best of them, plus any other whose sample inertia is within
# _REFINED_MARGIN (relative) of the best, are iterated on all rows.
_SAMPLED_RESTARTS_MIN_ROWS = 80_000
_SAMPLE_MIN_ROWS = 25_000
_SAMPLE_DIVISOR = 8
_REFINED_RUNS = 3
_REFINED_MARGIN = 1e-3
# Restarts whose centres all lie within this fraction of the data's total variance (squared
# distance) of another's reached the same optimum; distinct optima of the benchmark's weakly
# structured data lie 0.07 to 0.4 apart, restarts into one optimum 0.001 to 0.01.
_SAME_OPTIMUM = 1e-2
_HARTIGAN_MAX_MOVES = 10_000
# Swap search ranks (centre, point) swaps with an (n, candidates) block: small inputs only.
_SWAP_MAX_ROWS = 500
_SWAP_ROUNDS = 20
_SWAP_CANDIDATES = 500
_SWAPS_TRIED = 50
# Gains in inertia below this fraction of the data's total sum of squares are rounding noise.
_RELATIVE_GAIN_FLOOR = 1e-12


class ConvergenceWarning(UserWarning):
    """The fit found fewer distinct clusters than asked for (fewer distinct points than k)."""


def nearest_centers(X: np.ndarray, centers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of the nearest centre of each row (ties to the lower index) and its squared distance.

    The one assignment rule used by the fit, :meth:`KMeans.predict` and the segment model, so
    that every place that places a row agrees on ties.
    """
    X = np.ascontiguousarray(X)
    labels = np.empty(X.shape[0], dtype=np.intp)
    distances = np.empty(X.shape[0], dtype=X.dtype)
    buffers = BlockBuffers.allocate(X.shape[0], centers.shape[0], X.dtype)
    assign_labels(np.ascontiguousarray(X.T), centers.astype(X.dtype, copy=False),
                  row_norms_squared(X), labels, distances, buffers)
    return labels, distances


def _distinct_leaders(candidates: list[_Run], same_optimum: float) -> list[_Run]:
    """The sampled restarts worth refining on all rows, best first.

    Always the _REFINED_RUNS best, plus any other whose sample inertia is within
    _REFINED_MARGIN of the best, because on weakly structured data a sample ranks such close
    restarts differently from the full data. A restart whose every centre lies within
    squared distance ``same_optimum`` of a centre of one already chosen sits in the same
    basin and would refine to the same result: it is skipped.
    """
    margin = candidates[0][2] * (1.0 + _REFINED_MARGIN)
    leaders: list[_Run] = []
    for rank, run in enumerate(candidates):
        if rank >= _REFINED_RUNS and run[2] > margin:
            break
        if all(_farthest_match(run[0], leader[0]) > same_optimum for leader in leaders):
            leaders.append(run)
    return leaders


def _farthest_match(centers: np.ndarray, others: np.ndarray) -> float:
    """Largest squared distance from a centre to the nearest of ``others`` (k x k, small)."""
    offsets = centers.astype(np.float64)[:, None, :] - others.astype(np.float64)[None, :, :]
    return float(np.einsum("ijk,ijk->ij", offsets, offsets).min(axis=1).max())


class KMeans:
    """k-means clustering with greedy k-means++ seeding and Lloyd iterations.

    Parameters
    ----------
    n_clusters : int
        Number of clusters (centres) to find.
    n_init : int, default=10
        Number of seedings; the run with the lowest inertia is kept.
    max_iter : int, default=300
        Maximum number of Lloyd iterations per run.
    tol : float, default=1e-4
        Relative tolerance on the squared shift of the centres between two iterations.
    random_state : int, numpy.random.Generator, numpy.random.RandomState or None, default=None
        Source of the seeding's randomness. A non-negative int always produces the same
        result on the same data and dtype. A Generator is used as is and a RandomState gives
        one seed drawn from it, so both advance and repeated fits with the same object differ;
        None draws fresh entropy each time.

    Attributes
    ----------
    cluster_centers_ : ndarray of shape (n_clusters, n_features)
        Centres of the best run, in X's dtype.
    labels_ : ndarray of shape (n_samples,)
        Index of the nearest centre of each training row (matches ``cluster_centers_``).
    inertia_ : float
        Weighted sum of squared distances from each row to its centre in ``cluster_centers_``,
        computed directly in float64.
    n_iter_ : int
        Lloyd iterations of the best run on all rows (large inputs: of its final polish).

    Notes
    -----
    The contract (constructor stores parameters, ``fit`` returns ``self``, fitted state ends in
    an underscore) is scikit-learn's so the two can be swapped and compared.

    Seeding is greedy k-means++: each new centre is the best of ``2 + log(k)`` candidates drawn
    with probability proportional to the weighted squared distance, which gives markedly
    better starting points than plain k-means++ at a small cost.

    ``tol`` is multiplied by the mean of the per-feature variances because an absolute
    threshold would mean something different for data in metres and data in kilometres.

    After the last iteration the rows are assigned once more to the final centres, so that
    ``labels_`` and ``inertia_`` describe the centres that are returned rather than those of
    the iteration before.

    On small inputs (up to 10,000 row-cluster pairs) each Lloyd result is refined with
    Hartigan's single-point moves, which account for how moving a point shifts both centres
    and so escape local optima where Lloyd stops; each move strictly lowers the inertia.
    Inputs of up to 500 rows then get a swap search on every run: the (centre, point) swaps
    that would leave the lowest inertia are tried, re-converged, and kept when they improve.
    Both cost a fraction of a second there and make the result much less dependent on the
    seed: on the course data's scaled income and spending (200 rows, seeds 0-9, k = 2..10)
    the inertia is lower than scikit-learn's at the same n_init in about half of the 90
    cases and never higher; with age added it was higher once, by 0.27%.

    From 80,000 rows on, the ``n_init`` restarts (seeding and Lloyd to convergence) run on a
    random eighth of the rows (at least 25,000), and only the three best, plus any other whose
    sample inertia is within 0.1% of the best, are iterated to convergence on all rows; a
    restart whose centres all lie within 1% of the data's total variance (squared distance)
    of an already chosen one's is in the same basin and skipped. The best of those is then
    iterated until its labels no longer change, so the result is a fixed point of Lloyd's
    algorithm on all rows. Restarts differ in which local optimum they reach, and a sample of
    that size ranks clearly different ones as the full data does (on weakly structured data,
    restarts within 0.1% on the sample can swap places on all rows, hence the margin), while
    a restart's Lloyd iterations are where the time goes. The restarts run in lockstep, one
    pass over the sample serving all of them, and so does the refinement over all rows; both
    run in float32 (they only rank candidates) and update the cluster sums by the rows that
    changed cluster only. The final polish runs in X's dtype, and the returned labels,
    centres and inertia are its own; it uses Hamerly's distance bounds to skip the rows whose
    nearest centre provably did not change, since it can take a hundred iterations that each
    move few rows.

    Large inputs (80,000 rows and more) are therefore converged fully (tolerance 0 in the
    final polish), while scikit-learn stops at ``tol``; comparisons of the two at equal
    ``tol`` favour this class slightly (bench/kmeans_vs_sklearn.py also compares with
    scikit-learn at ``tol=0``).

    When X has fewer distinct rows than ``n_clusters``, some clusters end up empty and a
    :class:`ConvergenceWarning` says how many distinct clusters were found (as scikit-learn).

    A cluster that loses all its points is moved onto the point farthest from its centre: that
    point is the one the model explains worst, so the inertia can only improve.

    X is centred on its weighted mean before fitting (the mean is added back to the centres
    and subtracted again in ``predict``): the expanded distances below lose digits on data
    far from the origin, float32 above all, and centring removes that offset.

    Distances are computed block by block with ||x||^2 - 2 c.x + ||c||^2 into a preallocated
    buffer (one BLAS product per block of a feature-major copy of X), so memory stays linear
    in the number of rows (X, that copy, and a few vectors of length n) and float32 input is
    processed in float32 throughout (centre sums and inertia are accumulated in float64).
    """

    def __init__(
        self,
        n_clusters: int,
        *,
        n_init: int = 10,
        max_iter: int = 300,
        tol: float = 1e-4,
        random_state: int | np.random.Generator | None = None,
    ) -> None:
        self.n_clusters = n_clusters
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state

    def _check_parameters(self, n_samples: int) -> None:
        """Reject parameters that cannot produce a clustering of n_samples rows."""
        for name in ("n_clusters", "n_init", "max_iter"):
            positive_int(name, getattr(self, name))
        if self.n_clusters > n_samples:
            raise ValueError(f"n_samples={n_samples} should be >= n_clusters={self.n_clusters}")
        if (isinstance(self.tol, bool) or not isinstance(self.tol, numbers.Real)
                or not np.isfinite(self.tol) or self.tol < 0):
            raise ValueError(f"tol must be a finite number >= 0, got {self.tol!r}")

    def fit(self, X: object, sample_weight: object = None) -> KMeans:
        """Compute the clustering.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training rows.
        sample_weight : array-like of shape (n_samples,), optional
            Weight of each row in the centres and the inertia; ones when omitted.

        Returns
        -------
        KMeans
            The fitted estimator (``self``).
        """
        X_input = validate_data(X)
        self._check_parameters(X_input.shape[0])
        weights = validate_weights(sample_weight, X_input.shape[0], X_input.dtype)
        rng = generator(self.random_state)
        weights64 = weights.astype(np.float64)
        mean = (weights64 @ X_input.astype(np.float64)) / weights64.sum()
        X = np.ascontiguousarray(X_input - mean, dtype=X_input.dtype)
        self._min_gain = _RELATIVE_GAIN_FLOOR * float(
            weights64 @ row_norms_squared(X).astype(np.float64))
        absolute_tol = tolerance(X, self.tol)
        if X.shape[0] >= _SAMPLED_RESTARTS_MIN_ROWS:
            best = self._fit_sampled(X, weights, absolute_tol, rng)
        else:
            workspace = LloydWorkspace.allocate(X, weights, row_norms_squared(X),
                                                self.n_clusters)
            runs = self._restarts(X, weights, workspace, absolute_tol, rng)
            best = runs[0]
            if X.shape[0] <= _SWAP_MAX_ROWS:
                for run in runs:
                    searched = self._swap_search(X, weights, workspace, run, absolute_tol, rng)
                    if searched[2] < best[2]:
                        best = searched
        centers, self.labels_, _, self.n_iter_ = best
        self._mean = mean
        self._centers_centered = centers
        self.cluster_centers_ = (centers.astype(np.float64) + mean).astype(X.dtype)
        self.inertia_ = inertia_to_centers(X_input, self.cluster_centers_, self.labels_, weights)
        self.n_features_in_ = X.shape[1]
        distinct = np.unique(self.labels_[weights > 0]).size
        if distinct < self.n_clusters:
            warnings.warn(
                f"Number of distinct clusters ({distinct}) found smaller than n_clusters "
                f"({self.n_clusters}). Possibly due to duplicate points in X.",
                ConvergenceWarning, stacklevel=2,
            )
        return self

    def _restarts(
        self,
        X: np.ndarray,
        weights: np.ndarray,
        workspace: LloydWorkspace,
        absolute_tol: float,
        rng: np.random.Generator,
        batched: bool = False,
    ) -> list[_Run]:
        """``n_init`` runs of k-means++ then Lloyd (and Hartigan when small), best first.

        ``batched`` runs the Lloyd iterations of all restarts in lockstep (large inputs); the
        seedings come first either way, which draws from ``rng`` in the same order.
        """
        starts = [kmeans_plusplus(X, workspace.X_by_feature, self.n_clusters,
                                  workspace.x_squared_norms, weights, rng)
                  for _ in range(self.n_init)]
        if batched:
            runs = kmeans_lloyd_batch(X, starts, workspace, self.max_iter, absolute_tol)
        else:
            runs = []
            for centers_init in starts:
                run = kmeans_single_lloyd(X, centers_init, workspace, self.max_iter,
                                          absolute_tol)
                if (X.shape[0] * self.n_clusters <= _HARTIGAN_MAX_CELLS
                        and run[2] > self._min_gain):
                    run = self._refine(X, weights, workspace, run)
                runs.append(run)
        # Stable sort: among equal inertias the earliest run wins, as in a running minimum.
        return sorted(runs, key=lambda run: run[2])

    def _fit_sampled(
        self, X: np.ndarray, weights: np.ndarray, absolute_tol: float, rng: np.random.Generator
    ) -> _Run:
        """Restarts on a random sample of rows, then the best few refined on all rows."""
        sample_size = max(_SAMPLE_MIN_ROWS, X.shape[0] // _SAMPLE_DIVISOR)
        rows = np.sort(rng.choice(X.shape[0], size=sample_size, replace=False))
        # Restarts and refinement only rank candidates, which float32 does as well as float64
        # (relative error ~1e-7 against gaps of ~1e-5 and more between local optima) while
        # halving the memory traffic; the final polish runs in X's own dtype.
        X32 = X.astype(np.float32, copy=False)
        weights32 = weights.astype(np.float32, copy=False)
        X_sample, weights_sample = X32[rows], weights32[rows]
        sample_workspace = LloydWorkspace.allocate(
            X_sample, weights_sample, row_norms_squared(X_sample), self.n_clusters)
        candidates = self._restarts(X_sample, weights_sample, sample_workspace,
                                    absolute_tol, rng, batched=True)
        del sample_workspace
        workspace = LloydWorkspace.allocate(X32, weights32, row_norms_squared(X32),
                                            self.n_clusters)
        same_optimum = _SAME_OPTIMUM * float(np.var(X_sample, axis=0, dtype=np.float64).sum())
        leaders = [run[0] for run in _distinct_leaders(candidates, same_optimum)]
        refined = kmeans_lloyd_batch(X32, leaders, workspace, self.max_iter, absolute_tol)
        # min keeps the first of equal inertias, i.e. the better-ranked restart.
        best = min(refined, key=lambda run: run[2])
        if X.dtype != np.float32:
            del workspace, X32
            workspace = LloydWorkspace.allocate(X, weights, row_norms_squared(X),
                                                self.n_clusters)
        # The winner is iterated until its labels stop changing: a few more passes, and the
        # result no longer depends on where the tolerance happened to stop the refinement.
        # Lloyd iterations never raise the inertia, so the polished run is the result.
        return kmeans_bounded_lloyd(X, best[0].astype(X.dtype), workspace, self.max_iter, 0.0)

    def _refine(
        self,
        X: np.ndarray,
        weights: np.ndarray,
        workspace: LloydWorkspace,
        result: _Run,
    ) -> _Run:
        """Hartigan moves after Lloyd, then labels and inertia recomputed for the new centres."""
        centers, labels, _, n_iter = result
        centers, _ = hartigan_refine(X, weights, labels, centers, _HARTIGAN_MAX_MOVES,
                                     self._min_gain)
        workspace.assign(centers)
        return centers, workspace.labels.copy(), inertia_of(workspace), n_iter

    def _swap_search(
        self,
        X: np.ndarray,
        weights: np.ndarray,
        workspace: LloydWorkspace,
        best: _Run,
        absolute_tol: float,
        rng: np.random.Generator,
    ) -> _Run:
        """Move one centre at a time onto a badly explained point and re-converge; keep gains."""
        for _ in range(_SWAP_ROUNDS):
            if best[2] <= self._min_gain:
                break  # already exact (up to rounding): no swap can gain
            swaps = ranked_swaps(X, weights, best[0], _SWAP_CANDIDATES, rng)
            for _, cluster, row in swaps[:_SWAPS_TRIED]:
                trial = best[0].copy()
                trial[cluster] = X[row]
                result = kmeans_single_lloyd(X, trial, workspace, self.max_iter, absolute_tol)
                result = self._refine(X, weights, workspace, result)
                if result[2] < best[2] - self._min_gain:
                    best = result
                    break
            else:
                break
        return best

    def predict(self, X: object) -> np.ndarray:
        """Index of the nearest fitted centre for each row of X.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to place.

        Returns
        -------
        ndarray of shape (n_samples,)
            Cluster index of each row.
        """
        if not hasattr(self, "cluster_centers_"):
            raise RuntimeError("This KMeans instance is not fitted yet; call fit first")
        X = validate_data(X)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {X.shape[1]} features, the model was fitted on "
                             f"{self.n_features_in_}")
        # The same centring as in fit, so predict(X_train) reproduces labels_ exactly.
        X_centered = np.ascontiguousarray(X - self._mean, dtype=X.dtype)
        return nearest_centers(X_centered, self._centers_centered)[0]

    def fit_predict(self, X: object, sample_weight: object = None) -> np.ndarray:
        """Fit on X and return the training labels (same as ``fit(X).labels_``)."""
        return self.fit(X, sample_weight).labels_
