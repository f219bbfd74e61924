"""HomeGuard watching itself: its CPU and memory, sampled with psutil into every
capture_stats row, so `homeguard status` and doctor can show them."""

from __future__ import annotations

from typing import Any

import psutil


class SelfMonitor:
    def __init__(self) -> None:
        self.process = psutil.Process()
        self.started: float | None = None
        try:
            self.process.cpu_percent(None)  # the first call only starts the measurement
            self.started = self.process.create_time()
        except (psutil.Error, OSError):  # systemd's ProcSubset=pid hides /proc/stat
            pass

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
