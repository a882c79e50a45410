"""Command line: ``python -m segmentation fit | assign | report``."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from pizzario.config import load_config
from segmentation import plots
from segmentation.customers import CustomerInputError, Customers, read_customers
from segmentation.features import DEFAULT_FEATURES, FEATURE_CANDIDATES, parse_features
from segmentation.model import (
    DEFAULT_K_RANGE,
    SegmentationInputError,
    SegmentModel,
    compare_feature_sets,
    fit_segment_model,
)
from segmentation.outputs import (
    atomic_write_bytes,
    existing_customer_ids,
    read_model,
    read_segment_rows,
    segment_rows,
    segments_csv_text,
    write_model,
    write_offers,
)
from segmentation.report import kept_section, render_report

__all__ = ["main"]

log = logging.getLogger("segmentation")
EXIT_BAD_INPUT = 2


class UsageError(Exception):
    """A problem with the command's inputs that the user must fix (exit code 2)."""


def _int_at_least(minimum: int) -> Callable[[str], int]:
    """An argparse type: an integer >= minimum, with a message naming the bound."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value
    return parse


def _parser() -> argparse.ArgumentParser:
    paths = load_config().paths
    docs = paths.repo_root / "docs"
    parser = argparse.ArgumentParser(
        prog="python -m segmentation",
        description="Segment Pizzario's customers with k-means, name the segments and "
        "choose each segment's offer for the new pizza.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    fit = commands.add_parser("fit", help="fit the segments and write every output")
    fit.add_argument("--input", type=Path, default=paths.customers_csv, help="customer CSV")
    fit.add_argument("--features", type=parse_features, default=DEFAULT_FEATURES,
                     help="comma-separated features among gender, age, annual_income_k, "
                     f"spending_score (default {','.join(DEFAULT_FEATURES)})")
    fit.add_argument("--k", type=_int_at_least(1), default=None,
                     help="number of segments (default: chosen automatically by silhouette)")
    fit.add_argument("--k-max", type=_int_at_least(2), default=DEFAULT_K_RANGE.stop - 1,
                     help="largest k tried when choosing k (default %(default)s)")
    fit.add_argument("--seed", type=int, default=42, help="random seed (default %(default)s)")
    fit.add_argument("--n-init", type=_int_at_least(1), default=10,
                     help="k-means restarts per k (default %(default)s)")
    fit.add_argument("--segments", type=Path, default=paths.segments_csv)
    fit.add_argument("--model", type=Path, default=paths.segment_model)
    fit.add_argument("--offers", type=Path, default=paths.segment_offers_csv)
    fit.add_argument("--plots-dir", type=Path, default=docs / "img")
    fit.add_argument("--report", type=Path, default=docs / "segments.md",
                     help="the Markdown note on the segments (default %(default)s)")

    assign = commands.add_parser(
        "assign", help="place new customers into the existing segments",
        description="Place new customers into the stored model's segments "
        "(segment_origin=assigned). Without --output they are appended to the segment table, "
        "which refuses customer ids it already holds; with --output they are written to "
        "their own file (same columns) and the segment table is left alone. A later fit "
        "rewrites the table from its input file only.",
    )
    assign.add_argument("--input", type=Path, required=True, help="CSV of new customers")
    assign.add_argument("--output", type=Path, default=None, help="write here instead of "
                        "appending to the segment table")
    assign.add_argument("--segments", type=Path, default=paths.segments_csv)
    assign.add_argument("--model", type=Path, default=paths.segment_model)

    report = commands.add_parser("report", help="write docs/segments.md from the fit's files")
    report.add_argument("--segments", type=Path, default=paths.segments_csv)
    report.add_argument("--model", type=Path, default=paths.segment_model)
    report.add_argument("--output", type=Path, default=docs / "segments.md")
    return parser


def _cluster_table(model: SegmentModel) -> str:
    """The fitted segments as a readable text table (original units)."""
    header = ["segment", "label", *model.features, "customers", "offer"]
    rows = [
        [str(seg.segment_id), seg.label,
         *[f"{value:.1f}" for value in model.centroids_original[index]],
         str(model.sizes[index]), model.offers[index].offer_code]
        for index, seg in enumerate(model.segments)
    ]
    return _text_table(header, rows)


def _text_table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
             for row in [header, *rows]]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(line.rstrip() for line in lines)


def _metrics_table(model: SegmentModel) -> str:
    rows = [[str(s.k), f"{s.wcss:.2f}", f"{s.silhouette:.3f}", f"{s.davies_bouldin:.3f}",
             f"{s.calinski_harabasz:.1f}"] for s in model.k_scores]
    return _text_table(["k", "WCSS", "silhouette", "Davies-Bouldin", "Calinski-Harabasz"], rows)


def _profiles(customers: Customers, segment_ids: np.ndarray, model: SegmentModel
              ) -> dict[str, np.ndarray]:
    """Members' mean age, income and spending per segment (in segment_id order)."""
    return {
        column: np.array([customers.column(column)[segment_ids == s.segment_id].mean()
                          for s in model.segments])
        for column in ("age", "annual_income_k", "spending_score")
    }


