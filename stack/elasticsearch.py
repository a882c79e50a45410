"""Elasticsearch 7.17 single node without security, run as an unprivileged user.

Elasticsearch refuses to run as root. When set-up runs as root it creates a system user
(``StackSettings.service_user``), copies the distribution out of the cache into the state
folder (the cache under /root is not readable by other users) and runs the node as that
user, owning its data and log folders.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pwd
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path

import requests

from stack.process import start_background
from stack.render import elasticsearch_jvm_options, elasticsearch_yml
from stack.service import Health, Service, StackError, ensure_folder

__all__ = ["ElasticsearchService"]

log = logging.getLogger(__name__)


def _ensure_system_user(name: str) -> None:
    try:
        pwd.getpwnam(name)
    except KeyError:
        pass
    else:
        return
    log.info("elasticsearch: creating system user %s", name)
    command = ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name]
    try:
        result = subprocess.run(command, capture_output=True, text=True, check=False)
    except OSError as error:
        raise StackError(f"elasticsearch: creating system user {name} failed: {error}") from error
    if result.returncode != 0:
        reason = " ".join(result.stderr.split())[:200] or f"exit {result.returncode}"
        raise StackError(
            f"elasticsearch: creating system user {name} failed ({reason}); create it, or set "
            "PIZZARIO_STACK_SERVICE_USER to an existing unprivileged user"
        )


def _chown_tree(root: Path, name: str) -> None:
    entry = pwd.getpwnam(name)
    for folder, dirs, files in os.walk(root):
        os.chown(folder, entry.pw_uid, entry.pw_gid)
        for item in (*dirs, *files):
            os.chown(Path(folder) / item, entry.pw_uid, entry.pw_gid, follow_symlinks=False)


def _traversable_by_others(folder: Path) -> bool:
    """True when a user outside the owner and group can reach folder (o+x on every parent)."""
    return all(
        part.stat().st_mode & stat.S_IXOTH for part in (folder, *folder.parents) if part.exists()
    )


class ElasticsearchService(Service):
    """The node on 127.0.0.1:9200 by default."""

    name = "elasticsearch"

    @property
    def host(self) -> str:
        """The HTTP host."""
        return self.config.elasticsearch.host

    @property
    def ports(self) -> tuple[int, ...]:
        """The HTTP port."""
        return (self.config.elasticsearch.port,)

    @property
    def log_file(self) -> Path:
        """The node's main log (named after the cluster)."""
        return self.layout.log_dir(self.name) / "pizzario.log"

    def check_health(self) -> Health:
        """``_cluster/health`` must say yellow or green."""
        response = requests.get(f"{self.config.elasticsearch.url}/_cluster/health", timeout=5)
        response.raise_for_status()
        status = response.json()["status"]
        return Health(status in {"yellow", "green"}, f"cluster {status}")

    def _run_user(self) -> str | None:
        return self.config.stack.service_user if os.geteuid() == 0 else None

    def _runtime_dir(self, user: str | None) -> Path:
        """The folder the node reads and writes, reachable by the user it runs as.

        A checkout under a private folder (such as /root) cannot be reached by the service
        user; then the node's folder lives in the system temp folder and the state folder
        holds a symlink to it.
        """
        folder = self.state_dir
        if folder.is_symlink():
            # Its target may have gone with a cleaned temp folder; the node recreates its files.
            runtime = ensure_folder(folder).resolve()
            if user is not None:
                runtime.parent.chmod(0o755)
            return runtime
        if user is None or _traversable_by_others(folder.parent):
            return ensure_folder(folder).resolve()
        key = hashlib.sha1(str(folder).encode()).hexdigest()[:10]
        outside = Path(tempfile.gettempdir()) / f"pizzario-{key}" / self.name
        outside.mkdir(parents=True, exist_ok=True)
        outside.parent.chmod(0o755)
        if folder.exists():
            shutil.rmtree(folder)
        folder.symlink_to(outside, target_is_directory=True)
        log.info("elasticsearch: %s is private; the node's files live in %s", folder, outside)
        return outside

    def _install_home(self, runtime: Path) -> Path:
        """A copy of the distribution in the state folder, refreshed when the version changes."""
        source = self.layout.elasticsearch_dist
        if not (source / "bin" / "elasticsearch").is_file():
            raise self.fail("Elasticsearch is missing; run `python -m stack fetch` first")
        home = runtime / "home"
        marker = home / ".source"
        if not (marker.is_file() and marker.read_text() == str(source)):
            if home.exists():
                shutil.rmtree(home)
            shutil.copytree(source, home, symlinks=True)
            marker.write_text(str(source))
        return home

    def _launch(self) -> list[int]:
        user = self._run_user()
        if user is not None:
            _ensure_system_user(user)
        runtime = self._runtime_dir(user)
        home = self._install_home(runtime)
        conf, data, logs, tmp = (runtime / part for part in ("config", "data", "log", "tmp"))
        for folder in (conf / "jvm.options.d", data, logs, tmp):
            folder.mkdir(parents=True, exist_ok=True)
        (conf / "elasticsearch.yml").write_text(
            elasticsearch_yml(self.host, self.ports[0], data, logs)
        )
        (conf / "jvm.options").write_text(
            elasticsearch_jvm_options(self.config.stack.elasticsearch_heap_mb, logs)
        )
        shutil.copy2(home / "config" / "log4j2.properties", conf / "log4j2.properties")
        if user is not None:
            _chown_tree(runtime, user)
        env = self.java_env()
        env.update(
            ES_JAVA_HOME=str(self.require_java()),
            ES_PATH_CONF=str(conf),
            ES_TMPDIR=str(tmp),
            # Settings come from the generated files only, never the caller's environment.
            ES_JAVA_OPTS="",
        )
        pid = start_background(
            [str(home / "bin" / "elasticsearch")],
            self.console_file,
            env,
            cwd=self.state_dir,
            user=user,
        )
        return [pid]
