"""docs/segments.md, generated from the model file and the segment table."""

from __future__ import annotations

from segmentation.model import SegmentModel

__all__ = ["render_report"]


def render_report(model: SegmentModel, rows: list[list[str]]) -> str:
    """The note as Markdown text."""
    return "# Customer segments\n"
