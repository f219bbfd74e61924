"""Which event types anyone asks for. The pipeline builds an event only when a rule, an
output or the store wants its type: on a busy network most mDNS chatter, for instance,
feeds no rule and no output, and building, enriching and handing round an event that
nobody reads costs more than its decoding.

A sink says what it wants with an `event_types` attribute (a set of type names); a sink
without one (a plain function) wants every type, as before. What the pipeline's own state
needs is parsed whether or not an event is built: an unwanted mDNS answer still names
its device.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from homeguard.events import Event

EventTypes = frozenset[str] | None  # None: every type


def types_wanted(sinks: Iterable[object], also: Iterable[str] = ()) -> EventTypes:
    """The types these sinks ask for, and `also`; None when one of them wants every type."""
    wanted = set(also)
    for sink in sinks:
        types: frozenset[str] | None = getattr(sink, "event_types", None)
        if types is None:
            return None
        wanted.update(types)
    return frozenset(wanted)


@dataclass(frozen=True, slots=True)
class TypedSink:
    """A sink for some event types only: it is handed those, and no others are built for it."""

    write: Callable[[Event], None]
    event_types: frozenset[str]

    def __call__(self, event: Event) -> None:
        if event["type"] in self.event_types:
            self.write(event)
