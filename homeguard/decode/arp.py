"""ARP (RFC 826) for Ethernet and IPv4."""

from __future__ import annotations

import struct
from dataclasses import dataclass

from homeguard.errors import DecodeError

ARP_OPS = {1: "request", 2: "reply", 3: "rarp-request", 4: "rarp-reply"}


@dataclass(slots=True, frozen=True)
class ArpMessage:
    op: int
    sender_mac: bytes | None
    sender_ip: bytes | None
    target_mac: bytes | None
    target_ip: bytes | None


def parse_arp(buf: bytes) -> ArpMessage:
    """Parse an ARP message. Addresses of other hardware or protocol types stay None."""
    if len(buf) < 8:
        raise DecodeError(f"ARP message of {len(buf)} bytes is shorter than its 8-byte header")
    _htype, ptype, hlen, plen, op = struct.unpack_from("!HHBBH", buf, 0)
    need = 8 + 2 * (hlen + plen)
    if len(buf) < need:
        raise DecodeError(f"ARP message of {len(buf)} bytes, its address lengths need {need}")
    # Addresses are read at the offsets the header's lengths give, as Wireshark does,
    # so that an odd hardware length cannot hide the IP addresses in a spoofing attempt.
    sha, spa = 8, 8 + hlen
    tha, tpa = spa + plen, spa + plen + hlen
    is_mac, is_ipv4 = hlen == 6, plen == 4 and ptype == 0x0800
    return ArpMessage(
        op,
        buf[sha : sha + 6] if is_mac else None,
        buf[spa : spa + 4] if is_ipv4 else None,
        buf[tha : tha + 6] if is_mac else None,
        buf[tpa : tpa + 4] if is_ipv4 else None,
    )
