"""Keep one process running: start it, start it again whenever it dies, stop it when told.

The local Flink cluster's TaskManager runs under this supervisor, as it would under systemd
(``Restart=always``) or a Kubernetes Deployment: a TaskManager that crashes or is killed comes
back within seconds, registers with the JobManager under the same resource id, and the jobs
restart from their last checkpoint. Without it a dead TaskManager stayed dead and every job on
the cluster failed once its restarts ran out.

Run as ``python -m stack.supervise --state-dir DIR --name NAME -- COMMAND...``; SIGTERM or
SIGINT stops the command (SIGTERM, then SIGKILL after a grace period) and then the supervisor.
"""

from __future__ import annotations

import argparse
import logging
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

__all__ = ["RestartPolicy", "main", "supervise"]

log = logging.getLogger("stack.supervise")


@dataclass(frozen=True)
class RestartPolicy:
    """How long to wait before a restart.

    A process that ran for at least ``healthy_after_s`` is restarted after ``initial_delay_s``;
    one that keeps dying sooner waits twice as long each time, up to ``max_delay_s``, so a
    broken configuration does not spin the machine.
    """

    initial_delay_s: float = 1.0
    max_delay_s: float = 30.0
    healthy_after_s: float = 60.0
    # Within the 30 s that `python -m stack down` gives a process before SIGKILL.
    stop_grace_s: float = 20.0

    def next_delay(self, previous_delay_s: float, ran_for_s: float) -> float:
        """The wait before the next start, given the last wait and how long the run lasted."""
        if ran_for_s >= self.healthy_after_s or previous_delay_s <= 0:
            return self.initial_delay_s
        return min(previous_delay_s * 2, self.max_delay_s)


def supervise(
    command: Sequence[str],
    *,
    name: str,
    policy: RestartPolicy = RestartPolicy(),
    should_stop: Callable[[], bool] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> int:
    """Run ``command`` until asked to stop, starting it again each time it exits.

    Parameters
    ----------
    command : sequence of str
        The program and its arguments; it inherits this process's environment and output.
    name : str
        What to call it in log lines.
    policy : RestartPolicy
        The waits between restarts.
    should_stop : callable, optional
        Checked after each exit and during waits; when omitted, SIGTERM and SIGINT set it.

    Returns
    -------
    int
        How many times the command was restarted.
    """
    state = _StopState()
    if should_stop is None:
        state.install()
        should_stop = state.requested
    restarts = 0
    delay_s = 0.0
    while not should_stop():
        started = clock()
        child = subprocess.Popen(list(command))
        state.child = child
        log.info("%s: started pid %d", name, child.pid)
        code = _wait(child, state, policy.stop_grace_s)
        state.child = None
        if should_stop():
            log.info("%s: stopped (exit %s)", name, code)
            break
        ran_for_s = clock() - started
        delay_s = policy.next_delay(delay_s, ran_for_s)
        log.warning(
            "%s: pid %d exited with %s after %.0f s; starting it again in %.0f s",
            name, child.pid, _describe_exit(code), ran_for_s, delay_s,
        )  # fmt: skip
        _sleep_unless(should_stop, delay_s)
        if not should_stop():
            restarts += 1
    return restarts


class _StopState:
    """The stop request and the running child, shared with the signal handler."""

    def __init__(self) -> None:
        self.stop = False
        self.stop_requested_at: float | None = None
        self.child: subprocess.Popen[bytes] | None = None

    def requested(self) -> bool:
        return self.stop

    def install(self) -> None:
        signal.signal(signal.SIGTERM, self._handle)
        signal.signal(signal.SIGINT, self._handle)

    def _handle(self, _signum: int, _frame: FrameType | None) -> None:
        self.stop = True
        self.stop_requested_at = time.monotonic()
        if self.child is not None and self.child.poll() is None:
            self.child.terminate()


def _wait(child: subprocess.Popen[bytes], state: _StopState, grace_s: float) -> int:
    """Wait for the child; once a stop is requested, give it ``grace_s`` and then SIGKILL."""
    while (code := child.poll()) is None:
        if state.stop_requested_at is not None and (
            time.monotonic() - state.stop_requested_at > grace_s
        ):
            child.kill()
        time.sleep(0.2)
    return code


def _describe_exit(code: int) -> str:
    if code < 0:
        return f"signal {signal.Signals(-code).name}"
    return f"code {code}"


def _sleep_unless(should_stop: Callable[[], bool], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not should_stop() and time.monotonic() < deadline:
        time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m stack.supervise",
        description="Run a command and start it again whenever it exits, until SIGTERM.",
    )
    parser.add_argument("--name", required=True, help="what to call the process in the log")
    parser.add_argument(
        "--state-dir", type=Path, required=True,
        help="the service's state folder (named on the command line so `stack` knows its own)",
    )  # fmt: skip
    parser.add_argument("--initial-delay", type=float, default=RestartPolicy.initial_delay_s,
                        help="seconds before the first restart (default: %(default)s)")
    parser.add_argument("--max-delay", type=float, default=RestartPolicy.max_delay_s,
                        help="longest wait between restarts (default: %(default)s)")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- then the command")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m stack.supervise``."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s",
                        stream=sys.stderr)
    args = _parser().parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        _parser().error("a command to run is required after --")
    policy = RestartPolicy(initial_delay_s=args.initial_delay, max_delay_s=args.max_delay)
    supervise(command, name=args.name, policy=policy)
    return 0


if __name__ == "__main__":
    sys.exit(main())
