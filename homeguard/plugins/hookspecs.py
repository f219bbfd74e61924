"""The hooks a plugin may implement, and the small types they return. Every hook
returns a list (pluggy gathers one list per plugin); a plugin implements only the
hooks it needs, with `@hookimpl` from `homeguard.plugins`.

pluggy is what pytest, tox and datasette use: hooks declared once, implementations
found through entry points, and calls that check their arguments by name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pluggy

from homeguard.clock import Clock
from homeguard.events import Event
from homeguard.events.catalog import FieldSpec
from homeguard.pipeline.feed import Feed
from homeguard.settings import Config

if TYPE_CHECKING:
    import click
    from sqlite_utils import Database

    from homeguard.findings.book import AlertRows
    from homeguard.findings.model import Finding
    from homeguard.protocols.spec import ProtocolSpec
    from homeguard.store.writer import BatchWriter

PROJECT = "homeguard"  # also the entry-point group plugins register under
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@dataclass(frozen=True, slots=True)
class EnricherSpec:
    """A field provider: `enrich` adds fields to events in place, before any rule sees
    them; `fields` declares them for the catalog (`homeguard fields`, `rules check`)."""

    name: str
    enrich: Callable[[Event], None]
    fields: tuple[FieldSpec, ...] = ()


@dataclass(frozen=True, slots=True)
class EventSinkSpec:
    """An output of events. It runs on a thread of its own behind a queue of
    `max_queue` events: live, what does not fit is dropped and counted. With
    `event_types`, it is handed only events of those types, and the pipeline builds no
    event that neither it nor a rule nor another output wants (events/wanted.py); None
    asks for every type."""

    name: str
    write: Callable[[Event], None]
    close: Callable[[], None] | None = None
    max_queue: int = 10_000
    event_types: frozenset[str] | None = None


@dataclass(frozen=True, slots=True)
class SourceSpec:
    """A way of seeing the household besides the capture interface, such as flow export
    from the router. `start` opens it for the live daemon (never for a replay)."""

    name: str
    start: Callable[[], Feed]


@dataclass(frozen=True, slots=True)
class OutputContext:
    """What an output may use: the config, the clock, and, where there is a database,
    its batch writer and the alert queue."""

    config: Config
    clock: Clock
    replay: bool
    db: Database | None = None
    writer: BatchWriter | None = None
    alerts: AlertRows | None = None
    identity_of: Callable[[str], str | None] | None = None  # a device's identity by its MAC


class HookSpecs:
    @hookspec
    def homeguard_analyzers(self) -> list[ProtocolSpec]:  # type: ignore[empty-body]
        """Protocol modules: how each is recognised (ports, a probe of the first bytes),
        what reads it, and the event types and fields it produces."""

    @hookspec
    def homeguard_enrichers(self, config: Config) -> list[EnricherSpec]:  # type: ignore[empty-body]
        """Field providers, run on every event in registration order."""

    @hookspec
    def homeguard_sources(self, config: Config) -> list[SourceSpec]:  # type: ignore[empty-body]
        """Live sources besides the capture interface (flow export, resolver logs)."""

    @hookspec
    def homeguard_event_sinks(self, context: OutputContext) -> list[EventSinkSpec]:  # type: ignore[empty-body]
        """Outputs of every event (after enrichment), each behind its own queue."""

    @hookspec
    def homeguard_finding_sinks(self, context: OutputContext) -> list[Callable[[Finding], None]]:  # type: ignore[empty-body]
        """Outputs of every finding, called on the packet thread: keep them fast, or
        queue the work (as the findings book does with the batch writer)."""

    @hookspec
    def homeguard_commands(self) -> list[click.Command]:  # type: ignore[empty-body]
        """Commands added to the `homeguard` command line."""
