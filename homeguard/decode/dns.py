"""DNS messages (RFC 1035), also used for mDNS. Name compression is followed with a
bound on jumps and on name length, so loops and lying lengths end in DecodeError."""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass, field

from homeguard.decode.text import network_text
from homeguard.errors import DecodeError

MAX_NAME_LENGTH = 255
MAX_POINTER_JUMPS = 32
MAX_RECORDS = 256  # per section; more is a hostile or broken message
PORT_DNS = 53
RTYPE_A, RTYPE_NS, RTYPE_CNAME, RTYPE_PTR, RTYPE_MX, RTYPE_TXT, RTYPE_AAAA, RTYPE_SRV = (
    1,
    2,
    5,
    12,
    15,
    16,
    28,
    33,
)
RTYPE_NAMES = {
    1: "A",
    2: "NS",
    5: "CNAME",
    6: "SOA",
    12: "PTR",
    13: "HINFO",
    15: "MX",
    16: "TXT",
    28: "AAAA",
    33: "SRV",
    35: "NAPTR",
    39: "DNAME",
    41: "OPT",
    43: "DS",
    46: "RRSIG",
    47: "NSEC",
    48: "DNSKEY",
    64: "SVCB",
    65: "HTTPS",
    99: "SPF",
    252: "AXFR",
    255: "ANY",
    257: "CAA",
}
RCODE_NAMES = {
    0: "NOERROR",
    1: "FORMERR",
    2: "SERVFAIL",
    3: "NXDOMAIN",
    4: "NOTIMP",
    5: "REFUSED",
    6: "YXDOMAIN",
    7: "YXRRSET",
    8: "NXRRSET",
    9: "NOTAUTH",
    10: "NOTZONE",
}
_header = struct.Struct("!HHHHHH").unpack_from
_rr_fixed = struct.Struct("!HHIH").unpack_from


def rtype_name(code: int) -> str:
    return RTYPE_NAMES.get(code, f"TYPE{code}")


def rcode_name(code: int) -> str:
    return RCODE_NAMES.get(code, f"RCODE{code}")


@dataclass(slots=True)
class DnsRecord:
    name: str
    rtype: int
    ttl: int
    value: str | None  # address, target name or text; None for types we do not render
    address: bytes | None = None  # A and AAAA: the raw address, as flows key on it


@dataclass(slots=True)
class DnsMessage:
    id: int
    is_response: bool
    opcode: int
    rcode: int
    questions: list[tuple[str, int]] = field(default_factory=list)
    answers: list[DnsRecord] = field(default_factory=list)
    authority: list[DnsRecord] = field(default_factory=list)
    additional: list[DnsRecord] = field(default_factory=list)
    truncated: bool = False  # the records ran past the end of the message


# Bytes that may stand in a label as they are; anything else is written \\DDD, as
# Wireshark does, so that a hostile name cannot smuggle dots or control characters.
_PLAIN_LABEL_BYTES = bytes(b for b in range(32, 127) if b not in b".\\")
_PLAIN_NAME_BYTES = _PLAIN_LABEL_BYTES + b"."


NameCache = dict[int, tuple[bytes, ...]]


def read_name(buf: bytes, pos: int, cache: NameCache | None = None) -> tuple[str, int]:
    """Read a possibly compressed name at pos. Returns the name and the position after it.

    `cache` (one per message) remembers the labels behind each compression pointer, so
    that mDNS messages, which point at the same suffixes dozens of times, decode fast.
    """
    labels: list[bytes] = []
    length = 0
    end_pos = -1
    jumps: list[tuple[int, int]] = []  # (pointer target, labels before it)
    while True:
        n = buf[pos]
        if n == 0:
            pos += 1
            break
        if n >= 0xC0:
            if len(jumps) >= MAX_POINTER_JUMPS:
                raise DecodeError("DNS name compression loops")
            if end_pos < 0:
                end_pos = pos + 2
            pos = ((n & 0x3F) << 8) | buf[pos + 1]
            cached = cache.get(pos) if cache is not None else None
            if cached is not None:
                length += sum(len(label) + 1 for label in cached)
                if length > MAX_NAME_LENGTH:
                    raise DecodeError("DNS name longer than 255 bytes")
                labels.extend(cached)
                break
            jumps.append((pos, len(labels)))
            continue
        if n > 63:
            raise DecodeError(f"DNS label type {n & 0xC0:#x} is not supported")
        label = buf[pos + 1 : pos + 1 + n]
        if len(label) != n:
            raise DecodeError("DNS label runs past the end of the message")
        length += n + 1
        if length > MAX_NAME_LENGTH:
            raise DecodeError("DNS name longer than 255 bytes")
        labels.append(label)
        pos += n + 1
    if cache is not None:
        for target, before in jumps:
            cache.setdefault(target, tuple(labels[before:]))
    if end_pos < 0:
        end_pos = pos
    if not labels:
        return "<Root>", end_pos
    raw = b".".join(labels)
    # One C-level pass over the whole name; a dot inside a label shows as an extra dot.
    if raw.translate(None, _PLAIN_NAME_BYTES) or raw.count(46) != len(labels) - 1:
        return ".".join(_escaped_label(label) for label in labels), end_pos
    return raw.decode("ascii"), end_pos


