"""Where the program is wired: one typed place that builds the pipeline, the state, the
rules, the findings, the store, the outputs and the background threads, for `run`,
`replay`, `rules explain`, doctor and the tests alike.

The seam for capture on several cores runs through here. Capture, decode, flows and
sessions (everything in `Pipeline`) end in `Pipeline.sinks`; everything after that
(the rules, findings, the store, alerts and outputs) hangs off that list.
A worker process would run the first half and send its events to one household process
that runs the second; nothing below this module needs to know.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pluggy
from sqlite_utils import Database

from homeguard.capture.live import open_live, opened_with_advice
from homeguard.capture.ring import RingUnavailable
from homeguard.capture.source import LiveCapture
from homeguard.clock import Clock
from homeguard.events.wanted import TypedSink
from homeguard.ledger.book import LedgerBook
from homeguard.notify.delivery import AppriseNotifier
from homeguard.notify.direct import DirectSender
from homeguard.notify.queue import AlertQueue
from homeguard.notify.service import sender_thread, usable_targets
from homeguard.outputs.export.sender import sender_for
from homeguard.outputs.queued import QueuedSink
from homeguard.pipeline import Pipeline
from homeguard.pipeline.replay import ReplaySummary
from homeguard.plugins.hookspecs import OutputContext
from homeguard.plugins.manager import plugin_manager
from homeguard.plugins.registry import Registry
from homeguard.report.render import report_for_mail
from homeguard.rules.configured import load_rules_for
from homeguard.rules.engine import RuleEngine
from homeguard.rules.lists import IndicatorList
from homeguard.rules.loader import RuleSet
from homeguard.service.selfmonitor import SelfMonitor
from homeguard.settings import Config
from homeguard.store.background import PeriodicThread
from homeguard.store.database import database_path, open_database, open_or_replace_database
from homeguard.store.findings import DatabaseFirstSeenStore
from homeguard.store.ledger import known_pairs
from homeguard.store.queries import learned_infrastructure, load_device_rows
from homeguard.store.resilient import ResilientWriter
from homeguard.store.retention import enforce
from homeguard.store.web import with_dashboard_changes
from homeguard.workers.budget import default_workers, memory_budget
from homeguard.workers.pool import CapturePool, Known

log = logging.getLogger("homeguard.app")
# How long a stopping program waits for a database that cannot be written: a daemon
# must stop within systemd's patience (and our 5 s promise); a replay has time.
DAEMON_EXIT_PATIENCE = 1.0
REPLAY_EXIT_PATIENCE = 60.0
EXPORT_INTERVAL = 1.0  # seconds between the syslog sender's passes


@dataclass
class Household:
    """Everything one running HomeGuard holds. Built by `build`, closed by `close`."""

    config: Config
    clock: Clock
    registry: Registry
    pipeline: Pipeline
    engine: RuleEngine
    ruleset: RuleSet
    writer: ResilientWriter | None = None
    alerts: AlertQueue | None = None
    queued: list[QueuedSink] = field(default_factory=list)  # outputs on threads of their own
    direct: DirectSender | None = None  # urgent alerts while the database is out
    exit_patience: float = DAEMON_EXIT_PATIENCE  # seconds to wait for the database at the end

    @property
    def db(self) -> Database | None:
        """The database as it is now (a damaged one is replaced while running)."""
        return self.writer.db if self.writer is not None else None

    def close(self) -> None:
        """Stop the outputs' threads, write everything out, close the database."""
        for sink in self.queued:
            sink.close()
        if self.direct is not None:
            self.direct.close()
        if self.writer is not None:
            self.writer.flush_before_exit(self.exit_patience)
            self.writer.db.close()


def open_store(config: Config, clock: Clock, direct: DirectSender | None) -> ResilientWriter:
    path = database_path(config.values["db_path"])
    log.info("database %s", path)
    db = open_or_replace_database(path, clock.time())
    return ResilientWriter(
        db,
        config.values["flush_max_rows"],
        path=path,
        clock=clock,
        reopen=lambda: open_database(path),
        bypass=direct,
    )


