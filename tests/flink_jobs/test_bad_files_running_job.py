"""On the real stack: ``apply-rules`` with a bad file leaves the running job alone.

A sandboxed pipeline runs; ``python -m flink_jobs apply-rules`` is then given, one at a time, a
segment table the job's lookup would fail on (a blank last line), a rules file that does not
plan and an empty one. Each is refused with ``error: <file>: <problem>`` and exit code 2, and
afterwards the same job (same id) is still RUNNING, has not restarted, and no savepoint was
taken (apply-rules stops the job with one before it resubmits).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from flink_jobs import cli
from flink_jobs.cluster import find_running_job, latest_savepoint
from pizzario.config import Config
from tests.flink_jobs.harness import job_details, job_restarts, sandboxed, start_pipeline

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _blank_last_line(work: Path, config: Config) -> dict[str, str]:
    segments = work / "segments.csv"
    shutil.copyfile(config.paths.segments_csv, segments)
    with segments.open("a") as handle:
        handle.write("\n")
    return {"PIZZARIO_PATHS_SEGMENTS_CSV": str(segments)}


def _rules(text: str) -> Callable[[Path, Config], dict[str, str]]:
    def write(work: Path, _config: Config) -> dict[str, str]:
        rules = work / "offer_rules.sql"
        rules.write_text(text)
        return {"PIZZARIO_PATHS_OFFER_RULES_SQL": str(rules)}

    return write


BAD_FILES = {
    "segments.csv with a blank last line": (
        _blank_last_line, "segments.csv: row 202: blank line (the pipeline's reader fails on it)"
    ),
    "rules that do not plan": (
        _rules("CREATE TEMPORARY VIEW offer_decisions AS\n"
               "SELECT *, offer_kode FROM dwell_triggers_known;\n"),
        "offer_rules.sql: does not plan: From line 2, column 11 to line 2, column 20: "
        "Column 'offer_kode' not found in any table",
    ),
    "empty rules": (_rules("-- nothing yet\n"),
                    "offer_rules.sql: no SQL in the file (only comments or blank lines)"),
}  # fmt: skip


@pytest.fixture(scope="module")
def running_job(
    stack: Config, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Config, str]]:
    with sandboxed("bad-files", tmp_path_factory.mktemp("bad-files")) as config:
        yield config, start_pipeline(config)


@pytest.mark.parametrize("case", BAD_FILES, ids=list(BAD_FILES))
def test_apply_rules_with_a_bad_file_leaves_the_running_job_untouched(
    running_job: tuple[Config, str],
    case: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config, job_id = running_job
    spoil, problem = BAD_FILES[case]
    for name, value in spoil(tmp_path, config).items():
        monkeypatch.setenv(name, value)

    assert cli.main(["apply-rules"]) == 2

    first_line = capsys.readouterr().err.splitlines()[0]
    assert first_line.startswith("error: ") and first_line.endswith(problem)
    assert str(tmp_path) in first_line
    running = find_running_job(config)
    assert running is not None and running.job_id == job_id
    assert job_details(config, job_id)["state"] == "RUNNING"
    assert job_restarts(config, job_id) == 0
    assert latest_savepoint(config) is None
