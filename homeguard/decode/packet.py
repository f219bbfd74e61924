"""The header chain: link layer, IPv4/IPv6 (with extension headers), TCP, UDP, ICMP.

This runs once per packet, so it is written for speed: struct on the frame bytes,
no copies of the payload until an application decoder asks for it.
"""

from __future__ import annotations

import struct

from homeguard.decode.link import (
    ETH_ARP,
    ETH_IPV4,
    ETH_IPV4_FIELD,
    ETH_IPV6,
    LINK_READERS,
    LINKTYPE_ETHERNET,
    ethernet,
)
from homeguard.decode.tunnels import TUNNEL_DEPTH, TUNNEL_PORTS, TUNNEL_PROTOS, inner_of
from homeguard.errors import DecodeError

PROTO_ICMP = 1
PROTO_TCP = 6
PROTO_UDP = 17
PROTO_ICMPV6 = 58
PROTO_NAMES = {PROTO_ICMP: "icmp", PROTO_TCP: "tcp", PROTO_UDP: "udp", PROTO_ICMPV6: "icmp6"}
IPV6_EXTENSION_HEADERS = frozenset((0, 43, 60))  # hop-by-hop, routing, destination options
IPV6_FRAGMENT = 44
IPV6_AH = 51

TCP_FIN = 0x01
TCP_SYN = 0x02
TCP_RST = 0x04
TCP_ACK = 0x10

_ipv4 = struct.Struct("!BBHHHBBH4s4s").unpack_from
_ipv6 = struct.Struct("!IHBB16s16s").unpack_from
# IPv4 without options (20 bytes), then TCP up to its flags: ports, seq, ack, offset, flags.
_ipv4_tcp = struct.Struct("!BBHHHBBH4s4sHHIIBB").unpack_from
_ports = struct.Struct("!HH").unpack_from
_seq_ack = struct.Struct("!II").unpack_from


class Packet:
    """What the header chain found in one frame. Fields the frame lacks stay None."""

    __slots__ = (
        "data",
        "dport",
        "dst_ip",
        "dst_mac",
        "ethertype",
        "fragment",
        "fragment_id",
        "fragment_offset",
        "l3_at",
        "l4_at",
        "more_fragments",
        "payload_at",
        "payload_end",
        "proto",
        "sport",
        "src_ip",
        "src_mac",
        "tcp_ack",
        "tcp_flags",
        "tcp_seq",
        "vlan",
        "wirelen",
    )

    def __init__(
        self,
        data: bytes,
        wirelen: int,
        src_mac: bytes | None,
        dst_mac: bytes | None,
        ethertype: int,
        l3_at: int,
        vlan: int | None,
    ) -> None:
        self.data = data
        self.wirelen = wirelen
        self.src_mac = src_mac
        self.dst_mac = dst_mac
        self.ethertype = ethertype
        self.l3_at = l3_at
        self.vlan = vlan
        self.src_ip: bytes | None = None
        self.dst_ip: bytes | None = None
        self.proto = 0
        self.sport = 0
        self.dport = 0
        self.tcp_flags = 0
        self.tcp_seq = 0
        self.tcp_ack = 0
        self.fragment = False  # part of a fragmented datagram (see decode/fragments.py)
        self.fragment_id = 0
        self.fragment_offset = 0  # in bytes
        self.more_fragments = False
        self.l4_at = 0  # where the IP payload (the transport header) starts
        self.payload_at = 0
        self.payload_end = 0

    def payload(self) -> bytes:
        """The transport payload (TCP or UDP data), without link-layer padding."""
        return self.data[self.payload_at : self.payload_end]


