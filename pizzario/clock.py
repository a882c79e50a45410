"""The product's clock: what "now" is for every part of the system that asks.

"Now" is the wall clock shifted by the configured offset (``PIZZARIO_CLOCK_OFFSET_S``, see
:class:`pizzario.config.ClockSettings`). Functions that read it take a :class:`Clock`, the
configured one unless a caller passes another, so a test can fix the time of day; the Flink
job cannot take a Python object, so the same offset is rendered into its SQL instead (the ping
check of ``sql/10_ingest_pings.sql`` and ``emitted_at`` in ``sql/95_offers.sql``).

Times are shown in the mall's time zone (``data/mall.json``), never the machine's, so what a
command prints does not depend on where it runs.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from datetime import time as time_of_day
from zoneinfo import ZoneInfo

from pizzario.config import ClockSettings, load_config

__all__ = ["Clock", "configured_clock", "fixed_clock", "format_local", "local_datetime"]


@dataclass(frozen=True)
class Clock:
    """The wall clock shifted by a whole number of seconds.

    Parameters
    ----------
    offset_s : int
        Seconds added to the wall clock (negative: the product lives in the past).
    wall : callable
        Seconds since the epoch, :func:`time.time` unless a test passes its own.

    Notes
    -----
    Why an offset and not a fixed start instant that then advances: "now" is read by separate
    processes at different moments (the simulator, the command line, and the Flink job's ping
    reader on every TaskManager, for as long as the job runs and again after each restart from
    a checkpoint). A start instant needs a second fact that all of them must share, the
    wall-clock moment it stands for, and a process started later (a TaskManager brought back
    after a crash, a job resumed from a savepoint) would have to learn it or start the clock
    again. An offset is the clock's whole state: each process adds it to its own wall clock and
    all of them agree, as closely as their wall clocks do. A chosen time of day is still one
    subtraction away (:meth:`at_local_time`), taken once when the offset is set.
    """

    offset_s: int = 0
    wall: Callable[[], float] = field(default=time.time, compare=False, repr=False)

    def now_ms(self) -> int:
        """Now, in epoch milliseconds."""
        return round(self.wall() * 1000) + self.offset_s * 1000

    def now(self) -> datetime:
        """Now, as an aware datetime in UTC."""
        return datetime.fromtimestamp(self.now_ms() / 1000, tz=UTC)

    def from_wall_ms(self, wall_ms: int) -> int:
        """A wall-clock stamp taken outside the product (Flink's job start time) on this clock."""
        return wall_ms + self.offset_s * 1000

    def reading(self, at_ms: int) -> Clock:
        """This clock set so that it reads ``at_ms`` now (to the second) and runs on from there."""
        return Clock(self.offset_s + round((at_ms - self.now_ms()) / 1000), self.wall)

    def at_local_time(self, time_zone: str, at: time_of_day) -> Clock:
        """This clock set to ``at`` in ``time_zone``, on the day this clock says it is there.

        Parameters
        ----------
        time_zone : str
            IANA zone, the mall's (``data/mall.json``).
        at : datetime.time
            The local time of day the new clock reads now.

        Returns
        -------
        Clock
            The same wall clock with the offset that makes it read ``at``.

        Notes
        -----
        The date is kept and only the time of day is chosen, so a test pinned to an hour still
        runs on the day the configured clock says it is. A local time that a daylight-saving
        change skips or repeats is resolved as :mod:`zoneinfo` does (``fold=0``).
        """
        zone = ZoneInfo(time_zone)
        today = self.now().astimezone(zone).date()
        moment = datetime.combine(today, at, tzinfo=zone)
        return self.reading(round(moment.timestamp() * 1000))

    @property
    def settings(self) -> ClockSettings:
        """The configuration section that gives another process this clock."""
        return ClockSettings(offset_s=self.offset_s)


def configured_clock(settings: ClockSettings | None = None) -> Clock:
    """The product's clock: the wall clock with the configured offset.

    Parameters
    ----------
    settings : ClockSettings, optional
        The clock section of a loaded configuration; read from the environment when omitted.
    """
    settings = settings if settings is not None else load_config().clock
    return Clock(offset_s=settings.offset_s)


def fixed_clock(at_ms: int) -> Clock:
    """A clock that always reads ``at_ms`` (for tests of code that reads the time once)."""
    return Clock(wall=lambda: at_ms / 1000)


def local_datetime(at_ms: int, time_zone: str) -> datetime:
    """Epoch milliseconds as an aware datetime in ``time_zone`` (the mall's, for display)."""
    return datetime.fromtimestamp(at_ms / 1000, tz=UTC).astimezone(ZoneInfo(time_zone))


def format_local(at_ms: int, time_zone: str, pattern: str = "%H:%M:%S") -> str:
    """Epoch milliseconds formatted in ``time_zone`` with a :meth:`datetime.strftime` pattern."""
    return local_datetime(at_ms, time_zone).strftime(pattern)
