"""docs/segments.md, generated from the model file and the segment table (deterministic)."""

from __future__ import annotations

from segmentation.model import SegmentModel
from segmentation.outputs import SEGMENT_COLUMNS, members_sample
from segmentation.plots import PLOT_NAMES

__all__ = ["BENCHMARK_HEADING", "kept_section", "render_report"]

# The hand-measured section that a regenerated report keeps (see kept_section).
BENCHMARK_HEADING = "## Benchmark"

_SAMPLE_PER_SEGMENT = 3
_UNITS = {"gender": "share female", "age": "years", "annual_income_k": "k$",
          "spending_score": "1-100"}


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _image(kind: str, alt: str) -> str:
    return f"![{alt}](img/{PLOT_NAMES[kind]})"


def _naming_section(model: SegmentModel) -> list[str]:
    bounds = model.thresholds
    lines = [
        "## How segments are named",
        "",
        "A label says where the segment's centre sits in the population, in original units, "
        "never which cluster number k-means happened to give it:",
        "",
        f"- **income**: `low` below the population's first tercile "
        f"({bounds['annual_income_k'][0]:.1f} k$), `high` above the second "
        f"({bounds['annual_income_k'][1]:.1f} k$), `average` between;",
        f"- **spending**: the same with the spending score's terciles "
        f"({bounds['spending_score'][0]:.1f} and {bounds['spending_score'][1]:.1f});",
        f"- **age** (only when age is a clustering feature): `young`, `middle-aged`, `older` "
        f"by the age terciles ({bounds['age'][0]:.1f} and {bounds['age'][1]:.1f} years).",
        "",
        "The label is `<income>-income <spending>-spending` (preceded by the age band when "
        "age is used); if two segments would share a label the later ones get `#2`, `#3`. "
        "`segment_id` numbers the segments by centre income, then spending, then age, so a "
        "rerun, or the same data with its clusters found in another order, gives the same "
        "ids and labels.",
        "",
    ]
    return lines


def _verdict(best: list[str], used: tuple[str, ...]) -> str:
    """Why the features in use were used, given the best-scoring candidate set."""
    if tuple(best) == used:
        return ("that is why these segments use it; the extra features make the groups "
                "overlap more instead of revealing new ones.")
    return f"these segments use {', '.join(used)} because they were requested with --features."


def _gender_sentence(rows: list[list[str]]) -> str:
    """How evenly women are spread over the segments (from the segment table)."""
    by_segment: dict[str, list[bool]] = {}
    for row in rows:
        by_segment.setdefault(row[5], []).append(row[1] == "Female")
    shares = [100 * sum(flags) / len(flags) for flags in by_segment.values()]
    overall = 100 * sum(row[1] == "Female" for row in rows) / len(rows)
    return (f"Women make up {min(shares):.0f}% to {max(shares):.0f}% of the segments "
            f"({overall:.0f}% overall).")


def _feature_section(model: SegmentModel, rows: list[list[str]]) -> list[str]:
    comparison = [[" + ".join(row["features"]), str(row["best_k"]), f"{row['silhouette']:.3f}",
             f"{row['davies_bouldin']:.3f}", f"{row['calinski_harabasz']:.1f}"]
            for row in model.feature_comparison]
    best = max(model.feature_comparison, key=lambda row: row["silhouette"])
    runner_up = max((row["silhouette"] for row in model.feature_comparison if row is not best),
                    default=float("nan"))
    lines = [
        "## Feature choice",
        "",
        f"Features used: **{', '.join(model.features)}**, each standard-scaled (mean 0, "
        "variance 1, the scaler is stored in the model) so that no unit dominates the "
        "distances. Each candidate set was clustered for every k and scored at its best k:",
        "",
        *_table(["features", "best k", "silhouette", "Davies-Bouldin", "Calinski-Harabasz"],
                comparison),
        "",
        f"{' + '.join(best['features'])} separates the customers best (silhouette "
        f"{best['silhouette']:.3f} against at most "
        f"{runner_up:.3f}): "
        f"{_verdict(best['features'], model.features)} {_gender_sentence(rows)} "
        "Other sets can be chosen with `--features`.",
        "",
        _image("features", "best silhouette per feature set"),
        "",
    ]
    return lines


def _k_section(model: SegmentModel) -> list[str]:
    rows = [[str(s.k), f"{s.wcss:.2f}", f"{s.silhouette:.3f}", f"{s.davies_bouldin:.3f}",
             f"{s.calinski_harabasz:.1f}"] for s in model.k_scores]
    return [
        "## Choice of k",
        "",
        "k-means was fitted for each k (10 restarts, seed "
        f"{model.seed}) and scored with the within-cluster sum of squares (elbow, knee found "
        "as the point farthest below the chord of the normalised curve), the silhouette, the "
        "Davies-Bouldin index (lower is better) and the Calinski-Harabasz index:",
        "",
        *_table(["k", "WCSS", "silhouette", "Davies-Bouldin", "Calinski-Harabasz"], rows),
        "",
        f"Decision: {model.k_reason}. The silhouette decides because it measures what a "
        "segment must be (customers nearer their own segment than the next one) and, unlike "
        "WCSS and Calinski-Harabasz, does not keep improving as clusters are added; "
        "`--k` overrides the choice.",
        "",
        _image("k_selection", "WCSS, silhouette, Davies-Bouldin and Calinski-Harabasz by k"),
        "",
    ]


