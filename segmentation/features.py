"""Feature matrices from customers, and the standard scaling stored with the model."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import numpy as np

from segmentation.customers import Customers

__all__ = [
    "DEFAULT_FEATURES",
    "FEATURE_CANDIDATES",
    "FEATURE_NAMES",
    "FeatureListError",
    "StandardScaling",
    "feature_matrix",
    "parse_features",
]

# gender enters as 1.0 for Female and 0.0 for Male so that it can be scaled like the others.
FEATURE_NAMES = ("gender", "age", "annual_income_k", "spending_score")
# Income and spending separate this customer base into the clearest groups (highest
# silhouette of the candidates below, see docs/segments.md); age and gender blur them.
DEFAULT_FEATURES = ("annual_income_k", "spending_score")
FEATURE_CANDIDATES: tuple[tuple[str, ...], ...] = (
    ("annual_income_k", "spending_score"),
    ("gender", "annual_income_k", "spending_score"),
    ("age", "annual_income_k", "spending_score"),
    ("gender", "age", "annual_income_k", "spending_score"),
)


class FeatureListError(argparse.ArgumentTypeError, ValueError):
    """An unknown or empty feature list (argparse shows the message as is)."""


def parse_features(text: str) -> tuple[str, ...]:
    """Feature names from a comma-separated list, in the canonical order, without repeats."""
    requested = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in requested if name not in FEATURE_NAMES]
    if unknown or not requested:
        raise FeatureListError(
            f"unknown feature(s) {', '.join(unknown) or '(none given)'}; "
            f"choose from {', '.join(FEATURE_NAMES)}"
        )
    return tuple(name for name in FEATURE_NAMES if name in requested)


def feature_matrix(customers: Customers, features: tuple[str, ...]) -> np.ndarray:
    """The (n, len(features)) float64 matrix of the chosen features in original units."""
    columns = []
    for name in features:
        if name == "gender":
            columns.append((customers.gender == "Female").astype(np.float64))
        else:
            columns.append(customers.column(name).astype(np.float64))
    return np.column_stack(columns)


@dataclass(frozen=True)
class StandardScaling:
    """Per-feature centring and scaling to unit variance, fitted on the training rows."""

    mean: np.ndarray
    scale: np.ndarray

    @classmethod
    def fit(cls, X: np.ndarray) -> StandardScaling:
        """Mean and (population) standard deviation of each column; 1 for a constant column."""
        scale = X.std(axis=0)
        return cls(mean=X.mean(axis=0), scale=np.where(scale > 0, scale, 1.0))

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Original units to scaled units."""
        return (X - self.mean) / self.scale

    def inverse_transform(self, X_scaled: np.ndarray) -> np.ndarray:
        """Scaled units back to original units."""
        return X_scaled * self.scale + self.mean

    def to_json(self) -> dict[str, list[float]]:
        """Plain lists for the model file."""
        return {"mean": self.mean.tolist(), "scale": self.scale.tolist()}

    @classmethod
    def from_json(cls, data: dict[str, list[float]]) -> StandardScaling:
        """The inverse of :meth:`to_json`."""
        return cls(mean=np.asarray(data["mean"], float), scale=np.asarray(data["scale"], float))
