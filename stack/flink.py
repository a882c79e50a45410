"""The Flink 1.20 standalone cluster from PyFlink's own distribution, and job submission.

The cluster runs from ``pyflink/bin/`` (the JobManager's daemon script, and the TaskManager in
the foreground under :mod:`stack.supervise`) with a generated FLINK_CONF_DIR in
the state folder, so the installation itself is never edited (except lib/, where fetch puts
the connector jars). Jobs are submitted with ``pyflink/bin/flink run -py``:
:func:`run_python_job` does that and returns the job id.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import requests

from pizzario import Config, load_config
from stack.layout import Layout, find_java17, pyflink_home
from stack.process import read_pids, running, start_background, stop_pids
from stack.render import flink_config_yaml
from stack.service import Health, Service, StackError

__all__ = [
    "FlinkService",
    "cancel_job",
    "flink_environment",
    "job_state",
    "run_python_job",
    "write_flink_conf",
]

log = logging.getLogger(__name__)

_JOB_ID = re.compile(r"JobID\s+([0-9a-f]{32})")
TASKMANAGER_RESOURCE_ID = "pizzario-taskmanager-1"
_TERMINAL = frozenset({"CANCELED", "FAILED", "FINISHED"})
_JVM_OPTS = re.compile(r"^\s*all:\s*(--add-.*)$", re.MULTILINE)


def _installation_java_opts(flink_home: Path) -> str:
    """The JDK 17 module flags that the installation's own config.yaml carries."""
    match = _JVM_OPTS.search((flink_home / "conf" / "config.yaml").read_text())
    return match.group(1).strip() if match else ""


def flink_settings(config: Config, layout: Layout, flink_home: Path) -> dict[str, object]:
    """The config.yaml keys of the local cluster (flat, as Flink 1.20 accepts them)."""
    state = layout.service_dir("flink")
    # One host for every endpoint: the cluster is local, its REST host is where it lives.
    host = config.flink.rest_host
    return {
        "env.java.opts.all": _installation_java_opts(flink_home),
        "env.log.dir": str(state / "log"),
        "env.pid.dir": str(state / "run"),
        "jobmanager.rpc.address": host,
        "jobmanager.rpc.port": config.stack.flink_rpc_port,
        "jobmanager.bind-host": host,
        "jobmanager.memory.process.size": f"{config.stack.flink_jobmanager_memory_mb}m",
        "jobmanager.execution.failover-strategy": "region",
        "taskmanager.host": host,
        "taskmanager.bind-host": host,
        "taskmanager.numberOfTaskSlots": config.flink.task_slots,
        # The supervisor starts a dead TaskManager again under the same id: the ResourceManager
        # then replaces the old registration at once instead of waiting for its heartbeat to
        # time out, and the jobs get their slots back within seconds.
        "taskmanager.resource-id": TASKMANAGER_RESOURCE_ID,
        # Under the supervisor the TaskManager runs in the foreground: its stdout and stderr go
        # to the .out and .err files beside its log, as with the daemon scripts, not to the
        # supervisor's console file.
        "env.stdout-err.redirect-to-file": True,
        "taskmanager.memory.process.size": f"{config.stack.flink_taskmanager_memory_mb}m",
        # The jobs keep their state on the heap (the default hashmap backend); managed memory
        # serves RocksDB, batch operators and Python UDFs, none of which they use, and its
        # default 40 % share left the heap too small for a backlog's dedupe state.
        "taskmanager.memory.managed.fraction": "0.1",
        "parallelism.default": config.flink.parallelism,
        "rest.address": host,
        "rest.bind-address": host,
        "rest.port": config.flink.rest_port,
        # Python UDF workers and the `flink run -py` client use the project's interpreter.
        "python.executable": sys.executable,
        "python.client.executable": sys.executable,
        "execution.checkpointing.storage": "filesystem",
        "execution.checkpointing.dir": (state / "checkpoints").as_uri(),
        "execution.checkpointing.savepoint-dir": (state / "savepoints").as_uri(),
        "io.tmp.dirs": str(state / "tmp"),
        "web.tmpdir": str(state / "tmp" / "web"),
        "web.upload.dir": str(state / "tmp" / "upload"),
        "blob.storage.directory": str(state / "tmp" / "blob"),
    }


