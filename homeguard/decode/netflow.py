"""Flow export: NetFlow v5, NetFlow v9 (RFC 3954) and IPFIX (RFC 7011) datagrams read into
flow records. Routers (OpenWrt's softflowd, pfSense, MikroTik, UniFi) send these when
HomeGuard cannot see the packets themselves.

v9 and IPFIX describe their records with templates sent now and then; templates are
kept per exporter and observation domain (`Templates`), bounded, and a data set whose
template has not arrived yet is counted and skipped. Sequence numbers are checked per
exporter: a gap is records (v5, IPFIX) or export packets (v9) lost on the way.
Everything malformed raises DecodeError; nothing here trusts a length it has not checked.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from homeguard.errors import DecodeError

V5_HEADER = struct.Struct("!HHIIIIBBH")
V5_RECORD = struct.Struct("!4s4s4sHHIIIIHHxBBBHHBBxx")
V9_HEADER = struct.Struct("!HHIIII")
IPFIX_HEADER = struct.Struct("!HHIII")
SET_HEADER = struct.Struct("!HH")
MAX_TEMPLATES = 1024  # per collector: a flood of made-up template ids cannot grow memory
MAX_FIELDS = 128

# Information elements HomeGuard reads (IANA's IPFIX registry; NetFlow v9 uses the same
# numbers for these).
OCTETS, PACKETS, PROTOCOL, TCP_FLAGS = 1, 2, 4, 6
SRC_PORT, SRC_V4, DST_PORT, DST_V4 = 7, 8, 11, 12
LAST_UPTIME, FIRST_UPTIME = 21, 22
SRC_V6, DST_V6 = 27, 28
SRC_MAC, DST_MAC = 56, 80
START_SECONDS, END_SECONDS, START_MS, END_MS = 150, 151, 152, 153
SYSTEM_INIT_MS = 160
OCTETS_TOTAL, PACKETS_TOTAL = 85, 86


@dataclass(slots=True)
class FlowRecord:
    """One direction of a flow, as the exporter measured it."""

    proto: int
    src_ip: bytes
    sport: int
    dst_ip: bytes
    dport: int
    packets: int
    octets: int
    start: float  # unix seconds
    end: float
    tcp_flags: int = 0
    src_mac: bytes | None = None
    dst_mac: bytes | None = None


@dataclass(slots=True)
class ExportPacket:
    records: list[FlowRecord]
    lost: int = 0  # records (v5, IPFIX) or packets (v9) missing before this one
    unknown_template: int = 0  # data sets skipped: their template has not arrived yet


Template = tuple[tuple[int, int], ...]  # (information element, length) in order


@dataclass(slots=True)
class Templates:
    """What one collector has learned from its exporters: templates and where each
    exporter's sequence numbers should go on."""

    templates: dict[tuple[str, int, int], Template] = field(default_factory=dict)
    next_sequence: dict[tuple[str, int, int], int] = field(default_factory=dict)

    def learn(self, key: tuple[str, int, int], template: Template) -> None:
        if key not in self.templates and len(self.templates) >= MAX_TEMPLATES:
            del self.templates[next(iter(self.templates))]
        self.templates[key] = template

    def gap(self, key: tuple[str, int, int], sequence: int, advance: int) -> int:
        """How many were lost before `sequence`; then expect sequence + advance."""
        expected = self.next_sequence.get(key)
        self.next_sequence[key] = (sequence + advance) & 0xFFFFFFFF
        if expected is None:
            return 0
        missing = (sequence - expected) & 0xFFFFFFFF
        return missing if missing < 0x80000000 else 0  # behind: reordered, not lost


def read_export(data: bytes, exporter: str, templates: Templates) -> ExportPacket:
    if len(data) < 4:
        raise DecodeError("flow export: shorter than a header")
    version = int.from_bytes(data[:2], "big")
    if version == 5:
        return _v5(data, exporter, templates)
    if version == 9:
        return _v9(data, exporter, templates)
    if version == 10:
        return _ipfix(data, exporter, templates)
    raise DecodeError(f"flow export: version {version} is not NetFlow v5, v9 or IPFIX")


def _v5(data: bytes, exporter: str, templates: Templates) -> ExportPacket:
    if len(data) < V5_HEADER.size:
        raise DecodeError("NetFlow v5: short header")
    _, count, uptime_ms, secs, nsecs, sequence, _, _, _ = V5_HEADER.unpack_from(data)
    if count > 30 or len(data) < V5_HEADER.size + count * V5_RECORD.size:
        raise DecodeError(f"NetFlow v5: {count} records do not fit in {len(data)} bytes")
    boot = secs + nsecs / 1e9 - uptime_ms / 1000  # the exporter's boot, in unix seconds
    records = []
    for i in range(count):
        src, dst, _hop, _in, _out, packets, octets, first, last, sport, dport, flags, proto, _tos, *_ = (
            V5_RECORD.unpack_from(data, V5_HEADER.size + i * V5_RECORD.size)
        )
        records.append(
            FlowRecord(
                proto, src, sport, dst, dport, packets, octets, boot + first / 1000, boot + last / 1000, flags
            )
        )
    return ExportPacket(records, templates.gap((exporter, 5, 0), sequence, count))


