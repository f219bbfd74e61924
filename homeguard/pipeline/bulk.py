"""Bulk segments: the TCP segments in the middle of a connection nobody reads, counted
straight from fixed header offsets instead of decoded.

Most packets of a household are such segments: a video, a download, a backup. A TCP
segment without SYN, FIN or RST, in plain IPv4 on Ethernet (no options, not a
fragment), on a flow HomeGuard tracks whose payload no session reader wants
(flow.session is False: the TLS handshake, HTTP head or login is behind it), from a
device already known, changes nothing but the counters of its flow and the device's
last_seen, as long as it does not accept the flow (the responder's first data, when the
capture missed the handshake, is a flow_established). The full path would do exactly
that and no more. Anything else takes the full path, which also says what is wrong with
a broken header.

Under load (load shedding: the kernel drops packets) a segment from a MAC not yet
admitted is counted without decoding too: that device is announced at its next packet
that is not bulk. DNS, TLS handshakes, logins, ARP, DHCP, new flows and the end of
every flow still take the full path.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping

from homeguard.decode.link import ETH_IPV4_FIELD
from homeguard.state.devices import Device
from homeguard.state.flows import FlowTable

IPV4_NO_OPTIONS = 0x45  # version 4, a 20-byte header
TCP_SYN_FIN_RST = 0x07
PROTO_TCP = 6
SEGMENT_MIN = 54  # Ethernet, IPv4 and TCP headers
_addresses_ports = struct.Struct("!4s4sHH").unpack_from


def count_bulk_segment(
    flows: FlowTable, devices: Mapping[bytes, Device], data: bytes, wirelen: int, ts: float, shedding: bool
) -> bool:
    """Count an Ethernet frame into its flow and return True if it is a bulk segment
    (see the module's docstring); False, having changed nothing, for any other frame."""
    if (
        len(data) < SEGMENT_MIN
        or data[14] != IPV4_NO_OPTIONS
        or data[23] != PROTO_TCP
        or data[12:14] != ETH_IPV4_FIELD
        or data[47] & TCP_SYN_FIN_RST
        or data[46] < 0x50  # a TCP header shorter than 20 bytes: broken
        or (data[20] & 0xBF) | data[21]  # MF, a fragment offset or the reserved bit: only DF may be set
    ):
        return False
    src, dst, sport, dport = _addresses_ports(data, 26)
    table = flows.flows
    flow = table.get((PROTO_TCP, src, sport, dst, dport))
    outbound = flow is not None
    if flow is None:
        flow = table.get((PROTO_TCP, dst, dport, src, sport))
    if flow is None or flow.session is not False or flow.closed_at or not (outbound or flow.established):
        return False
    device = devices.get(data[6:12])
    if device is None and not shedding:
        return False
    if device is not None:
        device.last_seen = ts
    flow.last = ts
    if outbound:
        flow.packets_out += 1
        flow.bytes_out += wirelen
    else:
        flow.packets_in += 1
        flow.bytes_in += wirelen
    return True