def build(
    config: Config,
    clock: Clock,
    *,
    store: bool = True,
    rules: bool = True,
    alert_targets: bool = True,
    replay: bool = False,
    manager: pluggy.PluginManager | None = None,
) -> Household:
    """A household: with `store`, on the configured database (and with `alert_targets`,
    alerts queued for the configured targets); with `rules`, the shipped and the user's
    rules; in `replay`, outputs wait rather than drop. The plugins come from `manager`
    (default: the shipped ones and every installed one)."""
    registry = Registry.gather(manager or plugin_manager(), config)
    writer = open_store(config, clock, None) if store else None
    if writer is not None:
        with_dashboard_changes(config, writer.db)  # targets added in the dashboard too
    targets = usable_targets(config) if alert_targets and writer is not None else []
    direct = None
    if targets and writer is not None and not replay:
        direct = DirectSender(targets, AppriseNotifier(), clock, config.values["quiet_hours"])
        writer.bypass = direct
    db = writer.db if writer is not None else None
    if alert_targets and writer is not None and not config.values["notify"]:
        log.warning(
            "no notify targets: findings are recorded, but no alert goes anywhere; "
            "add one under notify: in the config file (docs/alerts.md)"
        )
    alerts = AlertQueue(targets, config.values["language"]) if targets else None
    ruleset = load_rules_for(config, catalog=registry.catalog) if rules else RuleSet()
    for error in ruleset.errors:
        logging.getLogger("homeguard.rules").error("%s", error)
    log.info("%d rules loaded", len(ruleset.rules))
    pipeline = Pipeline(
        config, writer, clock=clock, protocols=registry.dispatch(), enrichers=registry.enrich_functions()
    )
    context = OutputContext(config, clock, replay, db, writer, alerts, pipeline.devices.identity_of)
    first_seen = DatabaseFirstSeenStore(writer) if writer is not None else None
    engine = RuleEngine(ruleset, registry.finding_sinks(context), first_seen)
    specs = registry.event_sinks(context)
    queued = [
        QueuedSink(spec.name, spec.write, spec.max_queue, wait_when_full=replay, close=spec.close)
        for spec in specs
    ]
    monitor = SelfMonitor(clock.time())
    pipeline.output_drops = lambda: sum(q.dropped for q in queued)
    pipeline.health = lambda: {**monitor.sample(), "output_drops": pipeline.output_drops()}
    outputs = [  # an output that reads some event types only is handed those only
        sink if spec.event_types is None else TypedSink(sink, spec.event_types)
        for spec, sink in zip(specs, queued, strict=True)
    ]
    pipeline.sinks = [engine, *outputs]
    if writer is not None:
        known = known_pairs(writer.db)
        announce = functools.partial(pipeline.emit, device_mac=None)  # data_first: to the rules and outputs
        ledger = LedgerBook(writer, config.values["metadata_only"], tracker_lists(ruleset), known, announce)
        pipeline.flow_end_sinks = [ledger]
    pipeline.want_events()  # only what the rules, the outputs and the ledger read is built
    engine.on_rules.append(pipeline.want_events)  # and again when the rules are reloaded
    if db is not None:
        pipeline.devices.restore(*load_device_rows(db, config.values["max_devices"]))
        pipeline.infrastructure.restore(learned_infrastructure(db))
    patience = REPLAY_EXIT_PATIENCE if replay else DAEMON_EXIT_PATIENCE
    return Household(
        config, clock, registry, pipeline, engine, ruleset, writer, alerts, queued, direct, patience
    )


def known_to_workers(household: Household) -> Known:
    """What the household knew at start, so a worker does not announce it again."""
    db = household.db
    if db is None:
        return ([], [], [])
    return (*load_device_rows(db, household.config.values["max_devices"]), learned_infrastructure(db))


