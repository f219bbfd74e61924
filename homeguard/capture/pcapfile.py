"""Read pcap and pcapng files without scapy: fast, and strict about corruption.

Files are read in chunks rather than mapped, so a capture of gigabytes costs a few
MiB of memory, never its size.

A record that runs past the end of the file means the capture was cut short
(tcpdump killed mid-write): the reader stops and sets `counters.truncated`.
A record whose lengths are impossible means the file is corrupt: CaptureFileError,
after every good frame before it has been yielded.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import BinaryIO

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
CHUNK = 1 << 20


class ChunkedReader:
    """A file read in chunks, with a window onto the bytes at the read position."""

    def __init__(self, f: BinaryIO) -> None:
        self._f = f
        self.buf = b""
        self.pos = 0
        self.offset = 0  # file offset of buf[0], for error messages

    def window(self, n: int) -> bool:
        """Make n bytes available at self.pos; False at the end of the file."""
        if self.pos + n <= len(self.buf):
            return True
        self.offset += self.pos
        self.buf = self.buf[self.pos :] + self._f.read(max(CHUNK, n))
        self.pos = 0
        return n <= len(self.buf)


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
                reader = ChunkedReader(f)
                if not reader.window(4):
                    raise CaptureFileError(f"{self._path}: the file is empty, not a capture")
                magic = reader.buf[:4]
                if magic in PCAP_MAGICS:
                    yield from self._pcap_frames(reader, *PCAP_MAGICS[magic])
                elif struct.unpack_from("<I", magic)[0] == PCAPNG_SHB:
                    yield from self._pcapng_frames(reader)
                else:
                    raise CaptureFileError(
                        f"{self._path}: not a pcap or pcapng file (starts with {magic.hex()}); "
                        "if Wireshark opens it, convert it with: editcap -F pcap IN OUT"
                    )
        except OSError as exc:
            raise CaptureFileError(f"{self._path}: cannot read: {exc.strerror or exc}") from exc

    def _corrupt(self, offset: int, why: str) -> CaptureFileError:
        return CaptureFileError(f"{self._path}: corrupt at byte {offset}: {why}")

    def _pcap_frames(
        self, reader: ChunkedReader, endian: str, tick: float, header_len: int
    ) -> Iterator[Frame]:
        if not reader.window(24):
            self.counters.truncated = True
            return
        linktype = struct.unpack_from(endian + "I", reader.buf, 20)[0] & LINKTYPE_MASK
        reader.pos = 24
        record = struct.Struct(endian + "IIII").unpack_from
        counters = self.counters
        window = reader.window
        # The window is asked for only at a chunk's end: within a chunk each record is
        # read where it lies, without a call per record.
        buf, pos, size = reader.buf, reader.pos, len(reader.buf)
        while True:
            start = pos + header_len
            if start > size:
                reader.pos = pos
                if not window(header_len):
                    break
                buf, pos, size = reader.buf, reader.pos, len(reader.buf)
                start = pos + header_len
            sec, frac, caplen, wirelen = record(buf, pos)
            if caplen > MAX_FRAME:
                raise self._corrupt(reader.offset + pos, f"a record claims {caplen} bytes")
            end = start + caplen
            if end > size:
                reader.pos = pos
                if not window(header_len + caplen):
                    counters.truncated = True
                    return
                buf, pos, size = reader.buf, reader.pos, len(reader.buf)
                start = pos + header_len
                end = start + caplen
            counters.packets += 1
            counters.bytes += wirelen
            yield (sec + frac * tick, linktype, buf[start:end], wirelen)
            pos = end
        if reader.pos != len(reader.buf):
            counters.truncated = True

    def _pcapng_frames(self, reader: ChunkedReader) -> Iterator[Frame]:
        endian = "<"
        block_header = struct.Struct("<II").unpack_from
        enhanced_packet = struct.Struct("<IIIII").unpack_from
        interfaces: list[tuple[int, float, float]] = []  # (linktype, tick, offset)
        counters = self.counters
        last_ts = 0.0
        window = reader.window
        buf, at, size = reader.buf, reader.pos, len(reader.buf)
        while True:
            if at + 12 > size:  # as in _pcap_frames, the window only at a chunk's end
                reader.pos = at
                if not window(12):
                    break
                buf, at, size = reader.buf, reader.pos, len(reader.buf)
            pos = at
            btype, blen = block_header(buf, pos)
            if btype == PCAPNG_SHB:  # the same bytes in either byte order
                endian = self._pcapng_endian(buf, pos, reader.offset)
                block_header = struct.Struct(endian + "II").unpack_from
                enhanced_packet = struct.Struct(endian + "IIIII").unpack_from
                interfaces = []
                btype, blen = block_header(buf, pos)
            if blen < 12 or blen % 4 or blen > MAX_FRAME + 4096:
                raise self._corrupt(reader.offset + pos, f"a block claims a length of {blen}")
            if pos + blen > size:
                reader.pos = pos
                if not window(blen):
                    counters.truncated = True
                    return
                buf, pos, size = reader.buf, reader.pos, len(reader.buf)
            body, end = pos + 8, pos + blen - 4
            at = pos + blen
            if btype in (6, 2):  # Enhanced Packet Block (nearly all), or the obsolete Packet Block
                if btype == 6:
                    ifid, hi, lo, caplen, wirelen = enhanced_packet(buf, body)
                else:
                    ifid, _drops, hi, lo, caplen, wirelen = struct.unpack_from(endian + "HHIIII", buf, body)
                if ifid >= len(interfaces) or body + 20 + caplen > end:
                    raise self._bad_packet_block(reader.offset + pos, ifid, caplen, len(interfaces))
                linktype, tick, offset = interfaces[ifid]
                last_ts = (hi << 32 | lo) * tick + offset
                counters.packets += 1
                counters.bytes += wirelen
                yield (last_ts, linktype, buf[body + 20 : body + 20 + caplen], wirelen)
            elif btype == 1:
                interfaces.append(self._pcapng_interface(buf, body, end, endian))
            elif btype == 3:  # Simple Packet Block: no timestamp, the first interface
                if not interfaces:
                    raise self._corrupt(reader.offset + pos, "a packet before any interface block")
                wirelen = struct.unpack_from(endian + "I", buf, body)[0]
                counters.packets += 1
                counters.bytes += wirelen
                yield (last_ts, interfaces[0][0], buf[body + 4 : min(end, body + 4 + wirelen)], wirelen)
        if reader.pos != len(reader.buf):
            counters.truncated = True

    def _bad_packet_block(self, offset: int, ifid: int, caplen: int, known: int) -> CaptureFileError:
        if ifid >= known:
            return self._corrupt(offset, f"a packet names interface {ifid}, which is not defined")
        return self._corrupt(offset, f"a packet claims {caplen} bytes, more than its block")

    def _pcapng_endian(self, buf: bytes, pos: int, file_offset: int) -> str:
        if struct.unpack_from("<I", buf, pos + 8)[0] == PCAPNG_BYTE_ORDER_MAGIC:
            return "<"
        if struct.unpack_from(">I", buf, pos + 8)[0] == PCAPNG_BYTE_ORDER_MAGIC:
            return ">"
        raise self._corrupt(file_offset + pos, "the section header has no byte-order magic")

    def _pcapng_interface(self, buf: bytes, body: int, end: int, endian: str) -> tuple[int, float, float]:
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
