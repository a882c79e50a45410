"""Where the local stack keeps downloads, generated configuration, data, logs and pids.

Downloads live in the shared cache (``Paths.cache_dir``); everything a running service
writes lives in this checkout's state folder (``Paths.state_dir``).
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from pizzario import Config
from stack.pom import Pom, read_pom

__all__ = ["Layout", "find_java17", "pyflink_home"]


def pyflink_home() -> Path:
    """The PyFlink installation (holds bin/, lib/, conf/ of the Flink distribution)."""
    import pyflink

    return Path(pyflink.__file__).resolve().parent


def _java_major(java_home: Path) -> int | None:
    java = java_home / "bin" / "java"
    if not java.is_file():
        return None
    try:
        result = subprocess.run(
            [str(java), "-version"], capture_output=True, text=True, timeout=30, check=False
        )
    except OSError:
        return None
    # `java -version` prints e.g. openjdk version "17.0.15" 2025-04-15 on stderr.
    for token in result.stderr.split():
        token = token.strip('"')
        if token[:1].isdigit():
            return int(token.split(".", 1)[0])
    return None


def find_java17(configured: Path) -> Path | None:
    """Return a Java 17 home: the configured one, else one in /usr/lib/jvm.

    The caller's JAVA_HOME is not consulted: it often names the machine's newer default JDK;
    ``StackSettings.java_home`` (``PIZZARIO_STACK_JAVA_HOME``) is the one place to set it.
    """
    candidates = [configured, *sorted(Path("/usr/lib/jvm").glob("*17*"))]
    for candidate in candidates:
        if _java_major(candidate) == 17:
            return candidate
    return None


@dataclass(frozen=True)
class Layout:
    """Every path of the local stack, derived from the configuration and the pom."""

    cache_dir: Path
    state_dir: Path
    pom: Pom

    @classmethod
    def from_config(cls, config: Config, pom: Pom | None = None) -> Layout:
        """Build the layout for a configuration (the project's pom unless given)."""
        return cls(config.paths.cache_dir, config.paths.state_dir, pom or read_pom())

    # Downloads ---------------------------------------------------------------
    @property
    def flink_lib_cache(self) -> Path:
        """Jars destined for pyflink/lib, as Maven copied them."""
        return self.cache_dir / "flink-lib"

    @property
    def flink_functions_cache(self) -> Path:
        """The pipeline's own SQL functions jar, as fetch built it from flink_jobs/java."""
        return self.cache_dir / "flink-functions"

    @property
    def kafka_libs(self) -> Path:
        """The broker's classpath."""
        return self.cache_dir / f"kafka-{self.pom.properties['kafka.version']}" / "libs"

    @property
    def elasticsearch_download(self) -> Path:
        """Where Maven copies the Elasticsearch zip."""
        return self.cache_dir / "downloads" / "elasticsearch"

    @property
    def elasticsearch_dist(self) -> Path:
        """The unpacked Elasticsearch distribution in the cache."""
        return self.cache_dir / f"elasticsearch-{self.pom.properties['elasticsearch.version']}"

    # Runtime state -----------------------------------------------------------
    def service_dir(self, service: str) -> Path:
        """The state folder of one service (config, data, logs, pid)."""
        return self.state_dir / service

    def pid_file(self, service: str) -> Path:
        """Pids of the processes `up` started for a service, one per line."""
        return self.service_dir(service) / "pids"

    def log_dir(self, service: str) -> Path:
        """Log folder of a service."""
        return self.service_dir(service) / "log"

    @property
    def lease_dir(self) -> Path:
        """Leases of the processes using the stack (see stack.lease)."""
        return self.state_dir / "leases"

    @property
    def flink_conf_dir(self) -> Path:
        """Generated FLINK_CONF_DIR (config.yaml, log4j files, masters, workers)."""
        return self.service_dir("flink") / "conf"
