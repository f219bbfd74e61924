"""Shipped plugin: the outputs. Findings go to the database through the findings book
(and from there to the alert outbox); with the events_file setting (`--events`), every
event goes to a JSON-lines file."""

from __future__ import annotations

from collections.abc import Callable

from homeguard.findings.book import FindingsBook
from homeguard.findings.model import Finding
from homeguard.outputs.jsonl import JsonlEvents
from homeguard.plugins.hookspecs import EventSinkSpec, OutputContext, hookimpl
from homeguard.store.outbox import last_alerted


@hookimpl
def homeguard_event_sinks(context: OutputContext) -> list[EventSinkSpec]:
    path = context.config.values["events_file"]
    if not path:
        return []
    out = JsonlEvents.open(path)
    return [EventSinkSpec("events-file", out, out.close)]


@hookimpl
def homeguard_finding_sinks(context: OutputContext) -> list[Callable[[Finding], None]]:
    if context.writer is None:
        return []
    alerted = last_alerted(context.db) if context.db is not None and context.alerts is not None else None
    return [FindingsBook(context.writer, context.clock, context.alerts, alerted)]