def decode_frame(linktype: int, data: bytes, wirelen: int) -> Packet | None:
    """Decode one frame's headers. None for frames of no interest (not IP or ARP)."""
    try:
        if linktype == LINKTYPE_ETHERNET and data[12:14] == ETH_IPV4_FIELD:  # the common case, inlined
            if data[14] == 0x45 and data[23] == PROTO_TCP and len(data) >= 54:
                pkt = _plain_tcp(data, wirelen)  # most packets of all: one unpack
                if pkt is not None:
                    return pkt
            pkt = Packet(data, wirelen, data[6:12], data[0:6], ETH_IPV4, 14, None)
            _ipv4_layer(pkt)
            if pkt.proto != PROTO_TCP and _tunneled(pkt):  # TCP, most packets, asks nothing more
                return _decapsulate(pkt)
            return pkt
        reader = LINK_READERS.get(linktype)
        if reader is None:
            return None
        link = reader(data)
        if link is None:
            return None
        pkt = Packet(data, wirelen, *link)
        if not _network_layer(pkt):
            return None
        if pkt.proto != PROTO_TCP and _tunneled(pkt):
            return _decapsulate(pkt)
        return pkt
    except (struct.error, IndexError) as exc:
        raise DecodeError(f"frame cut short in its headers ({len(data)} bytes)") from exc


def _plain_tcp(data: bytes, wirelen: int) -> Packet | None:
    """TCP in IPv4 without options on Ethernet, not a fragment: the headers in one
    unpack. None for anything else (the general path decodes it, and says what is wrong)."""
    _vihl, _tos, total, _ident, frag, _ttl, _p, _csum, src, dst, sport, dport, seq, ack, offset, flags = (
        _ipv4_tcp(data, 14)
    )
    if frag & 0x3FFF or offset < 0x50:
        return None
    pkt = Packet(data, wirelen, data[6:12], data[0:6], ETH_IPV4, 14, None)
    pkt.src_ip, pkt.dst_ip, pkt.proto = src, dst, PROTO_TCP
    size = len(data)
    end = 14 + total if total >= 20 else size  # total 0: segmentation offload, as in _ipv4_layer
    pkt.l4_at, pkt.sport, pkt.dport = 34, sport, dport
    pkt.tcp_seq, pkt.tcp_ack, pkt.tcp_flags = seq, ack, flags
    payload_at = 34 + (offset >> 4) * 4
    pkt.payload_at = payload_at
    pkt.payload_end = max(payload_at, min(end, size))
    return pkt


def _network_layer(pkt: Packet) -> bool:
    """IPv4 or IPv6 at pkt.l3_at; True for those and for ARP, False for anything else."""
    etype = pkt.ethertype
    if etype == ETH_IPV4:
        _ipv4_layer(pkt)
    elif etype == ETH_IPV6:
        _ipv6_layer(pkt)
    else:
        return etype == ETH_ARP
    return True


def _tunneled(pkt: Packet) -> bool:
    return pkt.proto in TUNNEL_PROTOS or (pkt.proto == PROTO_UDP and pkt.dport in TUNNEL_PORTS)


def _decapsulate(outer: Packet) -> Packet:
    """The packet a tunnel carries (decode/tunnels.py), at most TUNNEL_DEPTH deep; the
    outer one when it cannot be opened (a fragment, an unknown payload)."""
    pkt = outer
    for _ in range(TUNNEL_DEPTH):
        if pkt.fragment:
            return pkt
        inner = inner_of(pkt.data, pkt.proto, pkt.l4_at, pkt.payload_at, pkt.dport)
        if inner is None:
            return pkt
        etype, at, bridged = inner
        src_mac, dst_mac, vlan = pkt.src_mac, pkt.dst_mac, pkt.vlan
        if bridged:
            frame = ethernet(pkt.data, at)
            if frame is None:
                return pkt
            src_mac, dst_mac, etype, at, _inner_vlan = frame
        candidate = Packet(pkt.data, pkt.wirelen, src_mac, dst_mac, etype, at, vlan)
        if not _network_layer(candidate):
            return pkt
        pkt = candidate
        if not _tunneled(pkt):
            return pkt
    return pkt


