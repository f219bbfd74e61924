"""homeguard-tld: an example HomeGuard plugin (docs/plugins.md walks through it).

- A field: `server.tld`, the top-level domain of the server's name ("com", "nl", "zip"),
  for rules such as `server.tld: [zip, mov, xyz]`.
- An event sink: every event whose server sits under one of the TLDs in
  $HOMEGUARD_TLD_WATCH (default: zip, mov) is written as one line to $HOMEGUARD_TLD_LOG.
"""

from __future__ import annotations

import os
from typing import IO

from homeguard.events import Event
from homeguard.events.catalog import field
from homeguard.plugins import EnricherSpec, EventSinkSpec, OutputContext, hookimpl
from homeguard.settings import Config

NAMED = ("dns", "tls_client_hello", "http", "flow_start", "flow_end")
TLD = field("server.tld", "str", NAMED, "The top-level domain of the server's name, such as com or zip.")


def add_tld(event: Event) -> None:
    """Runs after the shipped enricher, which sets server.name (lower case, no port)."""
    name = event.get("server.name")
    if isinstance(name, str) and "." in name:
        event["server.tld"] = name.rsplit(".", 1)[1]


@hookimpl
def homeguard_enrichers(config: Config) -> list[EnricherSpec]:
    return [EnricherSpec("tld", add_tld, (TLD,))]


class WatchedTlds:
    def __init__(self, out: IO[str], watched: frozenset[str]) -> None:
        self.out = out
        self.watched = watched

    def __call__(self, event: Event) -> None:
        if event.get("server.tld") in self.watched:
            self.out.write(f"{event['type']} {event.get('device.mac', '-')} {event['server.name']}\n")


@hookimpl
def homeguard_event_sinks(context: OutputContext) -> list[EventSinkSpec]:
    path = os.environ.get("HOMEGUARD_TLD_LOG")
    if not path:
        return []
    watched = frozenset(os.environ.get("HOMEGUARD_TLD_WATCH", "zip,mov").split(","))
    sink = WatchedTlds(open(path, "a", encoding="utf-8"), watched)  # noqa: SIM115
    return [EventSinkSpec("tld-log", sink, sink.out.close)]