def _escaped_label(label: bytes) -> str:
    try:  # mDNS instance names are UTF-8 ("Küche"): keep them readable
        text = label.decode("utf-8")
        if text.isprintable() and "." not in text and "\\" not in text:
            return text
    except UnicodeDecodeError:
        pass
    return "".join(chr(b) if b in _PLAIN_LABEL_BYTES else f"\\{b:03d}" for b in label)


def parse_dns(buf: bytes) -> DnsMessage:
    """Parse a DNS message. Records that run past the end set `truncated`;
    a broken header or question section raises DecodeError."""
    if len(buf) < 12:
        raise DecodeError(f"DNS message of {len(buf)} bytes is shorter than its 12-byte header")
    ident, flags, qd, an, ns, ar = _header(buf, 0)
    msg = DnsMessage(ident, bool(flags & 0x8000), (flags >> 11) & 0xF, flags & 0xF)
    if qd > MAX_RECORDS:
        raise DecodeError(f"DNS message claims {qd} questions")
    pos = 12
    cache: NameCache = {}
    try:
        for _ in range(qd):
            name, pos = read_name(buf, pos, cache)
            qtype = struct.unpack_from("!H", buf, pos)[0]
            msg.questions.append((name, qtype))
            pos += 4
    except (IndexError, struct.error) as exc:
        raise DecodeError("DNS question runs past the end of the message") from exc
    try:
        pos = _read_records(buf, pos, min(an, MAX_RECORDS), msg.answers, cache)
        pos = _read_records(buf, pos, min(ns, MAX_RECORDS), msg.authority, cache)
        _read_records(buf, pos, min(ar, MAX_RECORDS), msg.additional, cache)
    except (IndexError, struct.error, DecodeError):
        msg.truncated = True
    return msg


def _read_records(buf: bytes, pos: int, count: int, into: list[DnsRecord], cache: NameCache) -> int:
    for _ in range(count):
        name, pos = read_name(buf, pos, cache)
        rtype, _rclass, ttl, rdlen = _rr_fixed(buf, pos)
        pos += 10
        end = pos + rdlen
        if end > len(buf):
            raise DecodeError("DNS record data runs past the end of the message")
        record = DnsRecord(name, rtype, ttl, _rdata_text(buf, rtype, pos, rdlen, cache))
        if (rtype == RTYPE_A and rdlen == 4) or (rtype == RTYPE_AAAA and rdlen == 16):
            record.address = buf[pos:end]
        into.append(record)
        pos = end
    return pos


def _rdata_text(buf: bytes, rtype: int, pos: int, rdlen: int, cache: NameCache) -> str | None:
    if rtype == RTYPE_A and rdlen == 4:
        return socket.inet_ntop(socket.AF_INET, buf[pos : pos + 4])
    if rtype == RTYPE_AAAA and rdlen == 16:
        return socket.inet_ntop(socket.AF_INET6, buf[pos : pos + 16])
    if rtype in (RTYPE_CNAME, RTYPE_PTR, RTYPE_NS):
        return read_name(buf, pos, cache)[0]
    if rtype == RTYPE_MX and rdlen > 2:
        return read_name(buf, pos + 2, cache)[0]
    if rtype == RTYPE_SRV and rdlen > 6:
        port = struct.unpack_from("!H", buf, pos + 4)[0]
        return f"{read_name(buf, pos + 6, cache)[0]}:{port}"
    if rtype == RTYPE_TXT:
        return _txt_text(buf[pos : pos + rdlen])
    return None


def _txt_text(rdata: bytes) -> str:
    parts = []
    i = 0
    while i < len(rdata):
        n = rdata[i]
        parts.append(network_text(rdata[i + 1 : i + 1 + n]))
        i += 1 + n
    return " ".join(parts)


def tcp_frames(buf: bytes) -> tuple[list[bytes], bytes]:
    """DNS over TCP prefixes each message with its length: the whole messages at the
    start of buf, and the incomplete rest (to wait for more bytes)."""
    messages = []
    pos = 0
    while pos + 2 <= len(buf):
        length = struct.unpack_from("!H", buf, pos)[0]
        if pos + 2 + length > len(buf):
            break
        messages.append(buf[pos + 2 : pos + 2 + length])
        pos += 2 + length
    return messages, buf[pos:]


def parse_dns_over_tcp(segment: bytes) -> list[DnsMessage]:
    """The whole DNS messages in one piece of a TCP stream."""
    return [parse_dns(message) for message in tcp_frames(segment)[0]]
