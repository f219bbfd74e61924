"""SMTP: mail sent without TLS, AUTH logins, and the server's software in its greeting."""

from __future__ import annotations

from homeguard.events.catalog import field
from homeguard.protocols.spec import ProtocolSpec, StreamSpec
from homeguard.sessions.textproto import Smtp

EVENT_TYPES = {
    "smtp": "An SMTP command from the client (AUTH data is left out; message bodies are not read).",
}
FIELDS = (
    field("smtp.command", "text", "smtp", "The command, upper case: EHLO, MAIL, RCPT, DATA, AUTH, ..."),
    field("smtp.arg", "text", "smtp", "Its argument (for AUTH only the mechanism)."),
)


SPEC = ProtocolSpec(
    "smtp",
    "SMTP submission and relay",
    EVENT_TYPES,
    FIELDS,
    stream=StreamSpec(
        Smtp,
        ports=(25, 587),
        greeting=lambda head: head.startswith(b"220") and b"SMTP" in head.upper(),
        greeting_order=10,
        first_bytes=b"2",
    ),
)
