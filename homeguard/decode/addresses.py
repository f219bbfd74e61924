"""Turning raw address bytes into the text people read and back, and classifying them."""

from __future__ import annotations

import socket

_inet_ntop = socket.inet_ntop
AF_INET = socket.AF_INET
AF_INET6 = socket.AF_INET6


def mac_text(raw: bytes) -> str:
    """aa:bb:cc:dd:ee:ff, lower case, as Wireshark writes it."""
    return raw.hex(":")


def ip_text(raw: bytes) -> str:
    """Dotted quad for 4 bytes, RFC 5952 text for 16 bytes."""
    return _inet_ntop(AF_INET if len(raw) == 4 else AF_INET6, raw)


def ip_bytes(text: object) -> bytes | None:
    """The raw address of an IPv4 or IPv6 text (ip_text's inverse); None for anything
    else. inet_pton: one C call, where ipaddress parses in Python."""
    text = str(text)
    try:
        return socket.inet_pton(AF_INET6 if ":" in text else AF_INET, text)
    except OSError:
        return None


def mac_bytes(text: object) -> bytes | None:
    """The six bytes of aa:bb:cc:dd:ee:ff (mac_text's inverse); None for anything else."""
    if not isinstance(text, str):
        return None
    try:
        raw = bytes.fromhex(text.replace(":", ""))
    except ValueError:
        return None
    return raw if len(raw) == 6 else None


def is_unicast_mac(raw: bytes | None) -> bool:
    return raw is not None and len(raw) == 6 and not raw[0] & 1 and raw != b"\x00" * 6


def is_randomized_mac(raw: bytes) -> bool:
    """Locally administered: the bit phones and laptops set on randomised addresses."""
    return bool(raw[0] & 2)


def is_local_ip(raw: bytes) -> bool:
    """An address that can only belong to a device inside the household.

    Public addresses seen behind a router belong to servers on the internet, or to
    the router itself, so only private and link-local ranges are tied to a device.
    """
    if len(raw) == 4:
        a, b = raw[0], raw[1]
        return a == 10 or (a == 172 and 16 <= b <= 31) or (a == 192 and b == 168) or (a == 169 and b == 254)
    if len(raw) == 16:
        return (raw[0] == 0xFE and raw[1] & 0xC0 == 0x80) or raw[0] & 0xFE == 0xFC
    return False


def is_group_ip(raw: bytes) -> bool:
    """Multicast, or IPv4 broadcast: addressed to a group at home, not to a server."""
    if len(raw) == 4:
        return 224 <= raw[0] <= 239 or raw == b"\xff\xff\xff\xff"
    return len(raw) == 16 and raw[0] == 0xFF
