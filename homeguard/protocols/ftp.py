"""FTP: commands and logins in clear text, and the server's software in its greeting."""

from __future__ import annotations

from homeguard.events.catalog import field
from homeguard.protocols.spec import ProtocolSpec, StreamSpec
from homeguard.sessions.textproto import Ftp

EVENT_TYPES = {
    "ftp": "An FTP command from the client (the PASS argument is left out).",
}
FIELDS = (
    field("ftp.command", "text", "ftp", "The command, upper case: USER, PASS, RETR, STOR, ..."),
    field("ftp.arg", "text", "ftp", "Its argument (never for PASS)."),
)


SPEC = ProtocolSpec(
    "ftp",
    "FTP control connections",
    EVENT_TYPES,
    FIELDS,
    stream=StreamSpec(
        Ftp,
        ports=(21,),
        greeting=lambda head: head.startswith(b"220") and b"FTP" in head.upper(),
        greeting_order=20,
        first_bytes=b"2",
    ),
)
