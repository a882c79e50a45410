"""Figures of the segmentation as PNG bytes (matplotlib's Agg backend, reproducible bytes)."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")  # files only, no display; must precede pyplot

import matplotlib.pyplot as plt
import numpy as np

from segmentation.model import SegmentModel

__all__ = ["PLOT_NAMES", "feature_comparison_png", "k_selection_png", "profiles_png",
           "scatter_png"]

PLOT_NAMES = {
    "k_selection": "segmentation_k_selection.png",
    "scatter": "segmentation_scatter.png",
    "profiles": "segmentation_profiles.png",
    "features": "segmentation_features.png",
}
# PNG text chunks: drop matplotlib's version stamp so the bytes do not change with upgrades;
# PNGs carry no date unless asked, so reruns are byte-identical.
_PNG_METADATA: dict[str, str | None] = {"Software": None}


def _png(figure: plt.Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, metadata=_PNG_METADATA)
    plt.close(figure)
    return buffer.getvalue()


def k_selection_png(model: SegmentModel) -> bytes:
    """Elbow (WCSS), silhouette, Davies-Bouldin and Calinski-Harabasz against k."""
    ks = [s.k for s in model.k_scores]
    panels = [
        ("wcss", "WCSS (inertia, scaled units)", "elbow knee", model.knee_k),
        ("silhouette", "Silhouette (higher is better)", "chosen", model.n_segments),
        ("davies_bouldin", "Davies-Bouldin (lower is better)", "chosen", model.n_segments),
        ("calinski_harabasz", "Calinski-Harabasz (higher is better)", "chosen",
         model.n_segments),
    ]
    figure, axes = plt.subplots(2, 2, figsize=(10, 7))
    for axis, (attribute, title, marker_name, marked_k) in zip(axes.flat, panels, strict=True):
        values = [getattr(s, attribute) for s in model.k_scores]
        axis.plot(ks, values, "o-", color="tab:blue")
        if marked_k in ks:
            axis.plot(marked_k, values[ks.index(marked_k)], "s", color="tab:red",
                      markersize=10, label=f"{marker_name} k={marked_k}")
            axis.legend()
        axis.set_title(title)
        axis.set_xlabel("k (number of segments)")
        axis.set_xticks(ks)
        axis.grid(alpha=0.3)
    figure.suptitle(f"Choosing k on {', '.join(model.features)}: k={model.n_segments}")
    figure.tight_layout()
    return _png(figure)


def scatter_png(
    income: np.ndarray, spending: np.ndarray, segment_ids: np.ndarray, model: SegmentModel
) -> bytes:
    """Annual income against spending score, one colour per segment, centroids marked."""
    figure, axis = plt.subplots(figsize=(9, 6.5))
    colours = plt.get_cmap("tab10")
    for index, segment in enumerate(model.segments):
        members = segment_ids == segment.segment_id
        axis.scatter(income[members], spending[members], s=22, alpha=0.75,
                     color=colours(index % 10),
                     label=f"{segment.segment_id}: {segment.label} ({members.sum()})")
        axis.scatter(income[members].mean(), spending[members].mean(), marker="X", s=220,
                     color=colours(index % 10), edgecolor="black", linewidth=1.2)
    axis.set_xlabel("Annual income (k$)")
    axis.set_ylabel("Spending score (1-100)")
    axis.set_title("Customer segments (X = segment centre)")
    axis.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    axis.grid(alpha=0.3)
    figure.tight_layout()
    return _png(figure)


def profiles_png(profiles: dict[str, np.ndarray], model: SegmentModel) -> bytes:
    """Each segment's mean age, income and spending score, side by side."""
    columns = [("age", "Age (years)"), ("annual_income_k", "Annual income (k$)"),
               ("spending_score", "Spending score (1-100)")]
    figure, axes = plt.subplots(1, 3, figsize=(13, 4.5), sharey=True)
    positions = np.arange(model.n_segments)
    names = [f"{s.segment_id}: {s.label}" for s in model.segments]
    colours = [plt.get_cmap("tab10")(i % 10) for i in range(model.n_segments)]
    for axis, (column, title) in zip(axes, columns, strict=True):
        axis.barh(positions, profiles[column], color=colours)
        low, high = model.thresholds[column]
        axis.axvspan(low, high, color="grey", alpha=0.15, label="population's middle third")
        axis.set_title(title)
        axis.grid(axis="x", alpha=0.3)
    axes[0].set_yticks(positions, names, fontsize=8)
    axes[0].invert_yaxis()
    figure.legend(*axes[0].get_legend_handles_labels(), loc="lower center", fontsize=8,
                  frameon=False)
    figure.suptitle("Segment profiles (members' means, original units)")
    figure.tight_layout(rect=(0, 0.06, 1, 1))
    return _png(figure)


def feature_comparison_png(model: SegmentModel) -> bytes:
    """Best silhouette reached by each candidate feature set."""
    rows = model.feature_comparison
    figure, axis = plt.subplots(figsize=(8, 3.5))
    names = [" + ".join(row["features"]) for row in rows]
    values = [row["silhouette"] for row in rows]
    bars = axis.barh(np.arange(len(rows)), values, color="tab:blue")
    for bar, row in zip(bars, rows, strict=True):
        axis.text(bar.get_width() + 0.005, bar.get_y() + bar.get_height() / 2,
                  f"{row['silhouette']:.3f} at k={row['best_k']}", va="center", fontsize=9)
    axis.set_yticks(np.arange(len(rows)), names, fontsize=9)
    axis.invert_yaxis()
    axis.set_xlim(0, max(values) * 1.3)
    axis.set_xlabel("best silhouette over k")
    axis.set_title("Which features separate the customers best")
    figure.tight_layout()
    return _png(figure)