def _v9(data: bytes, exporter: str, templates: Templates) -> ExportPacket:
    if len(data) < V9_HEADER.size:
        raise DecodeError("NetFlow v9: short header")
    _, _count, uptime_ms, secs, sequence, source_id = V9_HEADER.unpack_from(data)
    boot = secs - uptime_ms / 1000
    packet = ExportPacket([], templates.gap((exporter, 9, source_id), sequence, 1))
    _sets(data, V9_HEADER.size, len(data), (exporter, source_id), templates, packet, boot, ipfix=False)
    return packet


def _ipfix(data: bytes, exporter: str, templates: Templates) -> ExportPacket:
    if len(data) < IPFIX_HEADER.size:
        raise DecodeError("IPFIX: short header")
    _, length, export_time, sequence, domain = IPFIX_HEADER.unpack_from(data)
    if length > len(data) or length < IPFIX_HEADER.size:
        raise DecodeError(f"IPFIX: message length {length} but {len(data)} bytes")
    packet = ExportPacket([])
    _sets(
        data, IPFIX_HEADER.size, length, (exporter, domain), templates, packet, float(export_time), ipfix=True
    )
    # IPFIX counts data records, so this message's records move the sequence on.
    packet.lost = templates.gap(
        (exporter, 10, domain), sequence, len(packet.records) + packet.unknown_template
    )
    return packet


def _sets(
    data: bytes,
    at: int,
    end: int,
    source: tuple[str, int],
    templates: Templates,
    packet: ExportPacket,
    when: float,
    *,
    ipfix: bool,
) -> None:
    """`when`: v9's exporter boot time, IPFIX's export time (both unix seconds)."""
    template_set, options_set = (2, 3) if ipfix else (0, 1)
    while at + SET_HEADER.size <= end:
        set_id, length = SET_HEADER.unpack_from(data, at)
        if length < SET_HEADER.size or at + length > end:
            raise DecodeError(f"flow export: a set of {length} bytes at {at} does not fit")
        body = data[at + SET_HEADER.size : at + length]
        if set_id == template_set:
            _templates(body, source, templates, ipfix)
        elif set_id >= 256:
            template = templates.templates.get((*source, set_id))
            if template is None:
                packet.unknown_template += 1
            else:
                packet.records.extend(_data(body, template, when, ipfix))
        elif set_id != options_set:
            raise DecodeError(f"flow export: set id {set_id} is reserved")
        at += length


def _templates(body: bytes, source: tuple[str, int], templates: Templates, ipfix: bool) -> None:
    at = 0
    while at + 4 <= len(body):
        template_id, count = SET_HEADER.unpack_from(body, at)
        at += 4
        if template_id < 256 or count > MAX_FIELDS:
            raise DecodeError(f"flow export: template {template_id} with {count} fields")
        fields = []
        for _ in range(count):
            if at + 4 > len(body):
                raise DecodeError("flow export: a template is cut short")
            element, length = SET_HEADER.unpack_from(body, at)
            at += 4
            if ipfix and element & 0x8000:  # an enterprise's element: its number follows
                at += 4
                element = -1  # never one HomeGuard reads
            fields.append((element, length))
        templates.learn((*source, template_id), tuple(fields))


def _data(body: bytes, template: Template, when: float, ipfix: bool) -> list[FlowRecord]:
    fixed = sum(length for _, length in template if length != 0xFFFF)
    records = []
    at = 0
    while at + max(1, fixed) <= len(body):
        values: dict[int, bytes] = {}
        for element, length in template:
            if length == 0xFFFF:  # IPFIX variable length: one byte, or 255 and two bytes
                if at >= len(body):
                    raise DecodeError("IPFIX: a variable-length field is cut short")
                length, at = body[at], at + 1
                if length == 255:
                    length, at = int.from_bytes(body[at : at + 2], "big"), at + 2
            if at + length > len(body):
                raise DecodeError("flow export: a record is cut short")
            values[element] = body[at : at + length]
            at += length
        record = _record(values, when, ipfix)
        if record is not None:
            records.append(record)
    return records


def _record(values: dict[int, bytes], when: float, ipfix: bool) -> FlowRecord | None:
    """A record with addresses, or None (an options record, or one of other things).
    Times: absolute ones if given; else uptimes from the exporter's boot (v9's header
    gives it; IPFIX's systemInitTimeMilliseconds does); else the export time."""
    src = values.get(SRC_V4) or values.get(SRC_V6)
    dst = values.get(DST_V4) or values.get(DST_V6)
    if src is None or dst is None or len(src) not in (4, 16) or len(src) != len(dst):
        return None

    def number(*elements: int) -> int:
        for element in elements:
            raw = values.get(element)
            if raw is not None:
                return int.from_bytes(raw, "big")
        return 0

    if START_MS in values or START_SECONDS in values:
        start = number(START_MS) / 1000 or float(number(START_SECONDS))
        end = number(END_MS) / 1000 or float(number(END_SECONDS)) or start
    elif not ipfix or SYSTEM_INIT_MS in values:
        boot = number(SYSTEM_INIT_MS) / 1000 if ipfix else when
        start, end = boot + number(FIRST_UPTIME) / 1000, boot + number(LAST_UPTIME) / 1000
    else:
        start = end = when
    return FlowRecord(
        number(PROTOCOL),
        src,
        number(SRC_PORT),
        dst,
        number(DST_PORT),
        number(PACKETS, PACKETS_TOTAL),
        number(OCTETS, OCTETS_TOTAL),
        start,
        end,
        number(TCP_FLAGS),
        values.get(SRC_MAC) if len(values.get(SRC_MAC, b"")) == 6 else None,
        values.get(DST_MAC) if len(values.get(DST_MAC, b"")) == 6 else None,
    )
