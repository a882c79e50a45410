"""Choosing the number of clusters (and comparing feature sets) from quality scores."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from segmentation.kmeans import KMeans
from segmentation.metrics import (
    calinski_harabasz_score,
    davies_bouldin_score,
    silhouette_score,
)

__all__ = [
    "KChoice",
    "KScores",
    "choose_k",
    "knee_index",
    "score_k_range",
]

# Above this many rows the silhouette is computed on a seeded sample of this size.
SILHOUETTE_SAMPLE_SIZE = 5_000


@dataclass(frozen=True)
class KScores:
    """Quality of the best k-means clustering with ``k`` clusters."""

    k: int
    wcss: float
    silhouette: float
    davies_bouldin: float
    calinski_harabasz: float

    def to_json(self) -> dict[str, float]:
        """Rounded values for the model file (rounding keeps reruns byte-identical)."""
        return {name: round(value, 6) for name, value in asdict(self).items()}


@dataclass(frozen=True)
class KChoice:
    """The chosen k and the sentence that explains it."""

    k: int
    reason: str
    knee_k: int


def score_k_range(
    X_scaled: np.ndarray, k_values: range, *, n_init: int, seed: int
) -> list[KScores]:
    """Fit k-means for each k and score it (WCSS, silhouette, Davies-Bouldin, CH)."""
    scores = []
    for k in k_values:
        model = KMeans(k, n_init=n_init, random_state=seed).fit(X_scaled)
        sample = SILHOUETTE_SAMPLE_SIZE if X_scaled.shape[0] > SILHOUETTE_SAMPLE_SIZE else None
        scores.append(
            KScores(
                k=k,
                wcss=model.inertia_,
                silhouette=silhouette_score(
                    X_scaled, model.labels_, sample_size=sample, random_state=seed
                ),
                davies_bouldin=davies_bouldin_score(X_scaled, model.labels_),
                calinski_harabasz=calinski_harabasz_score(X_scaled, model.labels_),
            )
        )
    return scores


def knee_index(x: np.ndarray, y: np.ndarray) -> int:
    """Index of the knee of a decreasing convex curve (the point farthest below its chord).

    Both axes are scaled to [0, 1] first so that the answer does not depend on units; the
    knee is where adding a cluster stops paying off as much as the ones before.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.size < 3:
        return 0
    x_unit = (x - x[0]) / (x[-1] - x[0])
    span = y[0] - y[-1]
    y_unit = (y - y[-1]) / span if span > 0 else np.zeros_like(y)
    # Chord from (0, 1) to (1, 0) is y = 1 - x; distance below it is proportional to 1-x-y.
    return int(np.argmax(1.0 - x_unit - y_unit))


def choose_k(scores: list[KScores]) -> KChoice:
    """The k with the highest silhouette, with the elbow, Davies-Bouldin and CH as context.

    The silhouette decides because it measures directly what a segment needs (customers
    closer to their own segment than to the next one) and, unlike WCSS, does not improve by
    simply adding clusters; the elbow knee and the other indices are reported beside it.
    """
    ks = np.array([s.k for s in scores])
    knee_k = int(ks[knee_index(ks, np.array([s.wcss for s in scores]))])
    best = max(scores, key=lambda s: (round(s.silhouette, 9), -s.k))
    best_db = min(scores, key=lambda s: s.davies_bouldin).k
    best_ch = max(scores, key=lambda s: s.calinski_harabasz).k
    agreeing = [
        name
        for name, k in (("elbow knee", knee_k), ("Davies-Bouldin", best_db), ("CH", best_ch))
        if k == best.k
    ]
    if not agreeing:
        agreement = "; no other criterion agrees"
    elif len(agreeing) == 1:
        agreement = f"; the {agreeing[0]} agrees"
    else:
        agreement = f"; the {', '.join(agreeing[:-1])} and {agreeing[-1]} agree"
    reason = (
        f"k={best.k} has the highest silhouette ({best.silhouette:.3f}){agreement} "
        f"(elbow knee k={knee_k}, lowest Davies-Bouldin k={best_db}, highest CH k={best_ch})"
    )
    return KChoice(k=best.k, reason=reason, knee_k=knee_k)
