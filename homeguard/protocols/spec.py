"""What a protocol module declares: how its traffic is recognised, what handles it, and
the events and fields it produces. The pipeline builds its one dispatch from these
(protocols/dispatch.py); plugins add their own through the `homeguard_analyzers` hook.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from homeguard.decode.packet import Packet
from homeguard.events import Event
from homeguard.events.catalog import FieldSpec
from homeguard.sessions.base import Analyzer, Emitted
from homeguard.sessions.credentials import DefaultCredentials
from homeguard.state.arrivals import Arrivals
from homeguard.state.devices import DeviceInventory
from homeguard.state.dnslog import DnsLog
from homeguard.state.infrastructure import Infrastructure
from homeguard.state.names import ServerNames
from homeguard.store.writer import BatchWriter


class PacketContext(Protocol):
    """What a protocol handler may use of the pipeline: the household's state, and emit."""

    devices: DeviceInventory
    infrastructure: Infrastructure
    arrivals: Arrivals
    server_names: ServerNames
    dns_log: DnsLog
    writer: BatchWriter | None
    metadata_only: frozenset[bytes]
    defaults: DefaultCredentials

    def emit(self, event: Event, device_mac: bytes | None) -> None: ...

    def wants(self, event_type: str) -> bool: ...

    def announce_held(self, mac: bytes | None) -> None: ...

    def session_events(self, ts: float, pkt: Packet, emitted: Emitted) -> None: ...


PacketHandler = Callable[[PacketContext, float, Packet], None]
# A message a stream analyzer hands back to its protocol instead of an event (DNS over TCP).
MessageHandler = Callable[[PacketContext, float, Packet, Any], None]
StreamFactory = Callable[[DefaultCredentials], Analyzer]


@dataclass(frozen=True, slots=True)
class StreamSpec:
    """How a TCP connection is recognised as this protocol, in the order the selector
    asks: `owns_ports` decide before anything else; then `probe` on the first payload
    (by `probe_order`); then the server's port in `ports`; then, for a server that speaks
    first, `greeting`."""

    factory: StreamFactory
    ports: tuple[int, ...] = ()
    owns_ports: bool = False
    probe: Callable[[bytes, bool], bool] | None = None  # payload, from the client
    probe_order: int = 100
    greeting: Callable[[bytes], bool] | None = None
    greeting_order: int = 100
    # The bytes a payload can start with for `probe` or `greeting` to say yes (None: any).
    # The selector asks only the probes a payload's first byte allows, so the bulk of
    # unrecognised traffic costs one table look-up.
    first_bytes: bytes | None = None


@dataclass(frozen=True, slots=True)
class ProtocolSpec:
    name: str
    summary: str
    event_types: Mapping[str, str]  # type -> what it is
    fields: tuple[FieldSpec, ...]
    udp_ports: tuple[int, ...] = ()  # either direction
    udp_dst_ports: tuple[int, ...] = ()  # only to this port (requests)
    ethertypes: tuple[int, ...] = ()  # frames without IP
    icmpv6_types: tuple[int, ...] = ()
    on_packet: PacketHandler | None = None
    stream: StreamSpec | None = None
    messages: Mapping[str, MessageHandler] | None = None
    priority: int = 100  # where two protocols claim a packet's two ports, the lower wins

    def describe(self) -> dict[str, Any]:
        """What `homeguard plugins` shows of it."""
        out: dict[str, Any] = {"name": self.name, "summary": self.summary}
        for label, ports in (("udp", self.udp_ports), ("udp to", self.udp_dst_ports)):
            if ports:
                out[label] = list(ports)
        if self.stream is not None:
            out["tcp"] = list(self.stream.ports) or "by content"
        if self.ethertypes:
            out["ethertype"] = [f"0x{t:04x}" for t in self.ethertypes]
        if self.icmpv6_types:
            out["icmpv6"] = list(self.icmpv6_types)
        out["events"] = list(self.event_types)
        out["fields"] = len(self.fields)
        return out
