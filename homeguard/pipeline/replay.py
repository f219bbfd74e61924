"""Replaying capture files through the same pipeline as live capture."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from homeguard.capture.pcapfile import PcapFileSource
from homeguard.errors import CaptureFileError
from homeguard.pipeline.core import Pipeline


@dataclass(slots=True)
class ReplaySummary:
    files: int = 0
    packets: int = 0
    seconds: float = 0.0
    devices: int = 0  # in memory at the end; with separate, summed over the networks
    truncated: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # one line per unreadable file

    @property
    def pps(self) -> float:
        return self.packets / self.seconds if self.seconds > 0 else 0.0


def total_bytes(paths: list[str]) -> int:
    return sum(os.path.getsize(p) for p in paths if os.path.isfile(p))


def replay_files(
    pipeline: Pipeline,
    paths: list[str],
    on_bytes: Callable[[int], None] | None = None,
    separate: bool = False,
) -> ReplaySummary:
    """Replay every file; a bad file is reported and the others still run. With
    `separate`, each file is its own network (Pipeline.start_network between them)."""
    summary = ReplaySummary()
    started = time.perf_counter()
    for path in paths:
        source = PcapFileSource(path)
        try:
            pipeline.run(source, replay=True, on_progress=on_bytes)
        except CaptureFileError as exc:
            summary.failed.append(str(exc))
        summary.files += 1
        summary.packets += source.counters.packets
        if source.counters.truncated:
            summary.truncated.append(path)
        pipeline.capture_stats(source, pipeline.last_ts)
        if separate:
            pipeline.close()  # this network's flows, lookups and devices are written
            summary.devices += len(pipeline.devices)
            pipeline.start_network()
    pipeline.close()
    summary.devices += len(pipeline.devices)
    summary.seconds = time.perf_counter() - started
    return summary
