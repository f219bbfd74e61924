"""The one dispatch: which protocol reads a packet or a connection, built once from the
registered protocol specs (the shipped ones and any plugin's)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from homeguard.protocols.spec import MessageHandler, PacketHandler, ProtocolSpec, StreamFactory, StreamSpec
from homeguard.sessions.base import Analyzer
from homeguard.sessions.credentials import DefaultCredentials

GREETING_BYTES = 128  # a server's greeting names it within its first line
Probe = tuple[Callable[[bytes, bool], bool], StreamFactory]
Greeting = tuple[Callable[[bytes], bool], StreamFactory]


class ProtocolDispatch:
    def __init__(self, specs: Iterable[ProtocolSpec]) -> None:
        self.specs = tuple(sorted(specs, key=lambda s: s.priority))
        self.udp: dict[int, tuple[int, PacketHandler]] = {}
        self.udp_to: dict[int, PacketHandler] = {}
        self.ethertypes: dict[int, PacketHandler] = {}
        self.icmpv6: dict[int, PacketHandler] = {}
        self.messages: dict[str, MessageHandler] = {}
        for spec in self.specs:  # by priority: the first to claim a port keeps it
            self._add(spec)
        self.streams = StreamSelector(self.specs)

    def _add(self, spec: ProtocolSpec) -> None:
        handler = spec.on_packet
        if handler is not None:
            for port in spec.udp_ports:
                self.udp.setdefault(port, (spec.priority, handler))
            for port in spec.udp_dst_ports:
                self.udp_to.setdefault(port, handler)
            for ethertype in spec.ethertypes:
                self.ethertypes.setdefault(ethertype, handler)
            for icmp_type in spec.icmpv6_types:
                self.icmpv6.setdefault(icmp_type, handler)
        for name, on_message in (spec.messages or {}).items():
            self.messages.setdefault(name, on_message)

    def udp_handler(self, sport: int, dport: int) -> PacketHandler | None:
        """The protocol of a datagram: by either port (the better priority where both are
        claimed), else by its destination port alone."""
        to_dst, from_src = self.udp.get(dport), self.udp.get(sport)
        if to_dst is not None:
            return to_dst[1] if from_src is None or to_dst[0] <= from_src[0] else from_src[1]
        if from_src is not None:
            return from_src[1]
        return self.udp_to.get(dport)


class StreamSelector:
    """Which analyzer reads a TCP connection: a port a protocol owns outright (DNS), then
    the first bytes where they are telling (TLS, HTTP, SSH, MQTT), then the server's port,
    then a server's greeting on any port."""

    def __init__(self, specs: Iterable[ProtocolSpec]) -> None:
        streams = [s.stream for s in specs if s.stream is not None]
        self.owned: dict[int, StreamFactory] = {}
        self.by_port: dict[int, StreamFactory] = {}
        for stream in streams:
            for port in stream.ports:
                (self.owned if stream.owns_ports else self.by_port).setdefault(port, stream.factory)
        probes: list[tuple[StreamSpec, Probe]] = sorted(
            ((s, (s.probe, s.factory)) for s in streams if s.probe is not None),
            key=lambda p: p[0].probe_order,
        )
        greetings: list[tuple[StreamSpec, Greeting]] = sorted(
            ((s, (s.greeting, s.factory)) for s in streams if s.greeting is not None),
            key=lambda g: g[0].greeting_order,
        )
        # By a payload's first byte: the probes (and greetings) that could say yes to it.
        self.probes_at = [tuple(p for s, p in probes if _may_start(s, byte)) for byte in range(256)]
        self.greetings_at = [tuple(g for s, g in greetings if _may_start(s, byte)) for byte in range(256)]

    def analyzer_for(
        self,
        server_port: int,
        other_port: int,
        payload: bytes,
        from_client: bool,
        defaults: DefaultCredentials,
    ) -> Analyzer | None:
        # An owned port decides also when the capture began mid-way and the first packet
        # seen came from the server.
        factory = self.owned.get(server_port) or self.owned.get(other_port)
        if factory is None and payload:
            factory = next(
                (f for probe, f in self.probes_at[payload[0]] if probe(payload, from_client)), None
            )
        if factory is None:
            factory = self.by_port.get(server_port)
        if factory is None and not from_client and payload:
            head = payload[:GREETING_BYTES]
            factory = next((f for greeting, f in self.greetings_at[payload[0]] if greeting(head)), None)
        return None if factory is None else factory(defaults)


def _may_start(stream: StreamSpec, byte: int) -> bool:
    return stream.first_bytes is None or byte in stream.first_bytes
