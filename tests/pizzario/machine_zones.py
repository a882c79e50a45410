"""Run a piece of code under several machine time zones, for tests of what is displayed."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import TypeVar

__all__ = ["MACHINE_ZONES", "under_machine_zones"]

T = TypeVar("T")

# UTC, the earliest zone on Earth (UTC+14) and one with daylight saving, far from the mall's.
MACHINE_ZONES = ("UTC", "Pacific/Kiritimati", "America/Los_Angeles")


def under_machine_zones(render: Callable[[], T]) -> set[T]:
    """The distinct results of ``render`` with the process's ``TZ`` set to each machine zone.

    Notes
    -----
    :func:`time.tzset` makes the C library re-read ``TZ``, which is what ``time.localtime`` and
    naive ``datetime`` conversions use; the previous value is restored after, so a failing
    render leaves no other test under a foreign zone.
    """
    saved = os.environ.get("TZ")
    results = set()
    try:
        for zone in MACHINE_ZONES:
            os.environ["TZ"] = zone
            time.tzset()
            results.add(render())
    finally:
        if saved is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = saved
        time.tzset()
    return results
