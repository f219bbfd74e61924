"""SSH: the software versions in the banners (old OpenSSH and Dropbear have CVEs)."""

from __future__ import annotations

from homeguard.events.catalog import FieldSpec
from homeguard.protocols.spec import ProtocolSpec, StreamSpec
from homeguard.sessions.textproto import Ssh

EVENT_TYPES: dict[str, str] = {}
FIELDS: tuple[FieldSpec, ...] = ()


SPEC = ProtocolSpec(
    "ssh",
    "SSH banners",
    EVENT_TYPES,
    FIELDS,
    stream=StreamSpec(
        Ssh,
        ports=(22,),
        probe=lambda payload, _c: payload.startswith(b"SSH-"),
        probe_order=30,
        first_bytes=b"S",
    ),
)
