"""The live daemon loop: a live capture source through the pipeline, with periodic statistics,
and a clean stop on SIGTERM or SIGINT that writes everything out."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from concurrent.futures import Future
from types import FrameType

from homeguard.capture.source import LiveCapture
from homeguard.clock import Clock
from homeguard.pipeline.core import Pipeline
from homeguard.pipeline.feed import Feed
from homeguard.rules.engine import RuleEngine
from homeguard.rules.loader import RuleSet, file_stamps
from homeguard.service.dashboard_watch import DashboardWatch
from homeguard.service.sdnotify import sd_notify, watchdog_interval

log = logging.getLogger("homeguard.daemon")
RULES_CHECK_INTERVAL = 2.0  # seconds between looks at the rule files' modification times


class RuleReloader:
    """Reloads rules on SIGHUP and when rule or list files change, without a restart and
    without losing rule state. A broken file is logged and its last good rules keep running.

    Loading (a threat list may have a million lines: seconds of work) runs on a thread
    of its own; the capture loop only looks in now and then and swaps the new rules in
    when they are ready, so capture never waits for it."""

    def __init__(
        self, engine: RuleEngine, current: RuleSet, load: Callable[[RuleSet | None], RuleSet]
    ) -> None:
        self.engine = engine
        self.load = load
        self.current = current
        self.requested = threading.Event()
        self._next_check = 0.0
        self._loading: Future[RuleSet] | None = None

    def poll(self, now: float) -> None:
        loading = self._loading
        if loading is not None:
            if loading.done():
                self._loading = None
                self._swap(loading)
            return
        if not self.requested.is_set() and now < self._next_check:
            return
        self._next_check = now + RULES_CHECK_INTERVAL
        changed = (
            self.requested.is_set()
            or file_stamps(self.current.directories, self.current.list_directories) != self.current.stamps
        )
        self.requested.clear()
        if changed:
            self._loading = self._start_loading()

    def _start_loading(self) -> Future[RuleSet]:
        future: Future[RuleSet] = Future()
        previous = self.current

        def work() -> None:
            try:
                future.set_result(self.load(previous))
            except BaseException as exc:  # reported by _swap in the capture thread
                future.set_exception(exc)

        threading.Thread(target=work, name="homeguard-rules", daemon=True).start()
        return future

    def _swap(self, loaded: Future[RuleSet]) -> None:
        try:
            fresh = loaded.result()
        except Exception:  # a bug in loading: the running rules stay
            log.exception("reloading the rules failed; the running rules stay")
            return
        for error in fresh.errors:
            log.error("rule error (the last good version keeps running): %s", error)
        self.engine.set_rules(fresh)
        self.current = fresh
        log.info("rules reloaded: %d active", len(fresh.rules))


FIRST_STATS = 10.0  # seconds to the first statistics line; then every stats_interval
CALM_SECONDS = 60.0  # without kernel drops before shedding stops


class Daemon:
    def __init__(self, pipeline: Pipeline, source: LiveCapture, stats_interval: float, clock: Clock) -> None:
        self.pipeline = pipeline
        self.clock = clock
        self.source = source
        self.stats_interval = stats_interval
        self.stop = source.stop
        self.rules: RuleReloader | None = None
        self.reload_config: Callable[[], None] | None = None  # SIGHUP: the config file again
        self.dashboard: DashboardWatch | None = None  # changes made in the dashboard
        self.feeds: list[Feed] = []  # sources besides the interface (plugins' homeguard_sources)
        self._config_requested = threading.Event()
        self._drops_seen = 0
        self._last_drop = 0.0

    def install_signal_handlers(self) -> None:
        def handle(signum: int, _frame: FrameType | None) -> None:
            log.info("received %s: stopping", signal.Signals(signum).name)
            self.stop.set()

        def reload(_signum: int, _frame: FrameType | None) -> None:
            log.info("received SIGHUP: reloading the config and the rules")
            self._config_requested.set()
            if self.rules is not None:
                self.rules.requested.set()

        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, handle)
            signal.signal(signal.SIGINT, handle)
            signal.signal(signal.SIGHUP, reload)

    def run(self) -> None:
        pipeline, source = self.pipeline, self.source
        process = pipeline.process
        clock = self.clock
        # the first statistics line soon, so a new user sees that packets arrive
        next_stats = clock.time() + min(self.stats_interval, FIRST_STATS)
        keepalive = watchdog_interval()
        next_keepalive = 0.0
        log.info("capturing on %s (%s of %d KiB)", source.name, source.kind, source.buffer_bytes // 1024)
        sd_notify(f"READY=1\nSTATUS=capturing on {source.name}")
        try:
            for frame in source.frames():
                if frame is not None:
                    process(frame)
                    if pipeline.frame_no & 0x3FF:
                        continue  # a busy source yields no idle ticks: look up every 1024 frames
                now = clock.time()
                self._shed_if_dropping(source.counters.kernel_drops, now)
                caught_up = source.caught_up(now)  # what arrives after it waits for the capture
                for feed in self.feeds:
                    feed.drain(pipeline, caught_up)
                pipeline.maintain(now)
                if self.dashboard is not None and self.dashboard.changed(now):
                    log.info("changed in the dashboard: reloading the config and the rules")
                    self._config_requested.set()
                    if self.rules is not None:  # the learning period shapes the rules
                        self.rules.requested.set()
                if self._config_requested.is_set() and self.reload_config is not None:
                    self._config_requested.clear()
                    self.reload_config()  # before the rules: they load with the new config
                if self.rules is not None:
                    self.rules.poll(now)
                if now >= next_stats:
                    self._report(now)
                    next_stats = now + self.stats_interval
                if keepalive is not None and now >= next_keepalive:
                    # from the capture loop itself: a hung loop stops the keep-alives
                    sd_notify("WATCHDOG=1")
                    next_keepalive = now + keepalive
        finally:
            sd_notify("STOPPING=1")
            if self.dashboard is not None:
                self.dashboard.close()
            for feed in self.feeds:
                feed.drain(pipeline, float("inf"))  # what arrived, paired or not
                feed.close()
            source.close()
            self._report(clock.time(), final=True)
            pipeline.close()
            log.info("stopped after %d packets", pipeline.stats.packets)

    def _shed_if_dropping(self, drops: int, now: float) -> None:
        """Shed bulk from the first tick that sees a kernel drop (the ring counts them per
        block, so within a second of the first); full detail again after CALM_SECONDS
        without any."""
        pipeline = self.pipeline
        if drops > self._drops_seen:
            self._last_drop = now
            if not pipeline.shedding:
                log.warning(
                    "the kernel dropped %d packets: shedding bulk flow detail", drops - self._drops_seen
                )
                pipeline.shedding = True
        elif pipeline.shedding and now - self._last_drop >= CALM_SECONDS:
            log.info("no drops for %.0f s: full detail again", CALM_SECONDS)
            pipeline.shedding = False
        self._drops_seen = drops

    def _report(self, now: float, final: bool = False) -> None:
        counters = self.source.counters
        stats = self.pipeline.stats
        self.pipeline.capture_stats(self.source, now, final)
        log.info(
            "%d packets, %d kernel drops, %d malformed, %d events, %d devices, %d open flows",
            counters.packets,
            counters.kernel_drops,
            stats.malformed,
            stats.events,
            len(self.pipeline.devices),
            len(self.pipeline.flows),
        )
