"""The pipeline's door to the sessions: TCP payload goes to the flow's session, whose
analyzer the protocol dispatch chose (protocols/dispatch.py). Returns (event type,
fields) for the pipeline."""

from __future__ import annotations

from collections.abc import Callable

from homeguard.decode.packet import TCP_ACK, TCP_SYN, Packet
from homeguard.decode.quic import is_long_header
from homeguard.decode.tls import dtls_client_hello
from homeguard.sessions.base import Analyzer, Emitted, Session
from homeguard.sessions.credentials import DefaultCredentials
from homeguard.sessions.quic import QuicHello, dtls_hello_event
from homeguard.sessions.tls import Tls
from homeguard.state.flows import Flow

SNIFF_SEGMENTS = 8  # payload segments watched for a late start of TLS (XMPP STARTTLS, proxies)
MAX_SESSIONS = 2048  # connections read at once; each holds at most a few tens of KiB


# server port, client port, first payload, whether the client sent it -> the analyzer
Selector = Callable[[int, int, bytes, bool, DefaultCredentials], Analyzer | None]


class SessionReader:
    def __init__(self, select: Selector, defaults: DefaultCredentials) -> None:
        self.select = select
        self.defaults = defaults
        self.sessions_started = 0
        self.max_sessions = MAX_SESSIONS
        self.live = 0  # sessions whose flow is still open
        self.refused = 0  # connections not read because MAX_SESSIONS were being read

    def tcp(self, pkt: Packet, flow: Flow) -> Emitted:
        session = flow.session
        if session is False:
            return []
        from_client = pkt.src_ip == flow.key[1] and pkt.sport == flow.key[2]
        if session is None or isinstance(session, int):
            if pkt.payload_end <= pkt.payload_at:
                return []
            # The responder's port names the service.
            analyzer = self.select(flow.key[4], flow.key[2], pkt.payload(), from_client, self.defaults)
            if analyzer is None:
                # No analyzer yet: keep looking a few segments, for TLS that starts later.
                left = SNIFF_SEGMENTS if session is None else session - 1
                flow.session = left if left > 0 else False
                return []
            if self.live >= self.max_sessions:  # memory stays bounded, whatever a scan opens
                self.refused += 1
                flow.session = False
                return []
            session = flow.session = Session(analyzer, upgrade=Tls)
            self.sessions_started += 1
            self.live += 1
        assert isinstance(session, Session)
        ack = pkt.tcp_ack if pkt.tcp_flags & TCP_ACK else None
        try:
            out = session.segment(from_client, pkt.tcp_seq, bool(pkt.tcp_flags & TCP_SYN), pkt.payload(), ack)
        except Exception:
            self.release(flow)  # a session that failed once reads nothing more of this flow
            raise
        if session.done:
            self.release(flow)  # read what we need: the rest of the flow costs nothing
        return out

    def udp(self, pkt: Packet, flow: Flow) -> Emitted:
        """A UDP flow's datagrams, until it is clear whether its client says hello: a DTLS
        ClientHello in its first datagram, or QUIC Initials in its first few."""
        session = flow.session
        from_client = pkt.src_ip == flow.key[1] and pkt.sport == flow.key[2]
        if session is None:
            if not from_client:
                flow.session = False  # seen from the middle: the hello is gone
                return []
            first = pkt.payload()
            if (hello := dtls_client_hello(first)) is not None:
                flow.session = False
                return dtls_hello_event(hello)
            if not is_long_header(first) or self.live >= self.max_sessions:
                flow.session = False  # not QUIC: the rest of the flow costs nothing more
                return []
            session = flow.session = QuicHello()
            self.sessions_started += 1
            self.live += 1
        if not isinstance(session, QuicHello) or not from_client:
            return []
        out = session.feed(pkt.payload())
        if session.done:
            self.release(flow)
        return out

    def release(self, flow: Flow) -> None:
        """Drop a flow's session, when it is done or its flow ends."""
        if isinstance(flow.session, Session | QuicHello):
            self.live -= 1
        flow.session = False
