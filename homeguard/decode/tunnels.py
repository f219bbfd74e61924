"""Tunnels: the packet inside IP-in-IP (4in4, 6in4, 4in6, 6in6), GRE, VXLAN and GTP-U,
so that the flows a tunnel carries are seen like any other (a 6in4 tunnel broker, a
mirror port that delivers VXLAN, a mobile core's GTP-U). At most TUNNEL_DEPTH tunnels
deep, so a hostile packet cannot make us loop.

Each reader returns where the inner packet starts: (ethertype, offset, inner Ethernet?)
or None when the packet is not one it can open.
"""

from __future__ import annotations

import struct

from homeguard.decode.link import ETH_IPV4, ETH_IPV6

PROTO_IPIP, PROTO_IPV6_IN, PROTO_GRE = 4, 41, 47
PORT_VXLAN, PORT_GTPU = 4789, 2152
TUNNEL_PROTOS = frozenset((PROTO_IPIP, PROTO_IPV6_IN, PROTO_GRE))
TUNNEL_PORTS = frozenset((PORT_VXLAN, PORT_GTPU))
TUNNEL_DEPTH = 3
ETH_BRIDGED = 0x6558  # GRE carrying Ethernet (NVGRE, gretap)
GTP_G_PDU = 0xFF

Inner = tuple[int, int, bool]  # ethertype, offset of the inner header, whether it is Ethernet


def inner_of(data: bytes, proto: int, l4_at: int, payload_at: int, dport: int) -> Inner | None:
    if proto == PROTO_IPIP:
        return (ETH_IPV4, l4_at, False)
    if proto == PROTO_IPV6_IN:
        return (ETH_IPV6, l4_at, False)
    if proto == PROTO_GRE:
        return _gre(data, l4_at)
    if dport == PORT_VXLAN:
        # 8 bytes: flags (the I bit says the VNI is valid), reserved, VNI, reserved
        return (0, payload_at + 8, True) if data[payload_at] & 0x08 else None
    if dport == PORT_GTPU:
        return _gtpu(data, payload_at)
    return None


def _gre(data: bytes, at: int) -> Inner | None:
    flags, etype = struct.unpack_from("!HH", data, at)
    if flags & 0x0007:  # version 1 is PPTP's enhanced GRE, carrying PPP: not opened
        return None
    pos = at + 4 + 4 * ((flags >> 15 & 1) + (flags >> 13 & 1) + (flags >> 12 & 1))  # checksum, key, sequence
    if etype == ETH_BRIDGED:
        return (0, pos, True)
    return (etype, pos, False) if etype in (ETH_IPV4, ETH_IPV6) else None


def _gtpu(data: bytes, at: int) -> Inner | None:
    flags, kind = data[at], data[at + 1]
    if flags >> 5 != 1 or not flags & 0x10 or kind != GTP_G_PDU:  # version 1, GTP (not GTP'), user data
        return None
    pos = at + 8
    if flags & 0x07:  # sequence number, N-PDU number and the next extension's type
        next_type = data[pos + 3]
        pos += 4
        for _ in range(8):  # extension headers: length in 4-byte units, the next type last
            if not next_type:
                break
            size = data[pos] * 4
            if size == 0:
                return None
            next_type = data[pos + size - 1]
            pos += size
    version = data[pos] >> 4
    return (ETH_IPV4 if version == 4 else ETH_IPV6, pos, False) if version in (4, 6) else None
