"""The fitted segment model: features, scaling, centroids, names, offers and how k was chosen.

Everything here is pure (no files): :func:`fit_segment_model` turns validated customers into
a :class:`SegmentModel`, which places any customer with :meth:`SegmentModel.assign`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from segmentation.customers import Customers
from segmentation.features import (
    FEATURE_CANDIDATES,
    StandardScaling,
    feature_matrix,
)
from segmentation.kmeans import KMeans, nearest_centers
from segmentation.naming import SegmentName, name_segments, tercile_thresholds
from segmentation.offers import Offer, offers_for_segments
from segmentation.selection import KChoice, KScores, choose_k, score_k_range

__all__ = [
    "DEFAULT_K_RANGE",
    "Assignment",
    "SegmentModel",
    "SegmentationInputError",
    "compare_feature_sets",
    "fit_segment_model",
]

log = logging.getLogger(__name__)

DEFAULT_K_RANGE = range(2, 11)
_PROFILE_COLUMNS = ("annual_income_k", "spending_score", "age")
_DIGITS = 10  # rounding of every float in the model file: stable bytes, exact enough


class SegmentationInputError(ValueError):
    """The customers cannot be segmented as asked (too few, or too few distinct ones)."""


def _rounded(values: np.ndarray) -> list[Any]:
    return np.round(np.asarray(values, dtype=np.float64), _DIGITS).tolist()


@dataclass(frozen=True)
class Assignment:
    """Where each customer falls: segment id and Euclidean distance in scaled units."""

    segment_id: np.ndarray
    distance_to_centroid: np.ndarray


@dataclass(frozen=True)
class SegmentModel:
    """A fitted segmentation; row i of the centroid arrays is segment_id i + 1."""

    features: tuple[str, ...]
    scaling: StandardScaling
    centroids_scaled: np.ndarray
    segments: list[SegmentName]
    offers: list[Offer]
    thresholds: dict[str, tuple[float, float]]
    seed: int
    n_init: int
    k_scores: list[KScores] = field(default_factory=list)
    k_reason: str = ""
    knee_k: int | None = None
    feature_comparison: list[dict[str, Any]] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)

    @property
    def n_segments(self) -> int:
        """Number of segments (k)."""
        return int(self.centroids_scaled.shape[0])

    @property
    def centroids_original(self) -> np.ndarray:
        """Centroids in the features' original units (k, d)."""
        return self.scaling.inverse_transform(self.centroids_scaled)

    def assign(self, customers: Customers) -> Assignment:
        """Nearest segment of each customer, and the distance to its centroid (scaled units).

        Uses the k-means assignment rule itself (ties to the lower segment id), and the fit
        counts segment sizes from this assignment, so sizes and table rows always agree.
        """
        X_scaled = self.scaling.transform(feature_matrix(customers, self.features))
        nearest, squared = nearest_centers(X_scaled, self.centroids_scaled)
        distance = np.sqrt(squared.astype(np.float64))
        return Assignment(segment_id=nearest + 1, distance_to_centroid=distance)

    def to_json(self) -> dict[str, Any]:
        """The model file's content (plain, rounded, in a fixed order)."""
        original = self.centroids_original
        return {
            "features": list(self.features),
            "scaler": {"kind": "standard", **{
                key: _rounded(value) for key, value in self.scaling.to_json().items()
            }},
            "seed": self.seed,
            "n_init": self.n_init,
            "chosen_k": self.n_segments,
            "k_reason": self.k_reason,
            "elbow_knee_k": self.knee_k,
            "level_thresholds": {
                column: _rounded(np.array(bounds)) for column, bounds in self.thresholds.items()
            },
            "segments": [
                {
                    "segment_id": name.segment_id,
                    "segment_label": name.label,
                    "income_level": name.income_level,
                    "spending_level": name.spending_level,
                    "age_level": name.age_level,
                    "size": self.sizes[index] if self.sizes else None,
                    "centroid_scaled": dict(
                        zip(self.features, _rounded(self.centroids_scaled[index]), strict=True)
                    ),
                    "centroid_original": dict(
                        zip(self.features, _rounded(original[index]), strict=True)
                    ),
                }
                for index, name in enumerate(self.segments)
            ],
            "offers": [offer.to_row() for offer in self.offers],
            "metrics_per_k": [scores.to_json() for scores in self.k_scores],
            "feature_comparison": self.feature_comparison,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SegmentModel:
        """Rebuild the model from :meth:`to_json` output (enough to assign and report)."""
        features = tuple(data["features"])
        segments = [
            SegmentName(item["segment_id"], item["segment_label"], item["income_level"],
                        item["spending_level"], item["age_level"])
            for item in data["segments"]
        ]
        return cls(
            features=features,
            scaling=StandardScaling.from_json(data["scaler"]),
            centroids_scaled=np.array(
                [[item["centroid_scaled"][f] for f in features] for item in data["segments"]]
            ),
            segments=segments,
            offers=[Offer(**row) for row in data["offers"]],
            thresholds={k: tuple(v) for k, v in data["level_thresholds"].items()},
            seed=data["seed"],
            n_init=data["n_init"],
            k_scores=[KScores(**row) for row in data["metrics_per_k"]],
            k_reason=data["k_reason"],
            knee_k=data["elbow_knee_k"],
            feature_comparison=data["feature_comparison"],
            sizes=[item["size"] for item in data["segments"]],
        )


def _distinct_rows(X: np.ndarray) -> int:
    return int(np.unique(X, axis=0).shape[0])


def _usable_k_values(k_values: range, n_distinct: int) -> range:
    """The k values below the number of distinct rows: the scores need k < distinct points."""
    return range(k_values.start, min(k_values.stop, n_distinct))


def compare_feature_sets(
    customers: Customers,
    k_values: range,
    *,
    n_init: int,
    seed: int,
    known_scores: dict[tuple[str, ...], list[KScores]] | None = None,
) -> list[dict[str, Any]]:
    """Best silhouette (and its k) of each candidate feature set, for the feature choice.

    ``known_scores`` holds k scans already made with the same k values, n_init and seed
    (the fitted model's own ``k_scores``), so that set is not scanned a second time.
    """
    known_scores = known_scores or {}
    rows = []
    for features in FEATURE_CANDIDATES:
        X = feature_matrix(customers, features)
        usable = _usable_k_values(k_values, _distinct_rows(X))
        scores = known_scores.get(tuple(features))
        if scores is None and len(usable) > 0:
            log.info("scoring k=%d..%d on %s", usable.start, usable.stop - 1,
                     ", ".join(features))
            scores = score_k_range(
                StandardScaling.fit(X).transform(X), usable, n_init=n_init, seed=seed
            )
        if not scores:
            continue  # too few distinct customers on these features to score any k
        best = max(scores, key=lambda s: (round(s.silhouette, 9), -s.k))
        rows.append({
            "features": list(features),
            "best_k": best.k,
            "silhouette": round(best.silhouette, _DIGITS),
            "davies_bouldin": round(best.davies_bouldin, _DIGITS),
            "calinski_harabasz": round(best.calinski_harabasz, _DIGITS),
        })
    return rows


def fit_segment_model(
    customers: Customers,
    features: tuple[str, ...],
    *,
    k: int | None = None,
    k_values: range = DEFAULT_K_RANGE,
    seed: int = 42,
    n_init: int = 10,
) -> tuple[SegmentModel, Assignment]:
    """Scale, choose k (unless given), cluster, name the segments and pick their offers.

    The comparison with the other feature sets is left to :func:`compare_feature_sets`
    (``feature_comparison`` stays empty here): it costs several times the fit itself.

    Returns
    -------
    SegmentModel, Assignment
        The model, and each input customer's segment and distance to its centroid.
    """
    X = feature_matrix(customers, features)
    n_distinct = _distinct_rows(X)
    if n_distinct < 3:
        raise SegmentationInputError(
            f"{len(customers)} customer(s) with {n_distinct} distinct value(s) of "
            f"{', '.join(features)}: segmenting needs at least 3 distinct customers")
    if k is not None and not 1 <= k <= n_distinct:
        raise SegmentationInputError(
            f"k={k} segments need k distinct customers; there are {n_distinct} distinct "
            f"value(s) of {', '.join(features)}")
    scaling = StandardScaling.fit(X)
    X_scaled = scaling.transform(X)
    k_values = _usable_k_values(k_values, n_distinct)
    k_scores = score_k_range(X_scaled, k_values, n_init=n_init, seed=seed)
    choice = choose_k(k_scores) if k_scores else KChoice(k or 1, "", k or 1)
    if k is not None:
        reason = f"k={k} was set with --k (automatic choice: {choice.reason})"
        choice = KChoice(k=k, reason=reason, knee_k=choice.knee_k)
    kmeans = KMeans(choice.k, n_init=n_init, random_state=seed).fit(X_scaled)
    centroids_original = scaling.inverse_transform(kmeans.cluster_centers_)
    labels = nearest_centers(X_scaled, kmeans.cluster_centers_)[0]
    profiles = {}
    for column in _PROFILE_COLUMNS:
        if column in features:
            profiles[column] = centroids_original[:, features.index(column)]
        else:
            values = customers.column(column)
            profiles[column] = np.array(
                [values[labels == c].mean() for c in range(choice.k)]
            )
    thresholds = {c: tercile_thresholds(customers.column(c)) for c in _PROFILE_COLUMNS}
    names = name_segments(profiles, thresholds, use_age="age" in features)
    order = np.argsort([name.segment_id for name in names])
    segments = [names[i] for i in order]
    model = SegmentModel(
        features=tuple(features),
        scaling=scaling,
        centroids_scaled=kmeans.cluster_centers_[order],
        segments=segments,
        offers=offers_for_segments(segments),
        thresholds=thresholds,
        seed=seed,
        n_init=n_init,
        k_scores=k_scores,
        k_reason=choice.reason,
        knee_k=choice.knee_k,
    )
    assignment = model.assign(customers)
    sizes = np.bincount(assignment.segment_id - 1, minlength=choice.k)
    return replace(model, sizes=[int(size) for size in sizes]), assignment
