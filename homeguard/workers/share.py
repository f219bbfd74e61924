"""Which replay worker a frame belongs to (`homeguard replay --workers N`).

Live capture leaves the spread to the kernel (PACKET_FANOUT_HASH, workers/pool.py). A
replay spreads by the frame's two IP addresses, put in order so that a packet and its
answer go alike, and hashed with CRC-32, which every process computes the same (Python's
own hash of bytes differs from process to process). Ports are left out on purpose: a
datagram's later fragments carry none, and every fragment must reach the worker that
reassembles it. Frames without IP (ARP, for one) go to the first worker.
"""

from __future__ import annotations

import struct
import zlib

from homeguard.decode.link import ETH_IPV4, ETH_IPV4_FIELD, ETH_IPV6, LINK_READERS, LINKTYPE_ETHERNET


def share_of(linktype: int, data: bytes, shares: int) -> int:
    """The worker (0 to shares - 1) whose share this frame is."""
    if shares == 1:
        return 0
    if linktype == LINKTYPE_ETHERNET and data[12:14] == ETH_IPV4_FIELD:  # most frames: IPv4 on Ethernet
        a, b = data[26:30], data[30:34]
    else:
        ends = _addresses(linktype, data)
        if ends is None:
            return 0
        a, b = ends
    return zlib.crc32(a + b if a <= b else b + a) % shares


def _addresses(linktype: int, data: bytes) -> tuple[bytes, bytes] | None:
    reader = LINK_READERS.get(linktype)
    if reader is None:
        return None
    try:
        link = reader(data)
    except (struct.error, IndexError):  # cut short: the decoder says so in its worker
        return None
    if link is None:
        return None
    at = link[3]
    if link[2] == ETH_IPV4:
        return data[at + 12 : at + 16], data[at + 16 : at + 20]
    if link[2] == ETH_IPV6:
        return data[at + 8 : at + 24], data[at + 24 : at + 40]
    return None
