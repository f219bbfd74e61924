"""Link layers: find the network-layer header inside a captured frame.

Each reader takes the frame bytes and returns (src MAC, dst MAC, ethertype, offset of
the network header, VLAN id), or None for frames that carry no IP or ARP.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

ETH_IPV4 = 0x0800
ETH_ARP = 0x0806
ETH_IPV6 = 0x86DD
LINKTYPE_ETHERNET = 1  # pcap's DLT_EN10MB: nearly every capture
ETH_IPV4_FIELD = ETH_IPV4.to_bytes(2, "big")  # as it stands in a frame, for the fast paths' byte tests
VLAN_TYPES = frozenset((0x8100, 0x88A8, 0x9100))
SNAP_PREFIX = b"\xaa\xaa\x03"

LinkResult = tuple[bytes | None, bytes | None, int, int, int | None] | None
LinkReader = Callable[[bytes], LinkResult]

_u16 = struct.Struct("!H").unpack_from


def ethernet(data: bytes, start: int = 0) -> LinkResult:
    dst = data[start : start + 6]
    src = data[start + 6 : start + 12]
    etype = _u16(data, start + 12)[0]
    pos = start + 14
    vlan = None
    while etype in VLAN_TYPES:
        tci, etype = struct.unpack_from("!HH", data, pos)
        if vlan is None:
            vlan = tci & 0x0FFF
        pos += 4
    if etype <= 1500:  # 802.3 length field: only SNAP-encapsulated IP is of interest
        if data[pos : pos + 3] != SNAP_PREFIX:
            return None
        etype = _u16(data, pos + 6)[0]
        pos += 8
    return (src, dst, etype, pos, vlan)


def raw_ip(data: bytes) -> LinkResult:
    version = data[0] >> 4
    if version == 4:
        return (None, None, ETH_IPV4, 0, None)
    if version == 6:
        return (None, None, ETH_IPV6, 0, None)
    return None


def _fixed(etype: int) -> LinkReader:
    def reader(data: bytes) -> LinkResult:
        return (None, None, etype, 0, None)

    return reader


def bsd_null(data: bytes, big_endian: bool = False) -> LinkResult:
    family = struct.unpack_from("!I" if big_endian or data[:2] == b"\0\0" else "<I", data, 0)[0]
    if family == 2:
        return (None, None, ETH_IPV4, 4, None)
    if family in (10, 24, 28, 30):
        return (None, None, ETH_IPV6, 4, None)
    return None


def linux_sll(data: bytes) -> LinkResult:
    addr_len = _u16(data, 4)[0]
    src = data[6:12] if addr_len == 6 else None
    return (src, None, _u16(data, 14)[0], 16, None)


def linux_sll2(data: bytes) -> LinkResult:
    addr_len = data[11]
    src = data[12:18] if addr_len == 6 else None
    return (src, None, _u16(data, 0)[0], 20, None)


PPP_TO_ETHERTYPE = {0x0021: ETH_IPV4, 0x0057: ETH_IPV6}


def ppp(data: bytes) -> LinkResult:
    pos = 2 if data[:2] == b"\xff\x03" else 0
    proto = data[pos] if data[pos] & 1 else _u16(data, pos)[0]
    pos += 1 if data[pos] & 1 else 2
    etype = PPP_TO_ETHERTYPE.get(proto)
    return None if etype is None else (None, None, etype, pos, None)


def ieee80211(data: bytes, start: int = 0) -> LinkResult:
    fc0, fc1 = data[start], data[start + 1]
    if (fc0 >> 2) & 3 != 2 or fc1 & 0x40:  # only unprotected data frames carry IP we can read
        return None
    to_ds, from_ds = fc1 & 1, fc1 & 2
    a1, a2, a3 = data[start + 4 : start + 10], data[start + 10 : start + 16], data[start + 16 : start + 22]
    pos = start + 24
    if to_ds and from_ds:
        dst, src = a3, data[pos : pos + 6]
        pos += 6
    elif to_ds:
        dst, src = a3, a2
    elif from_ds:
        dst, src = a1, a3
    else:
        dst, src = a1, a2
    if fc0 & 0x80:  # QoS data
        pos += 2
        if fc1 & 0x80:
            pos += 4
    if data[pos : pos + 3] != SNAP_PREFIX:
        return None
    return (src, dst, _u16(data, pos + 6)[0], pos + 8, None)


def fddi(data: bytes) -> LinkResult:
    """FDDI: frame control, then destination and source, then LLC/SNAP."""
    if data[13:16] != SNAP_PREFIX:
        return None
    return (data[7:13], data[1:7], _u16(data, 19)[0], 21, None)


def radiotap(data: bytes) -> LinkResult:
    return ieee80211(data, struct.unpack_from("<H", data, 2)[0])


# pcap LINKTYPE_* numbers (tcpdump.org/linktypes.html) and the readers for them.
LINK_READERS: dict[int, LinkReader] = {
    0: bsd_null,
    1: ethernet,
    9: ppp,
    10: fddi,
    12: raw_ip,
    14: raw_ip,
    50: ppp,
    101: raw_ip,
    105: ieee80211,
    108: lambda data: bsd_null(data, big_endian=True),
    113: linux_sll,
    127: radiotap,
    228: _fixed(ETH_IPV4),
    229: _fixed(ETH_IPV6),
    276: linux_sll2,
}
