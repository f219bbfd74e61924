"""Read pcap and pcapng files without scapy: fast, and strict about corruption.

A record that runs past the end of the file means the capture was cut short
(tcpdump killed mid-write): the reader stops and sets `counters.truncated`.
A record whose lengths are impossible means the file is corrupt: CaptureFileError,
after every good frame before it has been yielded.
"""

from __future__ import annotations

import mmap
import os
import struct
from collections.abc import Iterator

from homeguard.capture.source import CaptureCounters, Frame
from homeguard.errors import CaptureFileError

PCAP_MAGICS = {
    b"\xd4\xc3\xb2\xa1": ("<", 1e-6, 16),
    b"\xa1\xb2\xc3\xd4": (">", 1e-6, 16),
    b"\x4d\x3c\xb2\xa1": ("<", 1e-9, 16),
    b"\xa1\xb2\x3c\x4d": (">", 1e-9, 16),
    # Alexey Kuznetzov's modified pcap: 8 more bytes per record header.
    b"\x34\xcd\xb2\xa1": ("<", 1e-6, 24),
    b"\xa1\xb2\xcd\x34": (">", 1e-6, 24),
}
PCAPNG_SHB = 0x0A0D0D0A
PCAPNG_BYTE_ORDER_MAGIC = 0x1A2B3C4D
MAX_FRAME = 256 * 1024  # larger than any snaplen real tools use
LINKTYPE_MASK = 0x03FFFFFF  # upper bits carry FCS information, not the link type


