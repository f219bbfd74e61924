"""HomeGuard watching itself: its CPU and memory, sampled with psutil into every
capture_stats row, so `homeguard status` and doctor can show them."""

from __future__ import annotations

import contextlib
from typing import Any

import psutil


class SelfMonitor:
    def __init__(self, started: float) -> None:
        self.process = psutil.Process()
        self.started = started  # from the program's clock, as every capture_stats ts is
        # The first call only starts the measurement; systemd's ProcSubset=pid may hide /proc/stat.
        with contextlib.suppress(psutil.Error, OSError):
            self.process.cpu_percent(None)

    def sample(self) -> dict[str, Any]:
        """CPU percent since the last sample (100 = one core), resident memory in bytes."""
        try:
            with self.process.oneshot():
                return {
                    "cpu_percent": self.process.cpu_percent(None),
                    "rss_bytes": self.process.memory_info().rss,
                    "started": self.started,
                }
        except (psutil.Error, OSError):  # /proc unreadable (a locked-down service): leave them empty
            return {"cpu_percent": None, "rss_bytes": None, "started": self.started}
