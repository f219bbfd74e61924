"""The one clock. Everything that asks what time it is asks a Clock handed down from where
the program is wired (homeguard/app.py for the daemon and replay, the CLI for one-off
commands), so a test can run the program at any moment it likes.

Packet timestamps are not the clock: they come with the frames. The clock answers
"when does the household hear of it" (alerts, mutes, retention) and "is it time yet"
(flushes, statistics, the watchdog).
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def time(self) -> float:
        """Wall-clock seconds since the epoch."""
        ...

    def monotonic(self) -> float:
        """Seconds that only go forward, for intervals and deadlines."""
        ...


class SystemClock:
    """The machine's clocks."""

    def time(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()


class ManualClock:
    """A clock that moves only when told: for tests, and for replaying a day at the speed
    of the disk."""

    def __init__(self, start: float) -> None:
        self.now = start
        self._monotonic = 0.0

    def time(self) -> float:
        return self.now

    def monotonic(self) -> float:
        return self._monotonic

    def advance(self, seconds: float) -> None:
        self.now += seconds
        self._monotonic += seconds

    def set(self, now: float) -> None:
        """Jump the wall clock (as NTP does); monotonic time does not go back."""
        self._monotonic += max(0.0, now - self.now)
        self.now = now
