"""The rules check that guards ``apply-rules``: run locally, before the running job is touched."""

from __future__ import annotations

from pathlib import Path

import pytest

from flink_jobs.rules import RulesError, check_rules
from pizzario.config import load_config

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def shipped_rules() -> str:
    return load_config().paths.offer_rules_sql.read_text(encoding="utf-8")


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "offer_rules.sql"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_shipped_rules_plan_and_keep_their_own_shape() -> None:
    config = load_config()
    plan = check_rules(config, config.paths.offer_rules_sql, config.paths.offer_rules_sql)
    kinds = [kind for kind, _, _ in plan.shape]
    # the stateful heart of the job: two OVER windows (one per customer for the dedupe and the
    # trigger, the cap's per offer) and no join (the segment is a stateless lookup); both offer
    # sinks share one cap
    assert kinds.count("Deduplicate") == 0
    assert kinds.count("OverAggregate") == 2
    assert kinds.count("Join") == 0


def test_a_changed_case_is_accepted(tmp_path: Path, shipped_rules: str) -> None:
    edited = shipped_rules.replace("BETWEEN 12 AND 14", "BETWEEN 11 AND 15").replace(
        "THEN 20.0", "THEN 30.0"
    )
    assert edited != shipped_rules
    config = load_config()
    check_rules(config, _write(tmp_path, edited), config.paths.offer_rules_sql)


def test_a_rules_file_that_does_not_parse_is_refused(tmp_path: Path, shipped_rules: str) -> None:
    broken = shipped_rules.replace("END AS offer_code", "END AS offer_code,,")
    with pytest.raises(RulesError, match="does not plan"):
        check_rules(load_config(), _write(tmp_path, broken))


def test_a_rules_file_naming_an_unknown_column_is_refused(
    tmp_path: Path, shipped_rules: str
) -> None:
    unknown = shipped_rules.replace("local_hour BETWEEN 12", "lunch_hour BETWEEN 12", 1)
    with pytest.raises(RulesError, match="lunch_hour"):
        check_rules(load_config(), _write(tmp_path, unknown))


def test_rules_that_add_a_join_are_refused_because_the_state_would_not_map(
    tmp_path: Path, shipped_rules: str
) -> None:
    joined = shipped_rules.replace(
        "FROM dwell_triggers_known;",
        "FROM dwell_triggers_known AS t\n"
        "WHERE EXISTS (SELECT 1 FROM dwell_triggers AS d WHERE d.customer_id = t.customer_id);",
    )
    config = load_config()
    # A join drops the triggers' event time, which the cap orders by, so such rules do not even
    # plan; were they to plan, the changed operator graph would refuse them.
    with pytest.raises(RulesError, match=r"does not plan|operator graph"):
        check_rules(config, _write(tmp_path, joined), config.paths.offer_rules_sql)
