"""POP3: mail fetched without TLS, and USER/PASS logins."""

from __future__ import annotations

from homeguard.events.catalog import field
from homeguard.protocols.spec import ProtocolSpec, StreamSpec
from homeguard.sessions.textproto import Pop3

EVENT_TYPES = {
    "pop3": "A POP3 command from the client (the PASS argument is left out).",
}
FIELDS = (
    field("pop3.command", "text", "pop3", "The command, upper case: USER, PASS, APOP, RETR, ..."),
    field("pop3.arg", "text", "pop3", "Its argument (never for PASS; only the mechanism for AUTH)."),
)


SPEC = ProtocolSpec(
    "pop3",
    "POP3 mail retrieval",
    EVENT_TYPES,
    FIELDS,
    stream=StreamSpec(
        Pop3, ports=(110,), greeting=lambda head: head.startswith(b"+OK"), greeting_order=30, first_bytes=b"+"
    ),
)