def _segment_section(model: SegmentModel) -> list[str]:
    total = sum(model.sizes)
    header = ["segment_id", "label", *[f"{f} ({_UNITS[f]})" for f in model.features],
              "customers", "share"]
    rows = [
        [str(seg.segment_id), seg.label,
         *[f"{value:.1f}" for value in model.centroids_original[index]],
         str(model.sizes[index]), f"{100 * model.sizes[index] / total:.0f}%"]
        for index, seg in enumerate(model.segments)
    ]
    return [
        "## Segments",
        "",
        "Centres in original units and sizes (customers the model was fitted on):",
        "",
        *_table(header, rows),
        "",
        _image("scatter", "customers by income and spending, coloured by segment"),
        "",
        _image("profiles", "mean age, income and spending of each segment"),
        "",
    ]


def _offer_section(model: SegmentModel) -> list[str]:
    rows = [[str(o.segment_id), o.segment_label, f"`{o.offer_code}`", f"{o.discount_pct}%",
             o.message, o.rationale] for o in model.offers]
    return [
        "## Offers for the new pizza",
        "",
        "The offer follows from the segment's position alone (`segmentation.offers.offer_for`)"
        ": high income and high spending get the premium bundle with a small discount; high "
        "income but low spending a quality message with a tasting slice; low income but high "
        "spending a value combo with loyalty stamps; low income and low spending the deepest "
        "discount; a segment with an average income or spending the standard launch offer. "
        "The table is written to `data/segment_offers.csv`; the Flink job looks each "
        "customer's segment and its offer up there and hands the offer to "
        "`sql/offer_rules.sql` as the default.",
        "",
        *_table(["segment_id", "label", "offer_code", "discount", "message", "rationale"],
                rows),
        "",
    ]


def _sample_section(rows: list[list[str]]) -> list[str]:
    lines = [
        "## A few customers of each segment",
        "",
        f"The first {_SAMPLE_PER_SEGMENT} rows of each segment in `data/segments.csv` "
        "(`distance_to_centroid` is in scaled units):",
        "",
    ]
    sample = [row for bucket in members_sample(rows, _SAMPLE_PER_SEGMENT).values()
              for row in bucket]
    return [*lines, *_table(list(SEGMENT_COLUMNS), sample), ""]


def kept_section(previous_report: str, heading: str = BENCHMARK_HEADING) -> str:
    """The section of an earlier report that starts with ``heading`` (to its end), or "".

    The benchmark figures are measured by hand (bench/kmeans_vs_sklearn.py), not by the
    fit, so a regenerated report carries them over from the previous one.
    """
    lines = previous_report.splitlines()
    starts = [index for index, line in enumerate(lines) if line.startswith(heading)]
    if not starts:
        return ""
    section = [lines[starts[0]]]
    for line in lines[starts[0] + 1:]:
        if line.startswith("## "):
            break
        section.append(line)
    return "\n".join(section).rstrip("\n") + "\n"


def render_report(model: SegmentModel, rows: list[list[str]], kept: str = "") -> str:
    """The note as Markdown text.

    Parameters
    ----------
    model : SegmentModel
        The fitted model (as read from data/segment_model.json).
    rows : list of list of str
        The rows of data/segments.csv.
    kept : str, optional
        A section carried over from the previous report (see :func:`kept_section`),
        appended at the end.

    Returns
    -------
    str
        Markdown; the same inputs always give the same text.
    """
    lines = [
        "# Customer segments",
        "",
        "Generated by `python -m segmentation fit` with the files it writes "
        "(`python -m segmentation report` regenerates it from `data/segment_model.json` and "
        "`data/segments.csv`); the seed is fixed, so reruns give identical files. Customers "
        "are clustered with the project's own NumPy k-means (`segmentation.kmeans.KMeans`).",
        "",
        *_feature_section(model, rows),
        *_k_section(model),
        *_segment_section(model),
        *_naming_section(model),
        *_offer_section(model),
        *_sample_section(rows),
        "## New customers",
        "",
        "`python -m segmentation assign --input NEW.csv` validates the file like `fit`, "
        "places each customer in the nearest stored centre (same features and scaler) with "
        "`segment_origin=assigned`, and appends them to `data/segments.csv`; it refuses "
        "customer ids already in the table and then writes nothing. With `--output FILE` the "
        "assigned rows go to FILE instead and the table is left alone. A new `fit` rewrites "
        "the table from its input file only, so customers worth keeping belong in that file.",
        "",
    ]
    if kept:
        lines += [kept.rstrip("\n"), ""]
    return "\n".join(lines)