def write_flink_conf(config: Config, layout: Layout) -> Path:
    """Generate FLINK_CONF_DIR (config.yaml, log4j files, masters, workers); return it.

    The cluster reads it at start; ``flink run`` reads it as the client configuration, so a
    checkout that reuses a cluster started elsewhere still gets one.
    """
    flink_home = pyflink_home()
    conf = layout.flink_conf_dir
    conf.mkdir(parents=True, exist_ok=True)
    for source in (flink_home / "conf").glob("log*"):
        shutil.copy2(source, conf / source.name)
    (conf / "config.yaml").write_text(flink_config_yaml(flink_settings(config, layout, flink_home)))
    (conf / "masters").write_text(f"{config.flink.rest_host}:{config.flink.rest_port}\n")
    # For Flink's own scripts (stop-cluster.sh and the like): the TaskManager is on this host.
    (conf / "workers").write_text("localhost\n")
    for part in ("log", "run", "tmp", "checkpoints", "savepoints"):
        (layout.service_dir("flink") / part).mkdir(parents=True, exist_ok=True)
    return conf


def flink_environment(config: Config | None = None, layout: Layout | None = None) -> dict[str, str]:
    """Environment for Flink's scripts: Java 17, the generated FLINK_CONF_DIR, the venv first."""
    config = config or load_config()
    layout = layout or Layout.from_config(config)
    java_home = find_java17(config.stack.java_home)
    if java_home is None:
        raise StackError("flink: Java 17 not found; set PIZZARIO_STACK_JAVA_HOME")
    if not (layout.flink_conf_dir / "config.yaml").is_file():
        write_flink_conf(config, layout)
    env = dict(os.environ)
    env.update(
        JAVA_HOME=str(java_home),
        FLINK_CONF_DIR=str(layout.flink_conf_dir),
        PATH=f"{java_home}/bin:{Path(sys.executable).parent}:{env.get('PATH', '')}",
    )
    return env


class FlinkService(Service):
    """JobManager (REST on 127.0.0.1:8081 by default) and one supervised TaskManager.

    The JobManager runs as Flink's own daemon (``jobmanager.sh start``); the TaskManager runs
    in the foreground under :mod:`stack.supervise`, which starts it again when it dies.
    """

    name = "flink"
    # jobmanager.sh returns once the daemon is forked; this is plenty.
    start_script_timeout_s: float = 120.0

    @property
    def host(self) -> str:
        """The REST host, where the JobManager and the TaskManager also bind."""
        return self.config.flink.rest_host

    @property
    def ports(self) -> tuple[int, ...]:
        """REST port, then JobManager RPC port."""
        return (self.config.flink.rest_port, self.config.stack.flink_rpc_port)

    @property
    def log_file(self) -> Path:
        """The JobManager's log (the TaskManager's sits beside it)."""
        logs = sorted(self.layout.log_dir(self.name).glob("flink-*-standalonesession-*.log"))
        return logs[-1] if logs else self.layout.log_dir(self.name)

    def check_health(self) -> Health:
        """The REST API must list at least one registered TaskManager."""
        response = requests.get(f"{self.config.flink.rest_url}/taskmanagers", timeout=5)
        response.raise_for_status()
        managers = response.json().get("taskmanagers", [])
        slots = sum(manager.get("slotsNumber", 0) for manager in managers)
        return Health(bool(managers), f"{len(managers)} taskmanager(s), {slots} slots")

    @property
    def _start_script(self) -> Path:
        return pyflink_home() / "bin" / "jobmanager.sh"

    @property
    def supervisor_log(self) -> Path:
        """The supervisor's own lines: each TaskManager start, exit and restart."""
        return self.layout.log_dir(self.name) / "taskmanager-supervisor.log"

    def taskmanager_pid(self) -> int | None:
        """The running TaskManager's pid (it changes when the supervisor restarts it)."""
        pid_file = self.state_dir / "run" / "flink-pizzario-taskexecutor.pid"
        pids = read_pids(pid_file) if pid_file.is_file() else []
        live = [pid for pid in pids if running(pid)]
        return live[-1] if live else None

    def _recorded_pids(self) -> list[int]:
        # flink-daemon.sh records each daemon's pid in env.pid.dir as it forks it.
        return [
            int(pid)
            for path in sorted((self.state_dir / "run").glob("*.pid"))
            for pid in path.read_text().split()
            if pid.isdigit()
        ]

    def _launch(self) -> list[int]:
        write_flink_conf(self.config, self.layout)
        for stale in (self.state_dir / "run").glob("*.pid"):
            stale.unlink()
        env = self.java_env() | {
            "FLINK_CONF_DIR": str(self.layout.flink_conf_dir),
            "FLINK_IDENT_STRING": "pizzario",
        }
        try:
            result = subprocess.run(
                [str(self._start_script), "start"],
                env=env,
                capture_output=True,
                text=True,
                timeout=self.start_script_timeout_s,
                check=False,
            )
        except subprocess.TimeoutExpired as error:
            self._stop_recorded()
            raise self.fail(
                f"jobmanager.sh did not finish in {self.start_script_timeout_s:.0f} s"
            ) from error
        if result.returncode != 0:
            # The JobManager may run already: stop it, or the next `up` finds its port taken.
            self._stop_recorded()
            raise self.fail(f"jobmanager.sh failed: {result.stderr.strip()[-300:]}")
        supervisor = start_background(
            [
                sys.executable, "-m", "stack.supervise", "--name", "taskmanager",
                "--state-dir", str(self.state_dir), "--",
                str(pyflink_home() / "bin" / "taskmanager.sh"), "start-foreground",
            ],
            self.supervisor_log,
            env,
            cwd=self.state_dir,
        )  # fmt: skip
        return [*self._recorded_pids(), supervisor]

    def _stop_recorded(self) -> None:
        pids = self._recorded_pids()
        if pids:
            log.info("flink: stopping pids %s of the failed start", " ".join(map(str, pids)))
            stop_pids(pids)


