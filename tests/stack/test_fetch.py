from __future__ import annotations

from pathlib import Path

from stack.fetch import install_flink_jars
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


def test_flink_jars_are_installed_once_and_dropped_when_the_pom_drops_them(
    tmp_path: Path,
) -> None:
    path = tmp_path / "pom.xml"
    path.write_text(POM)
    layout = Layout(tmp_path / "cache", tmp_path / "state", read_pom(path))
    layout.flink_lib_cache.mkdir(parents=True)
    for name in ("a-1.jar", "b-2.jar"):
        (layout.flink_lib_cache / name).write_bytes(b"x" * 10)
    lib = tmp_path / "lib"
    lib.mkdir()
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
