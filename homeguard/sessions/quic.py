"""The client's hello over UDP: DTLS's in one datagram, and QUIC's first flight: its Initial packets, opened
(decode/quic.py), and their CRYPTO frames put back in order until the ClientHello is
whole. A post-quantum key share makes the hello too big for one packet, so it may span
two or more. The work per connection is bounded: a few packets and 16 KiB of hello."""

from __future__ import annotations

from homeguard.decode.quic import VERSION_2, is_initial, open_initial
from homeguard.decode.tls import CLIENT_HELLO, parse_client_hello
from homeguard.errors import DecodeError
from homeguard.sessions.base import Emitted
from homeguard.sessions.tls import client_hello_fields

MAX_INITIALS = 8  # client Initials read before giving up on a hello
MAX_DATAGRAMS = 24  # and datagrams of any kind
MAX_HELLO = 16384


class QuicHello:
    def __init__(self) -> None:
        self.chunks: dict[int, bytes] = {}
        self.datagrams = 0
        self.initials = 0
        self.key_dcid: bytes | None = None  # the client's first DCID: the Initial keys' source
        self.done = False

    def feed(self, datagram: bytes) -> Emitted:
        """One datagram from the client; the hello's event once it is whole."""
        self.datagrams += 1
        if self.datagrams >= MAX_DATAGRAMS:
            self.done = True  # bounded: the work per connection stops here
        if not is_initial(datagram):
            return []  # 0-RTT or later: an Initial of the hello may still come, reordered
        self.initials += 1
        if self.initials >= MAX_INITIALS:
            self.done = True
        try:
            initial = open_initial(datagram, self.key_dcid)
        except DecodeError:
            if self.key_dcid is None:
                self.done = True  # the first Initial does not open: not a client's QUIC
            return []
        if self.key_dcid is None:
            self.key_dcid = initial.dcid
        for offset, data in initial.crypto:
            if offset + len(data) <= MAX_HELLO:
                self.chunks[offset] = data
        hello = self._whole_hello()
        if hello is None:
            return []
        self.done = True
        try:
            fields = client_hello_fields(parse_client_hello(hello), transport="q")
        except DecodeError:
            return []
        fields["tls.quic"] = True
        fields["quic.version"] = "2" if initial.version == VERSION_2 else "1"
        return [("tls_client_hello", fields)]

    def _whole_hello(self) -> bytes | None:
        """The ClientHello's body, once the CRYPTO stream from offset 0 holds all of it."""
        stream, end = b"", 0
        while end in self.chunks:
            stream += self.chunks[end]
            end += len(self.chunks[end])
            if len(stream) >= 4:
                if stream[0] != CLIENT_HELLO:
                    self.done = True
                    return None
                size = int.from_bytes(stream[1:4], "big")
                if len(stream) >= 4 + size:
                    return stream[4 : 4 + size]
        return None


def dtls_hello_event(body: bytes) -> Emitted:
    """A DTLS ClientHello (WebRTC, VPNs, IoT over CoAP): the same fields as over TCP, with
    JA4's "d"."""
    try:
        fields = client_hello_fields(parse_client_hello(body, dtls=True), transport="d")
    except DecodeError:
        return []
    fields["tls.dtls"] = True
    return [("tls_client_hello", fields)]
