"""HomeGuard watching itself: its CPU and memory, sampled with psutil into every
capture_stats row, so `homeguard status` and doctor can show them."""

from __future__ import annotations

import contextlib
from typing import Any

import psutil


class SelfMonitor:
    """CPU and memory of HomeGuard: this process and its capture workers together."""

    def __init__(self, started: float) -> None:
        self.process = psutil.Process()
        self.started = started  # from the program's clock, as every capture_stats ts is
        self._children: dict[int, psutil.Process] = {}
        # The first call only starts the measurement; systemd's ProcSubset=pid may hide /proc/stat.
        with contextlib.suppress(psutil.Error, OSError):
            self.process.cpu_percent(None)

    def sample(self) -> dict[str, Any]:
        """CPU percent since the last sample (100 = one core), resident memory in bytes."""
        try:
            with self.process.oneshot():
                cpu = self.process.cpu_percent(None)
                rss = self.process.memory_info().rss
            for child in self._workers():
                with contextlib.suppress(psutil.Error, OSError):  # it may just have ended
                    cpu += child.cpu_percent(None)
                    rss += child.memory_info().rss
            return {"cpu_percent": cpu, "rss_bytes": rss, "started": self.started}
        except (psutil.Error, OSError):  # /proc unreadable (a locked-down service): leave them empty
            return {"cpu_percent": None, "rss_bytes": None, "started": self.started}

    def _workers(self) -> list[psutil.Process]:
        """The child processes, each kept from one sample to the next (psutil measures a
        process's CPU since its previous call on the same object)."""
        current = {child.pid: child for child in self.process.children()}
        kept = {pid: self._children.get(pid, child) for pid, child in current.items()}
        for pid, child in kept.items():
            if pid not in self._children:
                with contextlib.suppress(psutil.Error, OSError):
                    child.cpu_percent(None)  # starts its measurement
        self._children = kept
        return list(kept.values())
