"""``apply-rules``: restart the running offer job with edited offer rules, keeping its state."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from flink_jobs.cluster import (
    ClusterError,
    find_running_job,
    latest_savepoint,
    recorded_rules,
    stop_with_savepoint,
    submit_offers_job,
    wait_until_running,
)
from flink_jobs.preflight import check_inputs
from flink_jobs.rules import check_rules
from pizzario.config import Config

__all__ = ["AppliedRules", "apply_rules"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AppliedRules:
    job_id: str
    savepoint: str | None
    rolled_back: bool
    error: str | None = None


def apply_rules(config: Config, rules_sql: Path) -> AppliedRules:
    """Check ``rules_sql``, stop the running job with a savepoint and resubmit it from there.

    Raises
    ------
    flink_jobs.rules.RulesError
        When the rules do not plan or would change the job's operator graph; the running job
        is not touched.
    flink_jobs.preflight.InputFileError
        When the segment catalogue, the opt-outs, the mall layout or the rules file cannot be
        used; the running job is not touched.

    Notes
    -----
    If the job does not start with the new rules, it is resubmitted from the same savepoint
    with the rules it had, and the result says so (``rolled_back``). Only the offer job
    restarts: the indexer job reads the same topics before and after, and keeps running (it
    is submitted if it does not run).
    """
    check_inputs(config, rules_sql)
    running_rules = recorded_rules(config)
    check_rules(config, rules_sql, running_rules)
    running = find_running_job(config)
    savepoint = stop_with_savepoint(config, running) if running else latest_savepoint(config)
    previous_rules = None
    if running_rules is not None:
        # The record is overwritten by the submission below.
        previous_rules = running_rules.with_name("previous_offer_rules.sql")
        previous_rules.write_bytes(running_rules.read_bytes())
    try:
        job_id = submit_offers_job(config, rules_sql=rules_sql, from_savepoint=savepoint)
        wait_until_running(config, job_id)
    except ClusterError as error:
        if savepoint is None or previous_rules is None:
            raise
        log.error("the new rules did not start (%s); going back to the previous ones", error)
        job_id = submit_offers_job(config, rules_sql=previous_rules, from_savepoint=savepoint)
        wait_until_running(config, job_id)
        return AppliedRules(job_id, savepoint, rolled_back=True, error=str(error))
    return AppliedRules(job_id, savepoint, rolled_back=False)
