"""Telling a flood of made-up devices from a household's arrivals.

A tool like macof sends every packet from a new MAC (and IP): each one would become a
device, a flow and a lookup, and the daemon would spend its time and memory on fiction
while real traffic is dropped. A household meets a few new devices a day; even a
mirror port on a busy office network shows a few hundred at start, not thousands in
seconds. So past FLOOD_NEW_MACS new MACs within FLOOD_WINDOW seconds (packet time),
packets from MACs not yet known are counted and skipped: known devices keep their full
analysis, the inventory keeps the devices it had, and one `mac_flood` event says what
happens. The flood ends after FLOOD_CALM_WINDOWS windows below the threshold.
"""

from __future__ import annotations

from dataclasses import dataclass

FLOOD_WINDOW = 10.0  # seconds of packet time
FLOOD_NEW_MACS = 500  # new MACs in one window that make it a flood
FLOOD_CALM_WINDOWS = 6  # windows below the threshold before the flood is over


@dataclass
class FloodReport:
    """A flood's start or end: the fields of a mac_flood event."""

    state: str  # started or ended
    new_macs: int  # new MACs in the window that started it (0 at the end)
    skipped_packets: int  # packets from unknown MACs skipped in this flood
    seconds: float  # how long the flood lasted (0 at the start)


class MacFloodGuard:
    def __init__(self, new_macs: int = FLOOD_NEW_MACS) -> None:
        self.threshold = new_macs  # new MACs in one window that make it a flood
        self.flooding = False
        self._window_end = 0.0
        self._new_in_window = 0
        self._calm_windows = 0
        self._started = 0.0
        self.skipped_packets = 0

    def admit(self, ts: float) -> tuple[bool, FloodReport | None]:
        """A packet from a MAC not in the inventory: may it become a device? And did a
        flood start or end with it?"""
        report = self.advance(ts)
        self._new_in_window += 1
        if self.flooding:
            self.skipped_packets += 1
            return False, report
        if self._new_in_window > self.threshold:
            self.flooding, self._started, self._calm_windows = True, ts, 0
            self.skipped_packets = 1
            return False, FloodReport("started", self._new_in_window, 1, 0.0)
        return True, report

    def advance(self, ts: float) -> FloodReport | None:
        """Move the window to `ts` (also called when no new MAC comes): a flood that
        stayed calm for FLOOD_CALM_WINDOWS windows is over."""
        if ts < self._window_end:
            return None
        # every window since the last one was calm: no new MAC came in it
        passed = int((ts - self._window_end) // FLOOD_WINDOW)
        calm_last = self._new_in_window <= self.threshold
        self._calm_windows = (self._calm_windows + 1 if calm_last else 0) + passed
        self._window_end = ts + FLOOD_WINDOW
        self._new_in_window = 0
        if not self.flooding or self._calm_windows < FLOOD_CALM_WINDOWS:
            return None
        self.flooding = False
        return FloodReport("ended", 0, self.skipped_packets, ts - self._started)