def _rest(config: Config) -> str:
    return config.flink.rest_url.rstrip("/")


def _job_ids(config: Config) -> set[str]:
    response = requests.get(f"{_rest(config)}/jobs", timeout=10)
    response.raise_for_status()
    return {job["id"] for job in response.json()["jobs"]}


def run_python_job(
    script: Path | str,
    args: Sequence[str] = (),
    *,
    config: Config | None = None,
    from_savepoint: str | None = None,
    timeout_s: float = 300.0,
) -> str:
    """Submit a PyFlink script to the local cluster with ``flink run -d -py``.

    Parameters
    ----------
    script : Path or str
        The Python job file.
    args : sequence of str
        Arguments passed to the script after its path.
    config : Config, optional
        Configuration; loaded from the environment when omitted.
    from_savepoint : str, optional
        Savepoint or retained checkpoint to restore from (``flink run -s``).
    timeout_s : float
        How long the client may take to submit.

    Returns
    -------
    str
        The Flink job id (32 hex digits).

    Raises
    ------
    StackError
        When the client fails or no new job appears; the message carries the client output.
    """
    config = config or load_config()
    layout = Layout.from_config(config)
    env = flink_environment(config, layout)
    before = _job_ids(config)
    command = [
        str(pyflink_home() / "bin" / "flink"), "run", "-d",
        "-m", _rest(config).split("://", 1)[-1],
        *(["-s", from_savepoint] if from_savepoint else []),
        "-pyexec", sys.executable, "-pyclientexec", sys.executable,
        "-py", str(Path(script).resolve()), *args,
    ]  # fmt: skip
    log.info("flink: submitting %s", script)
    result = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=timeout_s, check=False
    )
    output = result.stdout + result.stderr
    if result.returncode != 0:
        raise StackError(f"flink run {script} failed (exit {result.returncode}):\n{output[-4000:]}")
    found = _JOB_ID.findall(output)
    if found:
        return found[-1]
    # Some clients print nothing about the job: find it as the job that was not there before.
    new = _job_ids(config) - before
    if len(new) == 1:
        return new.pop()
    raise StackError(f"flink run {script}: could not tell the job id:\n{output[-4000:]}")


def job_state(job_id: str, config: Config | None = None) -> str:
    """The job's state as the REST API reports it (RUNNING, FAILED, CANCELED, ...)."""
    config = config or load_config()
    response = requests.get(f"{_rest(config)}/jobs/{job_id}", timeout=10)
    response.raise_for_status()
    return str(response.json()["state"])


def cancel_job(job_id: str, config: Config | None = None, timeout_s: float = 60.0) -> str:
    """Cancel a job and wait until it reaches a terminal state; return that state.

    A job that already ended (FAILED, FINISHED, CANCELED) is left as it is and its state
    returned, so that clean-up after a failed test never hides the test's own error.
    """
    config = config or load_config()
    response = requests.patch(f"{_rest(config)}/jobs/{job_id}?mode=cancel", timeout=10)
    if not response.ok:
        state = job_state(job_id, config)
        if state in _TERMINAL:
            return state
        response.raise_for_status()
    deadline = time.monotonic() + timeout_s
    while True:
        state = job_state(job_id, config)
        if state in _TERMINAL or time.monotonic() > deadline:
            return state
        time.sleep(0.5)
