"""Shipped plugin: Home Assistant over MQTT (outputs/home_assistant.py), with mqtt_url.
A class, not a module, because its two hooks share one publisher per household: the
findings go to it, and device arrivals (events, behind the output queue) make it publish."""

from __future__ import annotations

from collections.abc import Callable

from homeguard.findings.model import Finding
from homeguard.outputs.home_assistant import PUBLISHED_ON, HomeAssistantPublisher
from homeguard.plugins.hookspecs import EventSinkSpec, OutputContext, hookimpl
from homeguard.store.database import database_path


class HomeAssistantPlugin:
    def __init__(self) -> None:
        self.publisher: HomeAssistantPublisher | None = None

    def _publisher(self, context: OutputContext) -> HomeAssistantPublisher | None:
        values = context.config.values
        if self.publisher is None and values["mqtt_url"] and context.db is not None and not context.replay:
            self.publisher = HomeAssistantPublisher(values, database_path(values["db_path"]), context.clock)
        return self.publisher

    @hookimpl
    def homeguard_finding_sinks(self, context: OutputContext) -> list[Callable[[Finding], None]]:
        publisher = self._publisher(context)
        return [publisher] if publisher is not None else []

    @hookimpl
    def homeguard_event_sinks(self, context: OutputContext) -> list[EventSinkSpec]:
        publisher = self._publisher(context)
        if publisher is None:
            return []
        return [
            EventSinkSpec(
                "home-assistant",
                publisher.on_event,
                publisher.close,
                max_queue=1000,
                event_types=PUBLISHED_ON,
            )
        ]
