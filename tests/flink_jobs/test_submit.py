"""Submitting checks its inputs before anything reaches the cluster."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from flink_jobs.cluster import ClusterError, submit_offers_job
from pizzario.config import load_config


def test_submitting_without_a_segmentation_names_the_missing_file_and_the_fix(
    tmp_path: Path,
) -> None:
    config = load_config()
    missing = tmp_path / "segments.csv"
    config = dataclasses.replace(
        config, paths=dataclasses.replace(config.paths, segments_csv=missing)
    )
    with pytest.raises(ClusterError, match=r"segments\.csv is missing: run `make segments`"):
        submit_offers_job(config)