def _ipv4_layer(pkt: Packet) -> None:
    at = pkt.l3_at
    vihl, _tos, total, ident, frag, _ttl, proto, _csum, src, dst = _ipv4(pkt.data, at)
    if vihl >> 4 != 4:
        raise DecodeError(f"IPv4 header with version {vihl >> 4}")
    ihl = (vihl & 0x0F) * 4
    if ihl < 20:
        raise DecodeError(f"IPv4 header length {ihl} is below the minimum of 20")
    pkt.src_ip = src
    pkt.dst_ip = dst
    pkt.proto = proto
    # total == 0 happens with TCP segmentation offload on the capturing host.
    end = at + total if total >= ihl else len(pkt.data)
    pkt.payload_end = min(end, len(pkt.data))
    pkt.l4_at = at + ihl
    if frag & 0x3FFF:
        pkt.fragment = True
        pkt.fragment_id = ident
        pkt.fragment_offset = (frag & 0x1FFF) * 8
        pkt.more_fragments = bool(frag & 0x2000)
        if pkt.fragment_offset:  # a later fragment: no transport header in it
            return
    _transport_layer(pkt, at + ihl)


def _ipv6_layer(pkt: Packet) -> None:
    at = pkt.l3_at
    data = pkt.data
    vtf, plen, nxt, _hlim, src, dst = _ipv6(data, at)
    if vtf >> 28 != 6:
        raise DecodeError(f"IPv6 header with version {vtf >> 28}")
    pkt.src_ip = src
    pkt.dst_ip = dst
    pkt.payload_end = min(at + 40 + plen, len(data)) if plen else len(data)
    pos = at + 40
    for _ in range(8):  # a bound on the chain, so a hostile packet cannot loop us
        if nxt in IPV6_EXTENSION_HEADERS:
            nxt, hlen = data[pos], (data[pos + 1] + 1) * 8
            pos += hlen
        elif nxt == IPV6_FRAGMENT:
            offset_flags, ident = struct.unpack_from("!HI", data, pos + 2)
            nxt = data[pos]
            pos += 8
            pkt.fragment = True
            pkt.fragment_id = ident
            pkt.fragment_offset = offset_flags & 0xFFF8
            pkt.more_fragments = bool(offset_flags & 1)
            if pkt.fragment_offset:
                pkt.proto = nxt
                pkt.l4_at = pos
                return
        elif nxt == IPV6_AH:
            nxt, hlen = data[pos], (data[pos + 1] + 2) * 4
            pos += hlen
        else:
            break
    pkt.proto = nxt
    pkt.l4_at = pos
    _transport_layer(pkt, pos)


def reassembled(first: Packet, datagram: bytes) -> Packet:
    """A packet for a datagram put together from fragments: its transport header
    and payload are `datagram`; addresses come from the first fragment."""
    pkt = Packet(datagram, first.wirelen, first.src_mac, first.dst_mac, first.ethertype, 0, first.vlan)
    pkt.src_ip, pkt.dst_ip, pkt.proto = first.src_ip, first.dst_ip, first.proto
    pkt.payload_end = len(datagram)
    try:
        _transport_layer(pkt, 0)
    except (struct.error, IndexError) as exc:
        raise DecodeError("reassembled datagram cut short in its transport header") from exc
    return pkt


def _transport_layer(pkt: Packet, at: int) -> None:
    proto = pkt.proto
    if proto == PROTO_TCP:
        pkt.sport, pkt.dport = _ports(pkt.data, at)
        offset = (pkt.data[at + 12] >> 4) * 4
        if offset < 20:
            raise DecodeError(f"TCP data offset {offset} is below the minimum of 20")
        pkt.tcp_flags = pkt.data[at + 13]
        pkt.tcp_seq, pkt.tcp_ack = _seq_ack(pkt.data, at + 4)
        pkt.payload_at = at + offset
    elif proto == PROTO_UDP:
        pkt.sport, pkt.dport, ulen = struct.unpack_from("!HHH", pkt.data, at)
        pkt.payload_at = at + 8
        if ulen >= 8:
            pkt.payload_end = min(pkt.payload_end, at + ulen)
    elif proto in (PROTO_ICMP, PROTO_ICMPV6):
        pkt.sport, pkt.dport = pkt.data[at], pkt.data[at + 1]  # type and code, as Zeek does
        pkt.payload_at = at + 4
    else:
        pkt.payload_at = at
    if pkt.payload_end < pkt.payload_at:
        pkt.payload_end = pkt.payload_at
