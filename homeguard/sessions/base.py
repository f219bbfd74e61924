"""What every session has: two reassembled directions, and an analyzer that reads them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from homeguard.sessions.streams import Direction

Emitted = list[tuple[str, dict[str, Any]]]  # (event type, fields) for the pipeline to dress
CLIENT_BYTES = 16384
SERVER_BYTES = 16384
MAX_LINE = 4096


class Analyzer(Protocol):
    """Reads one connection. `data` is None where bytes were lost."""

    @property
    def done(self) -> bool: ...

    def feed(self, from_client: bool, data: bytes | None) -> Emitted: ...


CONTROL_CHANNEL_BYTES = 1 << 20  # line protocols: logins can come late in a long session


class Session:
    """`upgrade` makes the analyzer that takes over when a protocol switches to TLS."""

    def __init__(self, analyzer: Analyzer, upgrade: Callable[[], Analyzer]) -> None:
        self.analyzer = analyzer
        self.upgrade = upgrade
        limit = CONTROL_CHANNEL_BYTES if getattr(analyzer, "control_channel", False) else CLIENT_BYTES
        self.client = Direction(limit)
        self.server = Direction(limit if limit > SERVER_BYTES else SERVER_BYTES)

    @property
    def done(self) -> bool:
        return self.analyzer.done or (self.client.done and self.server.done)

    def segment(
        self, from_client: bool, seq: int, syn: bool, payload: bytes, ack: int | None = None
    ) -> Emitted:
        direction = self.client if from_client else self.server
        if ack is not None:  # this packet acknowledges the other direction's bytes
            (self.server if from_client else self.client).peer_ack = ack
        out: Emitted = []
        for run in direction.add(seq, payload, syn):
            out += self.analyzer.feed(from_client, run)
            if getattr(self.analyzer, "starts_tls", False):  # STARTTLS, AUTH TLS, HTTP CONNECT
                self.analyzer = self.upgrade()
            elif self.analyzer.done:
                break
        return out


class Lines:
    """Splits one direction's bytes into lines; a line longer than MAX_LINE is dropped."""

    def __init__(self) -> None:
        self.partial = b""
        self.skip = 0  # bytes to pass over before the next line (SMTP BDAT chunks)
        # A hook: given a line, how many raw (non-line) bytes follow it.
        self.skip_after: Callable[[bytes], int] | None = None

    def feed(self, data: bytes | None) -> list[bytes]:
        if data is None:  # a gap: the line in progress is lost
            self.partial = b""
            return []
        buf = self.partial + data
        out: list[bytes] = []
        while buf:
            if self.skip:
                taken = min(self.skip, len(buf))
                buf, self.skip = buf[taken:], self.skip - taken
                continue
            end = buf.find(b"\n")
            if end < 0:
                break
            line, buf = buf[:end], buf[end + 1 :]
            if len(line) <= MAX_LINE:
                out.append(line.rstrip(b"\r"))
                if self.skip_after is not None and (count := self.skip_after(out[-1])):
                    self.skip = count
        self.partial = buf if len(buf) <= MAX_LINE else b""
        return out
