"""The project's own table formats and file scheme (flink_jobs/java), on a local mini cluster:
what the archive's 'pizzario-json-lines' writes, the errors both formats give for a table they
cannot serve, and the buffered file scheme's commits. The ping format's handling of records
is covered by test_validation.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def _table_env():  # type: ignore[no-untyped-def]
    from pyflink.table import EnvironmentSettings, TableEnvironment

    return TableEnvironment.create(EnvironmentSettings.in_batch_mode())


def test_json_lines_writes_values_that_read_back_exactly(tmp_path: Path) -> None:
    t_env = _table_env()
    t_env.execute_sql(f"""
        CREATE TABLE written (
            name STRING, n BIGINT, small INT, x DOUBLE, flag BOOLEAN
        ) WITH (
            'connector' = 'filesystem', 'path' = '{tmp_path / "out"}',
            'format' = 'pizzario-json-lines'
        )""")
    t_env.execute_sql("""
        INSERT INTO written VALUES
            ('plain', 1, 1, 0.1E0, TRUE),
            ('quote " backslash \\ tab' || CHR(9) || 'end', -9223372036854775807, -7,
             1.0E-300, FALSE),
            ('téléphone ☎', 9223372036854775807, 2147483647, 12.9969856E0, CAST(NULL AS BOOLEAN)),
            (CAST(NULL AS STRING), CAST(NULL AS BIGINT), CAST(NULL AS INT), -0.0E0, TRUE)
        """).wait()

    lines = [
        line
        for part in sorted((tmp_path / "out").rglob("*"))
        if part.is_file() and not part.name.startswith(".")
        for line in part.read_text(encoding="utf-8").splitlines()
    ]
    rows = sorted((json.loads(line) for line in lines), key=lambda row: str(row["name"]))
    assert rows == sorted(
        [
            {"name": "plain", "n": 1, "small": 1, "x": 0.1, "flag": True},
            {"name": 'quote " backslash \\ tab\tend', "n": -(2**63) + 1, "small": -7,
             "x": 1e-300, "flag": False},
            {"name": "téléphone ☎", "n": 2**63 - 1, "small": 2**31 - 1, "x": 12.9969856,
             "flag": None},
            {"name": None, "n": None, "small": None, "x": -0.0, "flag": True},
        ],
        key=lambda row: str(row["name"]),
    )  # fmt: skip


def test_json_lines_refuses_a_column_type_it_does_not_write(tmp_path: Path) -> None:
    t_env = _table_env()
    t_env.execute_sql(f"""
        CREATE TABLE written (price DECIMAL(10, 2)) WITH (
            'connector' = 'filesystem', 'path' = '{tmp_path / "out"}',
            'format' = 'pizzario-json-lines'
        )""")
    with pytest.raises(Exception, match="column 'price' is DECIMAL"):
        t_env.execute_sql("INSERT INTO written VALUES (1.50)").wait()


def test_the_ping_format_names_a_column_it_cannot_fill(tmp_path: Path) -> None:
    (tmp_path / "pings.jsonl").write_text("{}\n")
    t_env = _table_env()
    t_env.execute_sql(f"""
        CREATE TABLE pings (event_id STRING, battery_pct INT) WITH (
            'connector' = 'filesystem', 'path' = '{tmp_path / "pings.jsonl"}',
            'format' = 'pizzario-ping',
            'pizzario-ping.min-latitude' = '0', 'pizzario-ping.max-latitude' = '1',
            'pizzario-ping.min-longitude' = '0', 'pizzario-ping.max-longitude' = '1',
            'pizzario-ping.max-past-skew' = '1 d', 'pizzario-ping.max-future-skew' = '5 min'
        )""")
    with pytest.raises(Exception, match="cannot fill column 'battery_pct'"):
        t_env.execute_sql("SELECT * FROM pings").wait()


def test_the_buffered_file_scheme_commits_every_row_exactly_once(tmp_path: Path) -> None:
    """The archive's scheme buffers the streaming file sink's writes; checkpoints (every 200 ms
    here) and the final commit must still cover every row, across many buffer drains."""
    from pyflink.table import EnvironmentSettings, TableEnvironment

    from flink_jobs.connectors import ARCHIVE_SCHEME

    rows = 20_000
    t_env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    t_env.get_config().set("execution.checkpointing.interval", "200 ms")
    t_env.get_config().set("parallelism.default", "2")
    t_env.execute_sql(f"""
        CREATE TABLE generated (id BIGINT, filler STRING) WITH (
            'connector' = 'datagen', 'number-of-rows' = '{rows}', 'rows-per-second' = '20000',
            'fields.id.kind' = 'sequence', 'fields.id.start' = '1', 'fields.id.end' = '{rows}',
            'fields.filler.length' = '40'
        )""")
    t_env.execute_sql(f"""
        CREATE TABLE written (id BIGINT, filler STRING) WITH (
            'connector' = 'filesystem', 'path' = '{ARCHIVE_SCHEME}://{tmp_path / "out"}',
            'format' = 'pizzario-json-lines'
        )""")
    t_env.execute_sql("INSERT INTO written SELECT id, filler FROM generated").wait()

    committed = [
        part for part in (tmp_path / "out").rglob("*") if part.is_file()
        and not part.name.startswith(".")
    ]  # fmt: skip
    ids = [
        json.loads(line)["id"]
        for part in committed
        for line in part.read_text(encoding="utf-8").splitlines()
    ]
    assert sorted(ids) == list(range(1, rows + 1))
    # many times the 64 KiB buffer, so it drained mid-file as well as at checkpoints
    assert sum(part.stat().st_size for part in committed) > 10 * 64 * 1024
