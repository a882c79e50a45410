"""Customer segmentation for Pizzario: our own NumPy k-means, segment names and offers.

Run it as ``python -m segmentation fit | assign | report``; the pieces are importable:
:class:`KMeans` (scikit-learn's contract), the customer reader, the pure model fit and the
quality scores.
"""

from __future__ import annotations

from segmentation.customers import CustomerInputError, Customers, read_customers
from segmentation.kmeans import ConvergenceWarning, KMeans
from segmentation.metrics import (
    calinski_harabasz_score,
    davies_bouldin_score,
    silhouette_score,
)
from segmentation.model import SegmentModel, fit_segment_model
from segmentation.offers import Offer, offer_for
from segmentation.outputs import SEGMENT_COLUMNS

__all__ = [
    "SEGMENT_COLUMNS",
    "ConvergenceWarning",
    "CustomerInputError",
    "Customers",
    "KMeans",
    "Offer",
    "SegmentModel",
    "calinski_harabasz_score",
    "davies_bouldin_score",
    "fit_segment_model",
    "offer_for",
    "read_customers",
    "silhouette_score",
]
