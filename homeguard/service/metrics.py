"""What the daemon measures, as Prometheus metrics (outputs/metrics.py serves them):
capture, events, rules, outputs, the store, the process and the other sources."""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

import psutil
from sqlite_utils import Database

from homeguard import __version__
from homeguard.outputs.metrics import Metric
from homeguard.service.daemon import Daemon
from homeguard.store.home_assistant import device_states
from homeguard.store.metrics import alert_counts, finding_counts


def counter(name: str, help_text: str, value: float) -> Metric:
    return Metric(name, "counter", help_text, [({}, float(value))])


def gauge(name: str, help_text: str, value: float) -> Metric:
    return Metric(name, "gauge", help_text, [({}, float(value))])


def daemon_metrics(daemon: Daemon, db_path: Path, per_device: bool = False) -> list[Metric]:
    pipeline, counters = daemon.pipeline, daemon.source.counters
    stats = pipeline.stats
    metrics = [
        Metric("homeguard_build_info", "gauge", "HomeGuard's version.", [({"version": __version__}, 1.0)]),
        counter("homeguard_packets_total", "Frames captured on the interface.", counters.packets),
        counter("homeguard_bytes_total", "Bytes captured on the interface.", counters.bytes),
        counter(
            "homeguard_kernel_drops_total",
            "Frames the kernel dropped: no room in the ring.",
            counters.kernel_drops,
        ),
        counter("homeguard_malformed_packets_total", "Frames a decoder rejected.", stats.malformed),
        counter("homeguard_internal_errors_total", "Frames that met a bug (logged).", stats.internal_errors),
        counter(
            "homeguard_shed_packets_total", "Bulk segments counted without decoding, under load.", stats.shed
        ),
        Metric(
            "homeguard_events_total",
            "counter",
            "Events handed to the rules and outputs, by type (only the types one of them wants are built).",
            [({"type": kind}, float(n)) for kind, n in sorted(stats.events_by_type.items())],
        ),
        counter(
            "homeguard_rule_evaluation_seconds_total",
            "Time spent matching events against the rules.",
            daemon.rules.engine.evaluation_seconds if daemon.rules is not None else 0.0,
        ),
        counter(
            "homeguard_output_drops_total", "Events an output's full queue dropped.", pipeline.output_drops()
        ),
        gauge("homeguard_devices", "Devices in memory.", len(pipeline.devices)),
        gauge("homeguard_flows_open", "Flows being tracked.", len(pipeline.flows)),
        Metric(
            "homeguard_source_up",
            "gauge",
            "1 while a source besides the interface works, 0 while it is missing or silent.",
            [
                ({"source": feed.name}, 0.0 if feed.problem(daemon.clock.time()) else 1.0)
                for feed in daemon.feeds
            ],
        ),
        *_process(),
        *_store(db_path, per_device, daemon.clock.time()),
    ]
    return metrics


def _process() -> list[Metric]:
    process = psutil.Process()
    with process.oneshot():
        cpu = process.cpu_times()
        return [
            counter("process_cpu_seconds_total", "CPU time of the HomeGuard process.", cpu.user + cpu.system),
            gauge(
                "process_resident_memory_bytes",
                "Resident memory of the HomeGuard process.",
                process.memory_info().rss,
            ),
        ]


def _store(db_path: Path, per_device: bool, now: float) -> list[Metric]:
    size = sum(os.path.getsize(p) for p in (db_path, Path(f"{db_path}-wal")) if p.exists())
    metrics = [gauge("homeguard_database_bytes", "Size of the database and its write-ahead log.", size)]
    try:
        db = Database(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=1.0))
    except sqlite3.Error:
        return metrics
    try:
        findings = finding_counts(db)
        alerts = alert_counts(db)
        devices = device_states(db, time.strftime("%Y-%m-%d", time.localtime(now))) if per_device else []
    except sqlite3.Error:
        return metrics
    finally:
        db.close()
    if per_device:  # only when the household asked (metrics_per_device)
        labelled = [({"mac": d["mac"], "name": d["name"]}, d) for d in devices]
        metrics.append(
            Metric("homeguard_device_sent_bytes", "gauge", "Bytes a device sent today (metrics_per_device).",
                   [(labels, float(d["sent"])) for labels, d in labelled])
        )  # fmt: skip
        metrics.append(
            Metric("homeguard_device_open_findings", "gauge", "A device's open findings.",
                   [(labels, float(d["open"])) for labels, d in labelled])
        )  # fmt: skip
    metrics.append(
        Metric(
            "homeguard_findings",
            "gauge",
            "Findings kept in the database, by severity and category.",
            [({"severity": s, "category": c}, float(n)) for s, c, n in findings],
        )
    )
    metrics.append(
        Metric(
            "homeguard_alerts",
            "gauge",
            "Alerts in the outbox, by state.",
            [({"state": s}, float(n)) for s, n in alerts],
        )
    )
    return metrics
