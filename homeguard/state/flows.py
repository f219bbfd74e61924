"""The flow table: one entry per connection, counting packets and bytes each way.

The side that sent the first packet seen is the initiator ("src", "out").
A flow ends when TCP closes it (FIN both ways, or RST; a short linger keeps the
final ACKs in the same flow), when it is idle too long, when the table is full
(the oldest flows are evicted), or at shutdown.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from homeguard.bounded import make_room
from homeguard.decode.packet import PROTO_ICMP, PROTO_ICMPV6

FlowKey = tuple[int, bytes, int, bytes, int]  # proto, initiator ip/port, responder ip/port
CLOSE_LINGER = 5.0  # seconds a closed TCP flow stays, to absorb its last ACKs


@dataclass(slots=True)
class Flow:
    key: FlowKey
    start: float
    last: float
    src_mac: bytes | None
    dst_mac: bytes | None
    server_name: str | None = None
    name_source: str = ""  # where server_name came from: tls (SNI), http (Host) or dns
    cnames: tuple[str, ...] = ()  # the CNAME chain of the DNS answer that named it
    packets_out: int = 0
    bytes_out: int = 0
    packets_in: int = 0
    bytes_in: int = 0
    fins: int = 0  # bit 1: FIN from the initiator, bit 2: FIN from the responder
    closed_at: float = 0.0
    end_reason: str = ""
    handshake: bool = False  # TCP: the SYN or SYN-ACK was seen, so src is surely the client
    established: bool = False  # the responder accepted: a SYN-ACK, or any answer but a reset
    direction: str = ""  # inbound, outbound, internal or external (events/builders.flow_direction)
    device_mac: bytes | None = None  # the household's side of the flow, which its events are about
    # The application session reading this flow's payload (sessions/): None until the first
    # payload, a count of segments still to sniff, or False when no analyzer wants it (then
    # payload costs one attribute check).
    session: Any = None


class FlowTable:
    def __init__(self, max_flows: int, idle_timeout: float) -> None:
        self.max_flows = max_flows
        self.idle_timeout = idle_timeout
        self.flows: dict[FlowKey, Flow] = {}
        self.evicted = 0

    def __len__(self) -> int:
        return len(self.flows)

    @staticmethod
    def key_ports(proto: int, sport: int, dport: int) -> tuple[int, int]:
        """ICMP has no ports: its type and code would split a ping from its reply."""
        if proto in (PROTO_ICMP, PROTO_ICMPV6):
            return 0, 0
        return sport, dport

    def start(
        self, key: FlowKey, ts: float, src_mac: bytes | None, dst_mac: bytes | None, wirelen: int
    ) -> tuple[Flow, list[Flow]]:
        """Open a flow for a packet that matched none. Returns it and any flows evicted."""
        evicted: list[Flow] = []
        if len(self.flows) >= self.max_flows:
            evicted = self._evict_oldest()
        flow = Flow(key, ts, ts, src_mac, dst_mac, packets_out=1, bytes_out=wirelen)
        self.flows[key] = flow
        return flow, evicted

    def _evict_oldest(self) -> list[Flow]:
        oldest = make_room(self.flows, self.max_flows)  # dicts keep insertion order: oldest first
        for flow in oldest:
            flow.end_reason = "evicted"
        self.evicted += len(oldest)
        return oldest

    def expire(self, now: float) -> list[Flow]:
        """Remove and return the flows that have ended by `now`."""
        idle_before = now - self.idle_timeout
        linger_before = now - CLOSE_LINGER
        ended = []
        for key, flow in list(self.flows.items()):
            if flow.closed_at and flow.closed_at < linger_before:
                ended.append(flow)
            elif flow.last < idle_before:
                flow.end_reason = "idle"
                ended.append(flow)
            else:
                continue
            del self.flows[key]
        return ended

    def drain(self) -> Iterator[Flow]:
        """Remove every flow, at shutdown."""
        while self.flows:
            _, flow = self.flows.popitem()
            if not flow.end_reason:
                flow.end_reason = "shutdown"
            yield flow
