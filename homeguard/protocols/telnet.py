"""Telnet: remote logins in clear text (the default passwords Mirai tries)."""

from __future__ import annotations

from homeguard.events.catalog import FieldSpec
from homeguard.protocols.spec import ProtocolSpec, StreamSpec
from homeguard.sessions.textproto import Telnet

EVENT_TYPES: dict[str, str] = {}
FIELDS: tuple[FieldSpec, ...] = ()


def looks_like_telnet(head: bytes) -> bool:
    """Option negotiation (IAC WILL/DO) or a login prompt, whatever the port."""
    return (head[:1] == b"\xff" and head[1:2] in (b"\xfb", b"\xfd")) or head.rstrip().lower().endswith(
        b"login:"
    )


SPEC = ProtocolSpec(
    "telnet",
    "Telnet logins",
    EVENT_TYPES,
    FIELDS,
    stream=StreamSpec(Telnet, ports=(23, 2323), greeting=looks_like_telnet, greeting_order=50),
)
