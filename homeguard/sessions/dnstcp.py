"""DNS over TCP, read from the reassembled stream: each message has a two-byte length,
and a message may span segments (large answers, zone transfers, TKEY)."""

from __future__ import annotations

from homeguard.decode.dns import parse_dns, tcp_frames
from homeguard.errors import DecodeError
from homeguard.sessions.base import Emitted

DNS_MESSAGE = "_dns_message"  # not an event: the pipeline handles it as any DNS message
MAX_MESSAGES = 64  # per connection; then the rest (a zone transfer) is left alone


class DnsTcp:
    def __init__(self) -> None:
        self.buffers = {True: b"", False: b""}
        self.messages = 0
        self.done = False

    def feed(self, from_client: bool, data: bytes | None) -> Emitted:
        if data is None:  # lost bytes: drop the partial message; the next segment most
            self.buffers[from_client] = b""  # likely starts a new one, with its length
            return []
        frames, rest = tcp_frames(self.buffers[from_client] + data)
        out: Emitted = []
        for message in frames[: MAX_MESSAGES - self.messages]:
            self.messages += 1
            try:
                out.append((DNS_MESSAGE, {"message": parse_dns(message)}))
            except DecodeError:
                continue  # one bad message; the next length prefix still frames the stream
        self.buffers[from_client] = rest if len(rest) <= 65537 else b""
        self.done = self.messages >= MAX_MESSAGES
        return out
