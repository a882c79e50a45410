from __future__ import annotations

import os
from pathlib import Path

from stack.fetch import functions_digest, install_flink_jars
from stack.layout import Layout
from stack.pom import read_pom

POM = """<?xml version="1.0"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <properties>
    <kafka.version>3.9.2</kafka.version>
    <elasticsearch.version>7.17.29</elasticsearch.version>
  </properties>
  <profiles>
    <profile>
      <id>flink-lib</id>
      <dependencies>
        <dependency>
          <groupId>org.apache.flink</groupId>
          <artifactId>flink-connector-kafka</artifactId>
          <version>3.4.0-1.20</version>
        </dependency>
      </dependencies>
    </profile>
    <profile>
      <id>elasticsearch</id>
      <dependencies>
        <dependency>
          <groupId>org.elasticsearch.distribution.integ-test-zip</groupId>
          <artifactId>elasticsearch</artifactId>
          <version>${elasticsearch.version}</version>
          <type>zip</type>
        </dependency>
      </dependencies>
    </profile>
  </profiles>
</project>
"""


def test_the_project_pom_lists_the_connectors_broker_and_search_engine() -> None:
    pom = read_pom()
    flink = {artifact.artifact_id: artifact.version for artifact in pom.profiles["flink-lib"]}
    assert flink["flink-connector-kafka"] == "3.4.0-1.20"
    assert flink["flink-sql-connector-elasticsearch7"].endswith(
        ("-1.17", "-1.18", "-1.19", "-1.20")
    )
    kafka = {artifact.artifact_id: artifact.version for artifact in pom.profiles["kafka"]}
    assert kafka["kafka_2.13"].startswith("3.9.")
    (search,) = pom.profiles["elasticsearch"]
    assert search.file_name == f"elasticsearch-{pom.properties['elasticsearch.version']}.zip"
    assert search.version.startswith("7.17.")


def test_properties_are_substituted_and_each_edit_changes_the_digest(tmp_path: Path) -> None:
    path = tmp_path / "pom.xml"
    path.write_text(POM)
    pom = read_pom(path)
    assert pom.profiles["elasticsearch"][0].version == "7.17.29"
    assert pom.profiles["flink-lib"][0].file_name == "flink-connector-kafka-3.4.0-1.20.jar"
    path.write_text(POM.replace("3.4.0-1.20", "3.4.1-1.20"))
    edited = read_pom(path)
    assert edited.profile_digest("flink-lib") != pom.profile_digest("flink-lib")
    assert read_pom(path).profile_digest("flink-lib") == edited.profile_digest("flink-lib")


def _layout_with_jars(tmp_path: Path, *names: str) -> tuple[Layout, Path]:
    """A layout whose fetched connector jars are ``names``, and an empty lib/ to install into."""
    path = tmp_path / "pom.xml"
    path.write_text(POM)
    layout = Layout(tmp_path / "cache", tmp_path / "state", read_pom(path))
    layout.flink_lib_cache.mkdir(parents=True)
    for name in names:
        (layout.flink_lib_cache / name).write_bytes(b"x" * 10)
    lib = tmp_path / "lib"
    lib.mkdir()
    return layout, lib


def test_flink_jars_are_installed_once_and_dropped_when_the_pom_drops_them(
    tmp_path: Path,
) -> None:
    layout, lib = _layout_with_jars(tmp_path, "a-1.jar", "b-2.jar")
    (lib / "flink-dist-1.20.5.jar").write_bytes(b"dist")

    assert install_flink_jars(layout, lib) == ["a-1.jar", "b-2.jar"]
    assert install_flink_jars(layout, lib) == []

    (layout.flink_lib_cache / "b-2.jar").unlink()
    (layout.flink_lib_cache / "b-3.jar").write_bytes(b"y" * 12)
    assert install_flink_jars(layout, lib) == ["b-3.jar"]
    assert sorted(jar.name for jar in lib.glob("*.jar")) == [
        "a-1.jar",
        "b-3.jar",
        "flink-dist-1.20.5.jar",
    ]


def test_functions_digest_follows_the_sources(tmp_path: Path) -> None:
    project = tmp_path / "java"
    source = project / "src" / "main" / "java" / "Rejection.java"
    source.parent.mkdir(parents=True)
    (project / "pom.xml").write_text("<project/>")
    source.write_text("class Rejection {}")
    before = functions_digest(project)
    assert functions_digest(project) == before
    source.write_text("class Rejection { int rule; }")
    changed = functions_digest(project)
    assert changed != before
    # a resource, such as the service file that registers a table format, counts too
    service = project / "src" / "main" / "resources" / "META-INF" / "services" / "Factory"
    service.parent.mkdir(parents=True)
    service.write_text("Rejection\n")
    assert functions_digest(project) != changed


def test_a_rebuilt_functions_jar_replaces_the_installed_one_even_at_equal_size(
    tmp_path: Path,
) -> None:
    layout, lib = _layout_with_jars(tmp_path, "a-1.jar")
    layout.flink_functions_cache.mkdir(parents=True)
    functions = layout.flink_functions_cache / "functions-0.1.jar"
    functions.write_bytes(b"old rules")

    assert install_flink_jars(layout, lib) == ["a-1.jar", "functions-0.1.jar"]
    functions.write_bytes(b"new rules")
    os.utime(functions, ns=(1, 1))
    assert install_flink_jars(layout, lib) == ["functions-0.1.jar"]
    assert (lib / "functions-0.1.jar").read_bytes() == b"new rules"
