from __future__ import annotations

from pathlib import Path

import pytest

from pizzario import load_config


def test_defaults_match_the_shared_contract() -> None:
    config = load_config({})
    assert config.kafka.bootstrap == "127.0.0.1:9092"
    assert (config.kafka.ping_topic, config.kafka.dead_letter_topic, config.kafka.offer_topic) == (
        "mall-pings",
        "mall-pings-dlq",
        "offers",
    )
    assert config.elasticsearch.url == "http://127.0.0.1:9200"
    assert config.flink.rest_url == "http://127.0.0.1:8081"
    assert config.offers.dwell_threshold_s == 180
    assert config.paths.segments_csv.name == "segments.csv"


def test_environment_overrides_keep_the_default_type() -> None:
    config = load_config(
        {
            "PIZZARIO_KAFKA_BOOTSTRAP": "localhost:19092",
            "PIZZARIO_OFFERS_DWELL_THRESHOLD_S": "120",
            "PIZZARIO_OFFERS_MAX_ACCURACY_M": "35.5",
            "PIZZARIO_PATHS_STATE_DIR": "/tmp/pizzario-state",
        }
    )
    assert config.kafka.bootstrap == "localhost:19092"
    assert config.offers.dwell_threshold_s == 120
    assert config.offers.max_accuracy_m == 35.5
    assert config.paths.state_dir == Path("/tmp/pizzario-state")


def test_a_bad_override_names_the_variable() -> None:
    with pytest.raises(ValueError, match="PIZZARIO_FLINK_PARALLELISM='two'"):
        load_config({"PIZZARIO_FLINK_PARALLELISM": "two"})


def test_the_truth_section_has_its_defaults_and_overrides() -> None:
    truth = load_config({}).truth
    assert (truth.inner_radius_m, truth.outer_radius_m, truth.time_margin_s) == (10.0, 30.0, 60.0)
    assert truth.max_silence_s == 20.0
    changed = load_config(
        {"PIZZARIO_TRUTH_OUTER_RADIUS_M": "35", "PIZZARIO_TRUTH_TIME_MARGIN_S": "45"})
    assert (changed.truth.outer_radius_m, changed.truth.time_margin_s) == (35.0, 45.0)
