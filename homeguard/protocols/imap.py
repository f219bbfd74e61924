"""IMAP: mail read without TLS, and LOGIN/AUTHENTICATE logins."""

from __future__ import annotations

from homeguard.events.catalog import field
from homeguard.protocols.spec import ProtocolSpec, StreamSpec
from homeguard.sessions.textproto import Imap

EVENT_TYPES = {
    "imap": "An IMAP command from the client (LOGIN passwords are replaced by <redacted>).",
}
FIELDS = (
    field("imap.tag", "text", "imap", "The client's command tag."),
    field("imap.command", "text", "imap", "The command, upper case: LOGIN, SELECT, FETCH, ..."),
    field(
        "imap.request",
        "text",
        "imap",
        "The whole command line, with a LOGIN password replaced by <redacted>.",
    ),
)


SPEC = ProtocolSpec(
    "imap",
    "IMAP mail access",
    EVENT_TYPES,
    FIELDS,
    stream=StreamSpec(
        Imap,
        ports=(143,),
        greeting=lambda head: head.startswith(b"* OK"),
        greeting_order=40,
        first_bytes=b"*",
    ),
)