def _fit(args: argparse.Namespace) -> None:
    customers = read_customers(args.input)
    if args.k is not None and not 1 <= args.k <= len(customers):
        raise UsageError(f"--k must be between 1 and {len(customers)}, got {args.k}")
    log.info("fitting %d customers on %s; scoring k=2..%d here and on %d candidate feature "
             "sets", len(customers), ", ".join(args.features), args.k_max,
             len(FEATURE_CANDIDATES))
    k_values = range(2, args.k_max + 1)
    model, assignment = fit_segment_model(
        customers, args.features, k=args.k, k_values=k_values,
        seed=args.seed, n_init=args.n_init,
    )
    comparison = compare_feature_sets(customers, k_values, n_init=args.n_init, seed=args.seed,
                                      known_scores={model.features: model.k_scores})
    model = replace(model, feature_comparison=comparison)
    print("Quality of k-means by number of segments (scaled features):")
    print(_metrics_table(model))
    print(f"\nChosen: {model.k_reason}\n")
    print(_cluster_table(model))
    # Everything is rendered in memory first so that nothing is written if a step fails.
    rows = segment_rows(customers, assignment, model, "created")
    segments_text = segments_csv_text(rows)
    report = render_report(model, rows, _previous_benchmark(args.report))
    profiles = _profiles(customers, assignment.segment_id, model)
    figures = {
        plots.PLOT_NAMES["k_selection"]: plots.k_selection_png(model),
        plots.PLOT_NAMES["scatter"]: plots.scatter_png(
            customers.annual_income_k, customers.spending_score, assignment.segment_id, model),
        plots.PLOT_NAMES["profiles"]: plots.profiles_png(profiles, model),
        plots.PLOT_NAMES["features"]: plots.feature_comparison_png(model),
    }
    atomic_write_bytes(args.segments, segments_text.encode("utf-8"))
    write_model(args.model, model)
    write_offers(args.offers, model.offers)
    for name, content in figures.items():
        atomic_write_bytes(args.plots_dir / name, content)
    atomic_write_bytes(args.report, report.encode("utf-8"))
    print(f"\nwrote {args.segments}, {args.model}, {args.offers}, {args.report} and "
          f"{len(figures)} plots in {args.plots_dir}")


def _previous_benchmark(report: Path) -> str:
    """The benchmark section of the report being replaced (measured by hand, kept)."""
    if not report.exists():
        return ""
    return kept_section(report.read_text(encoding="utf-8"))


def _load_model(path: Path) -> SegmentModel:
    if not path.exists():
        raise UsageError(f"{path}: no segment model; run `python -m segmentation fit` first")
    try:
        return read_model(path)
    except (ValueError, KeyError, TypeError, AttributeError) as error:  # JSON errors too
        raise UsageError(f"{path}: not a readable segment model ({type(error).__name__}: "
                         f"{error}); run `python -m segmentation fit` again") from None


def _load_segment_rows(path: Path) -> list[list[str]]:
    try:
        return read_segment_rows(path)
    except (ValueError, UnicodeDecodeError) as error:
        raise UsageError(str(error)) from None


def _assign(args: argparse.Namespace) -> None:
    model = _load_model(args.model)
    customers = read_customers(args.input)
    assignment = model.assign(customers)
    new_rows = segment_rows(customers, assignment, model, "assigned")
    if args.output is not None:
        atomic_write_bytes(args.output, segments_csv_text(new_rows).encode("utf-8"))
        target = args.output
    else:
        existing = _load_segment_rows(args.segments)
        clashes = sorted(existing_customer_ids(existing) & set(customers.customer_id.tolist()))
        if clashes:
            shown = ", ".join(map(str, clashes[:10])) + (" ..." if len(clashes) > 10 else "")
            raise UsageError(f"{args.input}: customer id(s) already in {args.segments}: "
                             f"{shown}; nothing was written")
        atomic_write_bytes(args.segments,
                           segments_csv_text(existing + new_rows).encode("utf-8"))
        target = args.segments
    counts = np.bincount(assignment.segment_id, minlength=model.n_segments + 1)[1:]
    rows = [[str(s.segment_id), s.label, str(counts[i])] for i, s in enumerate(model.segments)]
    print(_text_table(["segment", "label", "new customers"], rows))
    print(f"\nwrote {len(customers)} assigned customers to {target}")


def _report(args: argparse.Namespace) -> None:
    model = _load_model(args.model)
    rows = _load_segment_rows(args.segments)
    text = render_report(model, rows, _previous_benchmark(args.output))
    atomic_write_bytes(args.output, text.encode("utf-8"))
    print(f"wrote {args.output}")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code (2 for bad input)."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    command = {"fit": _fit, "assign": _assign, "report": _report}[args.command]
    try:
        command(args)
    except (CustomerInputError, SegmentationInputError, UsageError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    return 0
