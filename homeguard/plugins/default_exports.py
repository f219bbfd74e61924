"""Shipped plugin: the exports to an IT department's SIEM (docs/fleet.md), on when
export_ecs_file or export_syslog is set. Each finding passes the privacy partition on
the capture thread; what may leave becomes an ECS document, handed to the exporter's
own thread (the ECS file, and the queue on disk that the syslog sender empties). Every
export_health_minutes a health document follows the capture statistics.

A class, not a module, because its two hooks share one exporter per household; a fresh
instance comes with every plugin manager, so there is no module-level state."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from homeguard.events import Event
from homeguard.findings.model import Finding
from homeguard.outputs.export.ecs import Sensor, finding_document, health_document
from homeguard.outputs.export.exporter import Document, Exporter
from homeguard.outputs.export.ndjson import RotatingNdjson
from homeguard.outputs.export.partition import Partition
from homeguard.outputs.queued import QueuedSink
from homeguard.plugins.hookspecs import EventSinkSpec, OutputContext, hookimpl
from homeguard.store.database import database_path


@dataclass
class ExportSetup:
    context: OutputContext
    partition: Partition
    sensor: Sensor
    queue: QueuedSink
    health_every: float
    next_health: float = field(default=0.0)

    def on_finding(self, finding: Finding) -> None:
        exported = self.partition.export(finding)
        if exported is not None:
            doc = finding_document(exported, self.sensor, self.context.clock.time())
            self.queue(Document("finding", finding.severity, doc, finding.ts))

    def on_event(self, event: Event) -> None:
        if event["type"] != "capture_stats" or event["ts"] < self.next_health:
            return
        self.next_health = event["ts"] + self.health_every
        health = {
            "source": event.get("capture.source"),
            "packets": event.get("capture.packets", 0),
            "drops": event.get("capture.drops", 0),
            "drop_ratio": event.get("capture.drop_ratio", 0.0),
            "visibility": event.get("capture.visibility", "unknown"),
            "store_problem": event.get("store.problem") or None,
        }
        doc = health_document(self.sensor, event["ts"], health)
        self.queue(Document("health", "info", doc, event["ts"]))


class ExportPlugin:
    def __init__(self) -> None:
        self._setup: tuple[OutputContext, ExportSetup | None] | None = None

    def setup_for(self, context: OutputContext) -> ExportSetup | None:
        if self._setup is not None and self._setup[0] is context:
            return self._setup[1]
        values = context.config.values
        ecs_file = values["export_ecs_file"]
        to_syslog = values["export_syslog"] is not None and context.db is not None
        setup = None
        if ecs_file or to_syslog:
            rotating = (
                RotatingNdjson(ecs_file, values["export_ecs_max_mb"] << 20, values["export_ecs_files_kept"])
                if ecs_file
                else None
            )
            exporter = Exporter(rotating, database_path(values["db_path"]) if to_syslog else None)
            queue = QueuedSink(
                "export",
                exporter.write,
                wait_when_full=context.replay,
                close=exporter.close,
                finish=exporter.finish,
            )
            setup = ExportSetup(
                context,
                Partition(values["fleet_work_devices"], values["export_min_severity"], context.identity_of),
                Sensor.from_settings(values["fleet_site"], values["fleet_organization"]),
                queue,
                values["export_health_minutes"] * 60.0,
            )
        self._setup = (context, setup)
        return setup

    @hookimpl
    def homeguard_finding_sinks(self, context: OutputContext) -> list[Callable[[Finding], None]]:
        setup = self.setup_for(context)
        return [setup.on_finding] if setup is not None else []

    @hookimpl
    def homeguard_event_sinks(self, context: OutputContext) -> list[EventSinkSpec]:
        setup = self.setup_for(context)
        if setup is None:
            return []
        return [
            EventSinkSpec(
                "export-health",
                setup.on_event,
                setup.queue.close,
                max_queue=1000,
                event_types=frozenset({"capture_stats"}),
            )
        ]
