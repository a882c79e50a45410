"""Check an offer rules file before it reaches the cluster.

A rules file is accepted when the whole pipeline plans with it in a local TableEnvironment
(parse, validation and optimisation: the same planner as the cluster), and, when the rules of
the running job are known, when the job's operator graph keeps its shape. Flink maps a savepoint
onto a job by operator ids, which the SQL planner derives from the graph's shape: a rules file
that adds a join or an aggregate would leave the frequency cap's state behind.
"""

from __future__ import annotations

import json
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from flink_jobs.connectors import file_connectors
from flink_jobs.pipeline import apply_statements, job_settings, pipeline_statements
from pizzario.config import Config
from simulator.mall import load_mall

__all__ = ["RulesError", "RulesPlan", "check_rules", "operator_shape", "plan_rules"]

_PLAN_HEADING = "== Physical Execution Plan =="
_OPERATOR_NUMBER = re.compile(r"\[\d+\]")


class RulesError(ValueError):
    """A rules file that must not be applied; the message says why."""


@dataclass(frozen=True)
class RulesPlan:
    """The planned pipeline with one rules file: its operator graph's shape."""

    rules_sql: Path
    shape: tuple[tuple[str, str, tuple[str, ...]], ...]


def operator_shape(json_plan: str) -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    """Operators (kind, role, how their inputs are shipped) of a JSON execution plan, in order.

    Expressions are left out on purpose: a changed CASE keeps the shape, a new join does not.
    """
    plan = json.loads(json_plan[json_plan.index(_PLAN_HEADING) + len(_PLAN_HEADING) :])
    shape = []
    for node in plan["nodes"]:
        kind = _OPERATOR_NUMBER.sub("", node["type"]).strip()
        inputs = tuple(edge["ship_strategy"] for edge in node.get("predecessors", []))
        shape.append((kind, node.get("pact", ""), inputs))
    return tuple(shape)


def plan_rules(config: Config, rules_sql: Path) -> RulesPlan:
    """Plan the whole pipeline with ``rules_sql`` locally; raise :class:`RulesError` if it fails."""
    from py4j.protocol import Py4JJavaError
    from pyflink.table import EnvironmentSettings, ExplainDetail, TableEnvironment
    from pyflink.util.exceptions import JavaException

    if not rules_sql.is_file():
        raise RulesError(f"{rules_sql}: no such file")
    mall = load_mall(config.paths.mall_json)
    with tempfile.TemporaryDirectory(prefix="offer-rules-") as scratch:
        # The files are never read: EXPLAIN plans without running anything.
        connectors = file_connectors(
            Path(scratch) / "pings.jsonl",
            Path(scratch),
            segments_csv=config.paths.segments_csv,
            segment_offers_csv=config.paths.segment_offers_csv,
        )
        statements = pipeline_statements(
            config, connectors, rules_sql=rules_sql, mall=mall, opted_out_customer_ids=()
        )
        t_env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
        try:
            statement_set = apply_statements(t_env, statements, job_settings(config, mall.timezone))
            json_plan = statement_set.explain(ExplainDetail.JSON_EXECUTION_PLAN)
        except (Py4JJavaError, JavaException) as error:
            raise RulesError(f"{rules_sql} does not plan:\n{_first_lines(str(error))}") from error
    return RulesPlan(rules_sql=rules_sql, shape=operator_shape(json_plan))


def check_rules(
    config: Config, rules_sql: Path, running_rules_sql: Path | None = None
) -> RulesPlan:
    """Accept ``rules_sql`` or raise :class:`RulesError`.

    Parameters
    ----------
    config : Config
        The pipeline's configuration.
    rules_sql : Path
        The edited rules.
    running_rules_sql : Path, optional
        The rules the running job was submitted with; when given, the new plan must have the
        same operator graph so that the savepoint maps onto it.
    """
    new = plan_rules(config, rules_sql)
    if running_rules_sql is not None:
        running = plan_rules(config, running_rules_sql)
        if new.shape != running.shape:
            raise RulesError(
                f"{rules_sql} changes the job's operator graph ({len(running.shape)} operators "
                f"before, {len(new.shape)} after), so the running job's state (the frequency "
                "cap) would not map onto it. Keep the rules a single SELECT ... CASE over "
                "dwell_triggers_known, without joins or aggregates."
            )
    return new


def _first_lines(message: str, count: int = 6) -> str:
    """The informative head of a Java exception message (no stack frames)."""
    lines = [
        line for line in message.splitlines() if line.strip() and not line.strip().startswith("at ")
    ]
    return "\n".join(lines[:count])
