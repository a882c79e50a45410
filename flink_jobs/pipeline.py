"""The pipeline's two jobs as rendered SQL statements, and how a TableEnvironment runs them.

The offer job (the stages of sql/) writes its results to Kafka; the indexer job copies them
from Kafka into Elasticsearch (sql/indexer.sql).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from flink_jobs.connectors import indexer_connectors
from flink_jobs.inputs import load_opt_outs
from flink_jobs.params import SinkAndSourceOptions, pipeline_params, with_options
from flink_jobs.rendering import Statement, load_statements
from pizzario.config import Config
from simulator.mall import Mall, load_mall

if TYPE_CHECKING:  # pyflink is heavy; only the job entry points import it for real
    from pyflink.table import StatementSet, TableEnvironment

__all__ = [
    "INDEXER_FILES",
    "INDEXER_PARALLELISM",
    "RULES_PLACE",
    "STAGE_FILES",
    "apply_statements",
    "indexer_job_name",
    "indexer_settings",
    "indexer_statements",
    "job_settings",
    "pipeline_statements",
    "stage_paths",
]

# The stages in the order they are planned; the editable offer rules come between the customer
# join and the frequency cap.
STAGE_FILES = (
    "00_result_topics.sql",
    "10_ingest_pings.sql",
    "20_validate_pings.sql",
    "30_enrich_pings.sql",
    "40_dedupe_pings.sql",
    "50_archive_pings.sql",
    "60_footfall.sql",
    "70_visits.sql",
    "80_dwell_trigger.sql",
    "90_known_customers.sql",
    "95_offers.sql",
)
RULES_PLACE = STAGE_FILES.index("95_offers.sql")
# The indexer declares the result topics as the offer job does, then its indices.
INDEXER_FILES = ("00_result_topics.sql", "indexer.sql")
# A few thousand records an evening: one task reads the three topics and writes the indices.
INDEXER_PARALLELISM = 1


def stage_paths(sql_dir: Path, rules_sql: Path) -> list[Path]:
    """The stage files with the rules file in its place."""
    paths = [sql_dir / name for name in STAGE_FILES]
    paths.insert(RULES_PLACE, rules_sql)
    return paths


def _running_settings(config: Config) -> dict[str, str]:
    """Checkpoints and restarts, the same for both jobs."""
    flink, pipeline = config.flink, config.pipeline
    return {
        # The offers reach Kafka in transactions committed on checkpoints, and the indexer
        # commits its read position on them, so the interval is part of both jobs' latency.
        "execution.checkpointing.interval": f"{flink.checkpoint_interval_ms} ms",
        "execution.checkpointing.mode": "EXACTLY_ONCE",
        # Unbounded attempts: a fixed number of them gave up on a TaskManager that took longer
        # to come back than the attempts lasted, and every offer after that was lost. The
        # indexer restarts the same way while Elasticsearch is away.
        "restart-strategy.type": "exponential-delay",
        "restart-strategy.exponential-delay.initial-backoff": (
            f"{pipeline.restart_initial_delay_s} s"
        ),
        "restart-strategy.exponential-delay.max-backoff": f"{pipeline.restart_max_delay_s} s",
        "restart-strategy.exponential-delay.attempts-before-reset-backoff": str(2**31 - 1),
    }


def job_settings(config: Config, time_zone: str) -> dict[str, str]:
    """Flink settings of the offer job: checkpoints, restarts, state lifetime, watermarks, zone.

    Parameters
    ----------
    config : Config
        The flink, offers, pipeline and paths sections are used.
    time_zone : str
        IANA zone of the mall; days (for the cap) and hours (for the rules) are local.
    """
    flink, offers, pipeline = config.flink, config.offers, config.pipeline
    return {
        "pipeline.name": pipeline.job_name,
        "parallelism.default": str(flink.parallelism),
        **_running_settings(config),
        "execution.checkpointing.externalized-checkpoint-retention": "RETAIN_ON_CANCELLATION",
        # Bounds the dedupe, cap, OVER and join state; the cap needs it to outlast a day.
        "table.exec.state.ttl": f"{pipeline.state_ttl_h} h",
        "table.exec.source.idle-timeout": f"{offers.source_idle_timeout_s} s",
        "table.local-time-zone": time_zone,
        # Views used by several sinks are otherwise planned once per sink, with the column
        # pruning of each: two ping dedupes and two frequency caps. Sharing blocks by digest
        # plans each of them once.
        "table.optimizer.reuse-optimize-block-with-digest-enabled": "true",
        # Without it, every hand-over between chained operators copies the row field by field
        # (a quarter of the dedupe task's time). Safe here: every operator that keeps rows in
        # state (OVER and window operators) starts a task and reads them fresh off the network,
        # and the sinks encode each row as they receive it.
        "pipeline.object-reuse": "true",
    }


def indexer_job_name(config: Config) -> str:
    """The indexer's job name: the offer job's with ``-indexer`` (a sandbox's too)."""
    return f"{config.pipeline.job_name}-indexer"


def indexer_settings(config: Config) -> dict[str, str]:
    """Flink settings of the indexer job.

    Notes
    -----
    Its only state is its read position, which the Kafka source also commits to the
    indexer's consumer group on every completed checkpoint; a fresh job continues from there.
    So a cancelled indexer keeps no checkpoint, and ``stop`` needs no savepoint of it.
    """
    return {
        "pipeline.name": indexer_job_name(config),
        "parallelism.default": str(INDEXER_PARALLELISM),
        **_running_settings(config),
        "execution.checkpointing.externalized-checkpoint-retention": "DELETE_ON_CANCELLATION",
    }


def indexer_statements(config: Config) -> list[Statement]:
    """Render the indexer job: the result topics as sources, the indices as sinks."""
    params = {name: with_options(options) for name, options in indexer_connectors(config).items()}
    return load_statements([config.paths.sql_dir / name for name in INDEXER_FILES], params)


def pipeline_statements(
    config: Config,
    connectors: SinkAndSourceOptions,
    *,
    rules_sql: Path | None = None,
    mall: Mall | None = None,
    opted_out_customer_ids: Iterable[int] | None = None,
) -> list[Statement]:
    """Render every stage of the pipeline.

    Parameters
    ----------
    config : Config
        Thresholds and paths.
    connectors : SinkAndSourceOptions
        Where pings come from and results go.
    rules_sql : Path, optional
        The offer rules; ``config.paths.offer_rules_sql`` when omitted.
    mall : Mall, optional
        The layout; read from ``config.paths.mall_json`` when omitted.
    opted_out_customer_ids : iterable of int, optional
        Read from ``config.paths.opt_outs_csv`` when omitted.
    """
    mall = mall if mall is not None else load_mall(config.paths.mall_json)
    if opted_out_customer_ids is None:
        opted_out_customer_ids = load_opt_outs(config.paths.opt_outs_csv)
    params = pipeline_params(
        connectors=connectors,
        mall=mall,
        offers=config.offers,
        clock=config.clock,
        opted_out_customer_ids=opted_out_customer_ids,
    )
    paths = stage_paths(config.paths.sql_dir, rules_sql or config.paths.offer_rules_sql)
    return load_statements(paths, params)


def apply_statements(
    t_env: TableEnvironment, statements: Sequence[Statement], settings: Mapping[str, str]
) -> StatementSet:
    """Apply settings, run the DDL and views, and collect every INSERT in one statement set."""
    table_config = t_env.get_config()
    for key, value in settings.items():
        table_config.set(key, value)
    statement_set = t_env.create_statement_set()
    for statement in statements:
        if statement.is_insert:
            statement_set.add_insert_sql(statement.text)
        else:
            t_env.execute_sql(statement.text)
    return statement_set