class PcapFileSource:
    """Frames from one pcap or pcapng file, numbered from 1 as Wireshark numbers them."""

    def __init__(self, path: str) -> None:
        self.name = path
        self.counters = CaptureCounters()
        self._path = path

    def close(self) -> None:
        """Nothing to close: frames() closes the file when it ends."""

    def frames(self) -> Iterator[Frame | None]:
        try:
            with open(self._path, "rb") as f:
                size = os.fstat(f.fileno()).st_size
                if size == 0:
                    raise CaptureFileError(f"{self._path}: the file is empty, not a capture")
                with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
                    yield from self._frames_from(buf)
        except OSError as exc:
            raise CaptureFileError(f"{self._path}: cannot read: {exc.strerror}") from exc

    def _frames_from(self, buf: mmap.mmap) -> Iterator[Frame]:
        magic = buf[:4]
        if magic in PCAP_MAGICS:
            yield from self._pcap_frames(buf, *PCAP_MAGICS[magic])
        elif len(buf) >= 4 and struct.unpack_from("<I", buf, 0)[0] == PCAPNG_SHB:
            yield from self._pcapng_frames(buf)
        else:
            raise CaptureFileError(
                f"{self._path}: not a pcap or pcapng file (starts with {bytes(magic).hex()}); "
                "convert it with: editcap -F pcap IN OUT"
            )

    def _corrupt(self, offset: int, why: str) -> CaptureFileError:
        return CaptureFileError(f"{self._path}: corrupt at byte {offset}: {why}")

    def _pcap_frames(self, buf: mmap.mmap, endian: str, tick: float, header_len: int) -> Iterator[Frame]:
        end = len(buf)
        if end < 24:
            self.counters.truncated = True
            return
        linktype = struct.unpack_from(endian + "I", buf, 20)[0] & LINKTYPE_MASK
        record = struct.Struct(endian + "IIII")
        counters = self.counters
        pos = 24
        while pos + header_len <= end:
            sec, frac, caplen, wirelen = record.unpack_from(buf, pos)
            if caplen > MAX_FRAME:
                raise self._corrupt(pos, f"a record claims {caplen} bytes")
            start = pos + header_len
            pos = start + caplen
            if pos > end:
                counters.truncated = True
                return
            counters.packets += 1
            counters.bytes += wirelen
            yield (sec + frac * tick, linktype, buf[start:pos], wirelen)
        if pos != end:
            counters.truncated = True

    def _pcapng_frames(self, buf: mmap.mmap) -> Iterator[Frame]:
        end = len(buf)
        pos = 0
        endian = "<"
        interfaces: list[tuple[int, float, float]] = []  # (linktype, tick, offset)
        counters = self.counters
        last_ts = 0.0
        while pos + 12 <= end:
            btype = struct.unpack_from(endian + "I", buf, pos)[0]
            if btype == PCAPNG_SHB:
                endian = self._pcapng_endian(buf, pos)
                interfaces = []
            blen = struct.unpack_from(endian + "I", buf, pos + 4)[0]
            if blen < 12 or blen % 4:
                raise self._corrupt(pos, f"a block claims a length of {blen}")
            if pos + blen > end:
                counters.truncated = True
                return
            body = pos + 8
            if btype == 1:
                interfaces.append(self._pcapng_interface(buf, body, pos + blen - 4, endian))
            elif btype in (6, 2):
                frame = self._pcapng_packet(buf, btype, body, pos + blen - 4, endian, interfaces)
                counters.packets += 1
                counters.bytes += frame[3]
                last_ts = frame[0]
                yield frame
            elif btype == 3:
                if not interfaces:
                    raise self._corrupt(pos, "a packet comes before any interface block")
                wirelen = struct.unpack_from(endian + "I", buf, body)[0]
                data = buf[body + 4 : min(pos + blen - 4, body + 4 + wirelen)]
                counters.packets += 1
                counters.bytes += wirelen
                yield (last_ts, interfaces[0][0], data, wirelen)
            pos += blen
        if pos != end:
            counters.truncated = True

    def _pcapng_endian(self, buf: mmap.mmap, pos: int) -> str:
        if pos + 12 > len(buf):
            raise self._corrupt(pos, "the section header is cut short")
        if struct.unpack_from("<I", buf, pos + 8)[0] == PCAPNG_BYTE_ORDER_MAGIC:
            return "<"
        if struct.unpack_from(">I", buf, pos + 8)[0] == PCAPNG_BYTE_ORDER_MAGIC:
            return ">"
        raise self._corrupt(pos, "the section header has no byte-order magic")

    def _pcapng_interface(self, buf: mmap.mmap, body: int, end: int, endian: str) -> tuple[int, float, float]:
        linktype = struct.unpack_from(endian + "H", buf, body)[0]
        tick, offset = 1e-6, 0.0
        pos = body + 8
        while pos + 4 <= end:
            code, olen = struct.unpack_from(endian + "HH", buf, pos)
            if code == 0:
                break
            if code == 9 and olen >= 1:
                res = buf[pos + 4]
                tick = 2.0 ** -(res & 0x7F) if res & 0x80 else 10.0**-res
            elif code == 14 and olen >= 8:
                offset = float(struct.unpack_from(endian + "q", buf, pos + 4)[0])
            pos += 4 + olen + (-olen % 4)
        return (linktype, tick, offset)

    def _pcapng_packet(
        self,
        buf: mmap.mmap,
        btype: int,
        body: int,
        end: int,
        endian: str,
        interfaces: list[tuple[int, float, float]],
    ) -> Frame:
        if btype == 6:
            ifid, hi, lo, caplen, wirelen = struct.unpack_from(endian + "IIIII", buf, body)
            data_at = body + 20
        else:  # obsolete Packet Block
            ifid, _drops, hi, lo, caplen, wirelen = struct.unpack_from(endian + "HHIIII", buf, body)
            data_at = body + 20
        if ifid >= len(interfaces):
            raise self._corrupt(body - 8, f"a packet names interface {ifid}, which is not defined")
        if data_at + caplen > end:
            raise self._corrupt(body - 8, f"a packet claims {caplen} bytes, more than its block")
        linktype, tick, offset = interfaces[ifid]
        return ((hi << 32 | lo) * tick + offset, linktype, buf[data_at : data_at + caplen], wirelen)
