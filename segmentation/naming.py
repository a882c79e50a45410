"""Segment ids and names from where each centroid sits, never from the cluster number."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

__all__ = ["LEVELS", "SegmentName", "level_of", "name_segments", "tercile_thresholds"]

LEVELS = ("low", "average", "high")
_AGE_WORDS = {"low": "young", "average": "middle-aged", "high": "older"}
# Columns that order the segments (segment_id 1 = lowest income, then lowest spending...).
_ORDER_COLUMNS = ("annual_income_k", "spending_score", "age")


@dataclass(frozen=True)
class SegmentName:
    """Identity of one segment: its id, its label and the levels the label is made of."""

    segment_id: int
    label: str
    income_level: str
    spending_level: str
    age_level: str | None


def tercile_thresholds(values: np.ndarray) -> tuple[float, float]:
    """The population's 1/3 and 2/3 quantiles: below the first is low, above the second high."""
    low, high = np.quantile(np.asarray(values, dtype=np.float64), [1 / 3, 2 / 3])
    return float(low), float(high)


def level_of(value: float, thresholds: tuple[float, float]) -> str:
    """``low``, ``average`` or ``high`` relative to the population's terciles."""
    if value < thresholds[0]:
        return "low"
    if value > thresholds[1]:
        return "high"
    return "average"


def name_segments(
    profiles: dict[str, np.ndarray],
    thresholds: dict[str, tuple[float, float]],
    *,
    use_age: bool,
) -> list[SegmentName]:
    """Name k clusters from their profiles in original units.

    Parameters
    ----------
    profiles : dict
        ``annual_income_k``, ``spending_score`` and ``age`` -> array of k values: the centroid
        coordinate for a clustering feature, the members' mean for any other column.
    thresholds : dict
        The population's tercile thresholds for the same columns.
    use_age : bool
        Whether age is a clustering feature (then its band is part of the label).

    Returns
    -------
    list of SegmentName
        One per cluster, in the clusters' order. ``segment_id`` runs from 1 by increasing
        income, then spending, then age, so that the same data gives the same ids and names
        whatever order the clustering returned its clusters in.
    """
    n_clusters = len(profiles["annual_income_k"])
    order = np.lexsort(tuple(profiles[column] for column in reversed(_ORDER_COLUMNS)))
    segment_ids = np.empty(n_clusters, dtype=int)
    segment_ids[order] = np.arange(1, n_clusters + 1)
    names = []
    for cluster in range(n_clusters):
        income = level_of(profiles["annual_income_k"][cluster], thresholds["annual_income_k"])
        spending = level_of(profiles["spending_score"][cluster], thresholds["spending_score"])
        age = level_of(profiles["age"][cluster], thresholds["age"]) if use_age else None
        words = [f"{income}-income", f"{spending}-spending"]
        if age is not None:
            words.insert(0, _AGE_WORDS[age])
        names.append(
            SegmentName(int(segment_ids[cluster]), " ".join(words), income, spending, age)
        )
    return _disambiguate(names)


def _disambiguate(names: list[SegmentName]) -> list[SegmentName]:
    """Suffix repeated labels with ``#2``, ``#3``... in segment_id order, keeping them unique."""
    counts = Counter(name.label for name in names)
    seen: Counter[str] = Counter()
    renamed = {}
    for name in sorted(names, key=lambda item: item.segment_id):
        if counts[name.label] > 1:
            seen[name.label] += 1
            renamed[name.segment_id] = f"{name.label} #{seen[name.label]}"
    return [
        SegmentName(n.segment_id, renamed.get(n.segment_id, n.label), n.income_level,
                    n.spending_level, n.age_level)
        for n in names
    ]
