"""BER/DER type-length-value elements, as SNMP and X.509 certificates use them."""

from __future__ import annotations

from homeguard.errors import DecodeError


def read_tlv(buf: bytes, pos: int, what: str = "ASN.1") -> tuple[int, int, int]:
    """(tag, start of value, end of value) of the element at pos; lengths are checked."""
    if pos + 2 > len(buf):
        raise DecodeError(f"{what} element cut short")
    tag, first = buf[pos], buf[pos + 1]
    pos += 2
    if first & 0x80:
        count = first & 0x7F
        if not 0 < count <= 4 or pos + count > len(buf):
            raise DecodeError(f"{what} length is not usable")
        length = int.from_bytes(buf[pos : pos + count], "big")
        pos += count
    else:
        length = first
    if pos + length > len(buf):
        raise DecodeError(f"{what} element runs past its container")
    return tag, pos, pos + length
