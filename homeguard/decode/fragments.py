"""IP fragment reassembly, bounded: large DNS answers (EDNS, DNSSEC) arrive in fragments.

A datagram is put together once its pieces cover it from 0 to the last fragment's
end. Incomplete datagrams are dropped after FRAGMENT_TIMEOUT seconds, or when more
than `max_datagrams` are pending; none may grow past MAX_DATAGRAM bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from homeguard.bounded import make_room
from homeguard.decode.packet import Packet, reassembled
from homeguard.errors import DecodeError

MAX_DATAGRAM = 65535
FRAGMENT_TIMEOUT = 30.0
FragmentKey = tuple[bytes, bytes, int, int]  # src, dst, id, protocol


@dataclass(slots=True)
class _Pending:
    started: float
    first: Packet | None = None
    total: int | None = None  # known once the last fragment arrived
    pieces: dict[int, bytes] = field(default_factory=dict)
    size: int = 0


class FragmentReassembler:
    def __init__(self, max_datagrams: int = 256) -> None:
        self.max_datagrams = max_datagrams
        self._pending: dict[FragmentKey, _Pending] = {}
        self.dropped = 0

    def __len__(self) -> int:
        return len(self._pending)

    def ports_of(self, pkt: Packet) -> tuple[int, int] | None:
        """The ports of a later fragment's datagram, when its first fragment was seen."""
        assert pkt.src_ip is not None and pkt.dst_ip is not None
        pending = self._pending.get((pkt.src_ip, pkt.dst_ip, pkt.fragment_id, pkt.proto))
        if pending is None or pending.first is None:
            return None
        return pending.first.sport, pending.first.dport

    def add(self, pkt: Packet, ts: float) -> Packet | None:
        """Take one fragment; return the whole datagram once it is complete."""
        assert pkt.src_ip is not None and pkt.dst_ip is not None
        key = (pkt.src_ip, pkt.dst_ip, pkt.fragment_id, pkt.proto)
        pending = self._pending.get(key)
        if pending is None:
            self.dropped += len(make_room(self._pending, self.max_datagrams))
            pending = self._pending[key] = _Pending(ts)
        piece = pkt.data[pkt.l4_at : pkt.payload_end]
        end = pkt.fragment_offset + len(piece)
        if end > MAX_DATAGRAM or pending.size + len(piece) > MAX_DATAGRAM:
            del self._pending[key]
            raise DecodeError("IP fragments add up to more than 65535 bytes")
        if pkt.fragment_offset == 0:
            pending.first = pkt
        if not pkt.more_fragments:
            pending.total = end
        if pkt.fragment_offset not in pending.pieces:
            pending.size += len(piece)
        pending.pieces[pkt.fragment_offset] = piece
        if pending.first is None or pending.total is None:
            return None
        datagram = self._join(pending)
        if datagram is None:
            return None
        del self._pending[key]
        return reassembled(pending.first, datagram)

    @staticmethod
    def _join(pending: _Pending) -> bytes | None:
        out = bytearray()
        for offset in sorted(pending.pieces):
            if offset > len(out):
                return None  # a hole: wait for the missing piece
            piece = pending.pieces[offset]
            out[offset : offset + len(piece)] = piece
        if len(out) < (pending.total or 0):
            return None
        return bytes(out[: pending.total])

    def expire(self, now: float) -> None:
        before = now - FRAGMENT_TIMEOUT
        stale = [key for key, p in self._pending.items() if p.started < before]
        for key in stale:
            del self._pending[key]
        self.dropped += len(stale)