def replay_in_workers(
    household: Household, paths: list[str], workers: int, on_bytes: Callable[[int], None] | None = None
) -> ReplaySummary:
    """`homeguard replay --workers N` (workers/replay.py)."""
    from homeguard.workers.replay import replay_in_workers as replay  # only when asked for

    known = known_to_workers(household)
    return replay(household.config, household.pipeline, paths, workers, known, on_bytes)


def open_capture(household: Household, interface: str) -> LiveCapture:
    """Capture workers on every core (workers/pool.py), or, with capture_workers 0 or a
    single core, capture in this process: the ring, else a plain socket."""
    config, pipeline = household.config, household.pipeline
    values = config.values
    workers = values["capture_workers"]
    if workers is None:
        budget = memory_budget()
        workers = default_workers(budget=budget)
        log.info(
            "capture workers: %d for %d cores and %d MiB to use (capture_workers sets it)",
            workers,
            os.cpu_count() or 1,
            budget >> 20,
        )
    if workers and values["capture_ring_mb"] > 0:
        known = known_to_workers(household)
        try:
            pool = opened_with_advice(
                lambda: CapturePool(config, interface, pipeline, workers, known=known),
                interface,
                values["bpf_filter"],
            )
        except RingUnavailable as exc:
            log.warning("no capture workers on %s (%s): capturing in this process", interface, exc.strerror)
        else:
            monitor_health = pipeline.health
            pipeline.health = lambda: {**monitor_health(), **pool.health()}
            return pool
    return open_live(
        interface,
        values["bpf_filter"],
        promiscuous=values["promiscuous"],
        ring_bytes=values["capture_ring_mb"] << 20,
        buffer_bytes=values["socket_buffer_mb"] << 20,
        clock=household.clock,
    )


@contextlib.contextmanager
def background(household: Household) -> Iterator[Callable[[Config], None]]:
    """The alert sender and retention, each on a thread with its own connection, for as
    long as the daemon runs. Yields a function that restarts the sender with a new
    config (SIGHUP)."""
    config, clock = household.config, household.clock
    db_file = database_path(config.values["db_path"])
    senders: list[PeriodicThread] = []
    current = {"config": config}

    def restart_sender(fresh: Config) -> None:
        current["config"] = fresh
        for old in senders:
            old.close()
        senders.clear()
        targets = usable_targets(fresh)
        if targets:
            senders.append(
                sender_thread(db_file, targets, fresh, clock, direct=household.direct, report=report_for_mail)
            )
            senders[0].start()

    def retain(db: Database) -> None:
        report = enforce(db, current["config"], clock.time())
        if report.deleted or report.shed or report.rolled_up:
            logging.getLogger("homeguard.store").info("retention: %s", report)

    if household.alerts is not None:
        restart_sender(config)
    retention = PeriodicThread("retention", db_file, config.values["retention_interval"], retain)
    retention.start()
    exports = sender_for(config.values, clock)  # the SIEM: from the queue on disk
    export_thread = PeriodicThread("export", db_file, EXPORT_INTERVAL, exports.work) if exports else None
    if export_thread is not None:
        export_thread.start()
    try:
        yield restart_sender
    finally:
        retention.close()
        for sender in senders:
            sender.close()
        if export_thread is not None and exports is not None:
            export_thread.close()
            exports.close()


def tracker_lists(ruleset: RuleSet) -> list[IndicatorList]:
    """The lists that name trackers and telemetry, for the ledger's tracker flag."""
    return [ruleset.lists[name] for name in ("trackers", "trackers-external") if name in ruleset.lists]


def rule_loader(household: Household, current: Callable[[], Config]) -> Callable[[RuleSet | None], RuleSet]:
    """How the daemon reloads its rules: with the config in force at that moment, and the
    plugins' fields."""
    catalog = household.registry.catalog
    return lambda previous: load_rules_for(current(), previous=previous, catalog=catalog)


def registry_for(config: Config, entry_points: bool = True) -> Registry:
    """What the plugins provide, for the commands that only list or check (fields,
    plugins, rules check)."""
    return Registry.gather(plugin_manager(entry_points), config)
