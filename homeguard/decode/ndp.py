"""IPv6 router advertisements (RFC 4861 section 4.2), with the options a home network
relies on: prefixes (RFC 4861), DNS servers (RDNSS, RFC 8106) and the router's MAC."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from homeguard.errors import DecodeError

ICMPV6_ROUTER_ADVERTISEMENT = 134
OPT_SOURCE_LINK_ADDRESS, OPT_PREFIX_INFO, OPT_RDNSS = 1, 3, 25
RA_FIXED = 12  # after the 4-byte ICMPv6 header: hop limit, flags, lifetime, two timers


@dataclass(slots=True)
class RouterAdvertisement:
    router_lifetime: int
    source_mac: bytes | None = None
    prefixes: list[tuple[bytes, int]] = field(default_factory=list)  # (prefix, length)
    dns_servers: list[bytes] = field(default_factory=list)


def parse_router_advertisement(body: bytes) -> RouterAdvertisement:
    """`body` is the ICMPv6 message after its type, code and checksum."""
    if len(body) < RA_FIXED:
        raise DecodeError(f"router advertisement of {len(body)} bytes is shorter than its {RA_FIXED}")
    (lifetime,) = struct.unpack_from("!H", body, 2)
    ra = RouterAdvertisement(lifetime)
    at = RA_FIXED
    while at + 2 <= len(body):
        kind, units = body[at], body[at + 1]
        if units == 0:
            raise DecodeError(f"router advertisement option {kind} at byte {at} has length 0")
        option = body[at : at + units * 8]
        if len(option) < units * 8:
            raise DecodeError(f"router advertisement option {kind} runs past the packet")
        if kind == OPT_SOURCE_LINK_ADDRESS and len(option) >= 8:
            ra.source_mac = option[2:8]
        elif kind == OPT_PREFIX_INFO and len(option) == 32:
            ra.prefixes.append((option[16:32], option[2]))
        elif kind == OPT_RDNSS:
            ra.dns_servers += [option[i : i + 16] for i in range(8, len(option) - 15, 16)]
        at += units * 8
    return ra
