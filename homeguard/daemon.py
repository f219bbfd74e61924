"""The live daemon loop: a LiveSource through the pipeline, with periodic statistics,
and a clean stop on SIGTERM or SIGINT that writes everything out."""

from __future__ import annotations

import logging
import signal
import threading
import time
from types import FrameType

from homeguard.capture.live import LiveSource
from homeguard.pipeline import Pipeline

log = logging.getLogger("homeguard.daemon")


class Daemon:
    def __init__(self, pipeline: Pipeline, source: LiveSource, stats_interval: float) -> None:
        self.pipeline = pipeline
        self.source = source
        self.stats_interval = stats_interval
        self.stop = source.stop

    def install_signal_handlers(self) -> None:
        def handle(signum: int, _frame: FrameType | None) -> None:
            log.info("received %s: stopping", signal.Signals(signum).name)
            self.stop.set()

        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, handle)
            signal.signal(signal.SIGINT, handle)

    def run(self) -> None:
        pipeline, source = self.pipeline, self.source
        process = pipeline.process
        next_stats = time.time() + self.stats_interval
        log.info("capturing on %s (receive buffer %d KiB)", source.name, source.buffer_bytes // 1024)
        try:
            for frame in source.frames():
                if frame is not None:
                    process(frame)
                    continue
                now = time.time()
                pipeline.maintain(now)
                if now >= next_stats:
                    self._report(now)
                    next_stats = now + self.stats_interval
        finally:
            source.close()
            self._report(time.time())
            pipeline.close()
            log.info("stopped after %d packets", pipeline.stats.packets)

    def _report(self, now: float) -> None:
        counters = self.source.counters
        stats = self.pipeline.stats
        self.pipeline.capture_stats_row(self.source, now)
        log.info(
            "%d packets, %d kernel drops, %d malformed, %d events, %d devices, %d open flows",
            counters.packets,
            counters.kernel_drops,
            stats.malformed,
            stats.events,
            len(self.pipeline.devices),
            len(self.pipeline.flows),
        )
