"""TCP stream reassembly, only as far as the application decoders need: the first
bytes of each direction, in order, tolerant of reordering, retransmission and loss.

Each direction keeps the next expected sequence number and a few early segments.
Data that arrives in order is delivered at once; a segment from the future waits;
when too many wait (a segment was lost), the gap is skipped and the reader is told.
After `limit` bytes a direction stops: a TLS handshake or a login happens early.
"""

from __future__ import annotations

from dataclasses import dataclass, field

MAX_WAITING = 16  # out-of-order segments held per direction
SEQ_MOD = 1 << 32


@dataclass(slots=True)
class Direction:
    limit: int
    next_seq: int | None = None
    delivered: int = 0
    waiting: dict[int, bytes] = field(default_factory=dict)
    gaps: int = 0
    peer_ack: int | None = None  # the highest ACK the other side sent for this direction

    @property
    def done(self) -> bool:
        return self.delivered >= self.limit

    def add(self, seq: int, data: bytes, syn: bool) -> list[bytes | None]:
        """Take one segment; return the byte runs now in order (None marks a skipped gap)."""
        if syn:
            self.next_seq = (seq + 1) % SEQ_MOD
            return []
        if not data or self.done:
            return []
        if self.next_seq is None:
            self.next_seq = seq
        offset = (seq - self.next_seq) % SEQ_MOD
        if offset >= SEQ_MOD // 2:  # starts before what we have: a retransmission, maybe overlapping
            behind = SEQ_MOD - offset
            if behind >= len(data):
                return []
            data, seq, offset = data[behind:], self.next_seq, 0
        if offset:
            if len(self.waiting) < MAX_WAITING and not self._gap_acknowledged(seq):
                self.waiting.setdefault(seq, data)
                return []
            return self._skip_gap(seq, data)
        return self._deliver(data)

    def _gap_acknowledged(self, seq: int) -> bool:
        """The peer already acknowledged bytes up to this segment: the missing ones
        reached it but not us (capture loss), so waiting for them is pointless."""
        if self.peer_ack is None:
            return False
        return (self.peer_ack - seq) % SEQ_MOD < SEQ_MOD // 2

    def _deliver(self, data: bytes) -> list[bytes | None]:
        out: list[bytes | None] = []
        while data:
            room = self.limit - self.delivered
            chunk = data[:room]
            out.append(chunk)
            self.delivered += len(chunk)
            assert self.next_seq is not None
            self.next_seq = (self.next_seq + len(data)) % SEQ_MOD
            if self.done:
                self.waiting.clear()
                break
            data = self._take_waiting()
        return out

    def _take_waiting(self) -> bytes:
        """The waiting segment that now continues the stream, trimmed of any overlap."""
        assert self.next_seq is not None
        for seq in list(self.waiting):
            offset = (seq - self.next_seq) % SEQ_MOD
            if offset >= SEQ_MOD // 2:
                segment = self.waiting.pop(seq)
                behind = SEQ_MOD - offset
                if behind < len(segment):
                    return segment[behind:]
            elif offset == 0:
                return self.waiting.pop(seq)
        return b""

    def _skip_gap(self, seq: int, data: bytes) -> list[bytes | None]:
        """A segment was lost: resume at the earliest waiting byte."""
        assert self.next_seq is not None
        self.waiting[seq] = data
        earliest = min(self.waiting, key=lambda s: (s - self.next_seq) % SEQ_MOD)  # type: ignore[operator]
        self.gaps += 1
        self.next_seq = earliest
        return [None, *self._deliver(self.waiting.pop(earliest))]
