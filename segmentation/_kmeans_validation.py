"""Input checks of :class:`segmentation.kmeans.KMeans`: data, weights, parameters, seeds."""

from __future__ import annotations

import numbers

import numpy as np

__all__ = ["generator", "positive_int", "validate_data", "validate_weights"]


def validate_data(X: object) -> np.ndarray:
    """A C-contiguous 2-D float array; float32 stays float32, anything else becomes float64."""
    array = np.asarray(X)
    if array.ndim != 2:
        raise ValueError(f"X must be a 2-D array, got shape {array.shape}")
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise ValueError(f"X must have at least one row and one feature, got shape "
                         f"{array.shape}")
    dtype = np.float32 if array.dtype == np.float32 else np.float64
    array = np.ascontiguousarray(array, dtype=dtype)
    if not np.all(np.isfinite(array)):
        raise ValueError("X contains NaN or infinity")
    return array


def validate_weights(sample_weight: object, n_samples: int, dtype: np.dtype) -> np.ndarray:
    """Sample weights as a 1-D array of X's dtype; ones when omitted."""
    if sample_weight is None:
        return np.ones(n_samples, dtype=dtype)
    weights = np.ascontiguousarray(sample_weight, dtype=dtype)
    if weights.shape != (n_samples,):
        raise ValueError(f"sample_weight must have shape ({n_samples},), got {weights.shape}")
    if np.any(weights < 0) or not np.all(np.isfinite(weights)) or weights.sum() <= 0:
        raise ValueError("sample_weight must be finite, non-negative and not all zero")
    return weights


def positive_int(name: str, value: object) -> int:
    """An int >= 1 (bool is not accepted although it is an int subclass)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def generator(random_state: object) -> np.random.Generator:
    """A Generator from None, an int seed, a Generator or a legacy RandomState."""
    if isinstance(random_state, np.random.RandomState):
        # One seed drawn from the legacy generator: it advances, as in scikit-learn.
        return np.random.default_rng(random_state.randint(0, 2**31 - 1))
    if random_state is None or isinstance(random_state, np.random.Generator) or (
        isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool)
        and random_state >= 0
    ):
        return np.random.default_rng(random_state)
    raise ValueError("random_state must be None, a non-negative int, numpy.random.Generator "
                     f"or numpy.random.RandomState, got {random_state!r}")
