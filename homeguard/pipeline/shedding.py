"""Load shedding: when the kernel drops packets, HomeGuard stops decoding the bulk of
connections nobody reads, and keeps everything else.

A TCP segment without SYN, FIN or RST, on an IPv4 flow HomeGuard already tracks and
whose payload no session reader wants (flow.session is False: the TLS handshake, HTTP
head or login is behind it), carries nothing but bytes. Under load such a segment is
counted into its flow straight from fixed header offsets, without the full decode.
DNS, TLS handshakes, logins, ARP, DHCP and new devices all still take the full path.
"""

from __future__ import annotations

from homeguard.state.flows import FlowTable

ETH_IPV4 = b"\x08\x00"
TCP_SYN_FIN_RST = 0x07
PROTO_TCP = 6


def shed_bulk_segment(flows: FlowTable, linktype: int, data: bytes, wirelen: int, ts: float) -> bool:
    """Count the frame into its flow and return True if it is bulk that may be shed."""
    if linktype != 1 or len(data) < 54 or data[12:14] != ETH_IPV4 or data[23] != PROTO_TCP:
        return False
    ihl = (data[14] & 0x0F) * 4
    tcp = 14 + ihl
    if (
        ihl < 20
        or len(data) < tcp + 14
        or data[tcp + 13] & TCP_SYN_FIN_RST
        or (data[20] & 0xBF) | data[21]  # MF, a fragment offset or the reserved bit: only DF may be set
    ):
        return False  # a handshake, a close, or a fragment: the full path
    src, dst = data[26:30], data[30:34]
    sport, dport = int.from_bytes(data[tcp : tcp + 2], "big"), int.from_bytes(data[tcp + 2 : tcp + 4], "big")
    table = flows.flows
    for key, outbound in (
        ((PROTO_TCP, src, sport, dst, dport), True),
        ((PROTO_TCP, dst, dport, src, sport), False),
    ):
        flow = table.get(key)
        if flow is None or flow.session is not False or flow.closed_at:
            continue
        flow.last = ts
        if outbound:
            flow.packets_out += 1
            flow.bytes_out += wirelen
        else:
            flow.packets_in += 1
            flow.bytes_in += wirelen
        return True
    return False
