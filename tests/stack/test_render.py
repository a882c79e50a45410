from __future__ import annotations

import base64
from pathlib import Path

from pizzario import load_config
from stack.flink import flink_settings
from stack.layout import Layout, pyflink_home
from stack.render import (
    elasticsearch_jvm_options,
    elasticsearch_yml,
    flink_config_yaml,
    kafka_cluster_id,
    kafka_server_properties,
)


def _properties(text: str) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))
    return dict(pairs)


def test_kafka_runs_one_kraft_node_as_broker_and_controller() -> None:
    text = kafka_server_properties("127.0.0.1", 9092, 9093, Path("/state/kafka/data"))
    properties = _properties(text)
    assert properties["process.roles"] == "broker,controller"
    assert properties["controller.quorum.voters"] == "1@127.0.0.1:9093"
    assert properties["listeners"] == "PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093"
    assert properties["advertised.listeners"] == "PLAINTEXT://127.0.0.1:9092"
    assert properties["log.dirs"] == "/state/kafka/data"
    assert properties["offsets.topic.replication.factor"] == "1"


def test_kafka_cluster_id_is_16_bytes_in_unpadded_url_safe_base64() -> None:
    seed = bytes(range(16))
    cluster_id = kafka_cluster_id(seed)
    assert len(cluster_id) == 22
    assert "=" not in cluster_id
    assert base64.urlsafe_b64decode(cluster_id + "==") == seed
    assert kafka_cluster_id() != kafka_cluster_id()


def test_elasticsearch_is_a_single_loopback_node_without_security() -> None:
    lines = elasticsearch_yml("127.0.0.1", 9200, Path("/d"), Path("/l")).splitlines()
    settings = dict(line.split(": ", 1) for line in lines if line and not line.startswith("#"))
    assert settings["discovery.type"] == "single-node"
    assert settings["network.host"] == "127.0.0.1"
    assert settings["http.port"] == "9200"
    assert settings["xpack.security.enabled"] == "false"
    assert settings["path.data"] == "/d"
    assert settings["cluster.routing.allocation.disk.watermark.flood_stage"] == "99%"


def test_elasticsearch_heap_is_fixed_and_logs_go_to_the_log_folder() -> None:
    options = elasticsearch_jvm_options(1024, Path("/l")).splitlines()
    assert options[:2] == ["-Xms1024m", "-Xmx1024m"]
    assert "-XX:HeapDumpPath=/l" in options
    assert any(option.startswith("-Xlog:gc*") and "file=/l/gc.log" in option for option in options)


def test_flink_yaml_quotes_strings_and_keeps_numbers() -> None:
    text = flink_config_yaml({"rest.port": 8081, "env.log.dir": "/s/it's", "flag": True})
    assert text.splitlines()[1:] == ["rest.port: 8081", "env.log.dir: '/s/it''s'", "flag: true"]


def test_flink_settings_size_the_cluster_from_the_configuration(tmp_path: Path) -> None:
    config = load_config(
        {
            "PIZZARIO_PATHS_STATE_DIR": str(tmp_path),
            "PIZZARIO_STACK_FLINK_TASKMANAGER_MEMORY_MB": "2048",
            "PIZZARIO_FLINK_TASK_SLOTS": "3",
        }
    )
    settings = flink_settings(config, Layout.from_config(config), pyflink_home())
    assert settings["rest.port"] == 8081
    assert settings["taskmanager.numberOfTaskSlots"] == 3
    # a restarted TaskManager takes over its old registration under the same id
    assert settings["taskmanager.resource-id"] == "pizzario-taskmanager-1"
    assert settings["taskmanager.memory.process.size"] == "2048m"
    assert settings["jobmanager.memory.process.size"] == "1024m"
    assert settings["execution.checkpointing.dir"] == (tmp_path / "flink" / "checkpoints").as_uri()
    assert settings["env.log.dir"] == str(tmp_path / "flink" / "log")
    # The JDK 17 module flags come from the installation's own config.yaml.
    assert "--add-opens=java.base/java.lang=ALL-UNNAMED" in str(settings["env.java.opts.all"])
