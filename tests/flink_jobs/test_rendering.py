"""Rendering the SQL templates and the fragments that fill them (pure, no Flink)."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pytest

from flink_jobs.params import (
    mall_params,
    opt_out_params,
    sql_double,
    sql_string,
    trigger_params,
    with_options,
)
from flink_jobs.pipeline import STAGE_FILES, stage_paths
from flink_jobs.rendering import (
    SqlTemplateError,
    Statement,
    load_statements,
    render_sql,
    split_statements,
)
from pizzario.config import load_config
from simulator.mall import load_mall


def test_placeholders_are_filled_and_json_paths_left_alone() -> None:
    sql = "SELECT JSON_VALUE(line, '$.ts') FROM t WHERE x < ${limit}"
    assert render_sql(sql, {"limit": "5"}) == "SELECT JSON_VALUE(line, '$.ts') FROM t WHERE x < 5"


def test_a_missing_placeholder_names_the_file_and_line() -> None:
    with pytest.raises(SqlTemplateError, match=r"stage\.sql:2: no value for placeholder \$\{gap\}"):
        render_sql("SELECT 1\nFROM t WHERE g > ${gap}", {}, source="stage.sql")


def test_statements_split_on_semicolons_outside_quotes_and_comments() -> None:
    sql = (
        "-- a comment; not a split\nSELECT ';' AS a;\n\nSELECT 2; -- trailing\n"
        "-- only a comment;\n"
    )
    assert split_statements(sql) == ["-- a comment; not a split\nSELECT ';' AS a", "SELECT 2"]


def test_literals_and_options_are_quoted() -> None:
    assert sql_string("it's") == "'it''s'"
    assert with_options({"a": "1", "b": "x'y"}) == "'a' = '1',\n    'b' = 'x''y'"


@pytest.mark.parametrize("value", [12.9969856, 77.6961893, 20.0, 0.5, 1e-05, 6_371_008.8, -3.25])
def test_doubles_are_double_literals_that_read_back_to_the_same_bits(value: float) -> None:
    # Flink reads a number with an exponent as DOUBLE, and Python's float() reads SQL's
    # exponent notation the same way, so the literal round-trips exactly.
    text = sql_double(value)
    assert "e" in text.lower()
    assert float(text) == value
    for not_finite in (float("inf"), float("nan")):
        with pytest.raises(ValueError):
            sql_double(not_finite)


def test_an_empty_opt_out_list_excludes_nobody() -> None:
    assert opt_out_params([]) == {"opted_out_customer_ids": "-1"}
    assert opt_out_params([7, 3, 7]) == {"opted_out_customer_ids": "3, 7"}


def test_the_zone_lookup_lists_every_zone_in_layout_order() -> None:
    mall = load_mall(load_config().paths.mall_json)
    case = mall_params(mall)["zone_of_lat_lon"]
    positions = [case.index(f"THEN '{zone.id}'") for zone in mall.zones]
    assert positions == sorted(positions) and len(positions) == len(mall.zones)
    assert mall_params(mall)["geofence_radius_m"] == "20.0E0"


def test_every_stage_renders_with_the_rules_before_the_cap(tmp_path: Path) -> None:
    config = load_config()
    paths = stage_paths(config.paths.sql_dir, config.paths.offer_rules_sql)
    assert [p.name for p in paths][-2:] == ["offer_rules.sql", STAGE_FILES[-1]]
    from flink_jobs.connectors import file_connectors
    from flink_jobs.params import pipeline_params

    connectors = file_connectors(
        tmp_path / "p.jsonl", tmp_path, segments_csv=tmp_path / "s.csv",
        segment_offers_csv=tmp_path / "o.csv",
    )  # fmt: skip
    params = pipeline_params(
        connectors=connectors,
        mall=load_mall(config.paths.mall_json),
        offers=config.offers,
        clock=config.clock,
        opted_out_customer_ids=[7],
    )
    statements = load_statements(paths, params)
    inserts = [s.source for s in statements if s.is_insert]
    assert inserts == [
        "20_validate_pings", "50_archive_pings", "60_footfall", "70_visits", "95_offers",
    ]  # fmt: skip
    assert not any("${" in s.text for s in statements)


def test_the_indexer_reads_the_result_topics_committed_and_writes_each_record_by_its_id() -> None:
    from flink_jobs.pipeline import indexer_settings, indexer_statements

    config = load_config()
    statements = indexer_statements(config)
    assert not any("${" in s.text for s in statements)
    assert [s.text for s in statements if s.is_insert] == [
        f"INSERT INTO {kind}_index SELECT * FROM {kind}_topic"
        for kind in ("offers", "visits", "footfall")
    ]
    sources = [s.text for s in statements if s.source == "00_result_topics"]
    assert len(sources) == 3
    assert all("'properties.isolation.level' = 'read_committed'" in text for text in sources)
    assert all("'properties.group.id' = 'pizzario-pipeline-indexer'" in text for text in sources)
    sinks = [s.text for s in statements if s.source == "indexer" and not s.is_insert]
    for text, key in zip(sinks, ("offer_id", "visit_id", "footfall_id"), strict=True):
        assert f"PRIMARY KEY ({key}) NOT ENFORCED" in text
    settings = indexer_settings(config)
    assert (settings["pipeline.name"], settings["parallelism.default"]) == (
        "pizzario-offers-indexer", "1",
    )  # fmt: skip


def test_an_insert_that_opens_with_a_comment_is_still_an_insert() -> None:
    (statement,) = split_statements("-- why this sink\n-- and its columns\nINSERT INTO t SELECT 1;")
    assert Statement("x", 1, statement).is_insert
    (view,) = split_statements("-- INSERT would be wrong here\nCREATE VIEW v AS SELECT 1;")
    assert not Statement("x", 1, view).is_insert


def test_the_dwell_rule_gets_its_window_radii_and_the_plane_around_the_shop() -> None:
    config = load_config()
    mall = load_mall(config.paths.mall_json)
    params = trigger_params(mall, config.offers)
    assert params["position_window_s"] == "60"
    assert (params["enter_radius_m"], params["exit_radius_m"]) == ("17.0E0", "24.0E0")
    # a degree of latitude is 111.2 km anywhere; of longitude, that times cos(latitude)
    metres_lat, metres_lon = (float(params[f"metres_per_degree_{a}"]) for a in ("lat", "lon"))
    assert metres_lat == pytest.approx(111_195.1, abs=0.1)
    assert metres_lon / metres_lat == pytest.approx(math.cos(math.radians(mall.pizza_shop.lat)))


@pytest.mark.parametrize(("enter_m", "exit_m"), [(25.0, 24.0), (0.0, 24.0)])
def test_radii_that_give_no_hysteresis_are_refused(enter_m: float, exit_m: float) -> None:
    config = load_config()
    offers = dataclasses.replace(config.offers, enter_radius_m=enter_m, exit_radius_m=exit_m)
    with pytest.raises(ValueError, match="enter_radius_m"):
        trigger_params(load_mall(config.paths.mall_json), offers)
