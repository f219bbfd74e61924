"""SMB: the dialects a client offers (SMBv1 is obsolete and dangerous)."""

from __future__ import annotations

from homeguard.events.catalog import field
from homeguard.protocols.spec import ProtocolSpec, StreamSpec
from homeguard.sessions.binary import Smb

EVENT_TYPES = {
    "smb": "The SMB dialects a client offers (SMBv1 is obsolete and dangerous).",
}
FIELDS = (
    field("smb.version", "int", "smb", "1 for SMBv1 negotiation, 2 for SMB2 and later."),
    field("smb.dialects", "list[text]", "smb", "SMBv1: the dialects offered, such as NT LM 0.12."),
)


SPEC = ProtocolSpec(
    "smb", "SMB dialect negotiation", EVENT_TYPES, FIELDS, stream=StreamSpec(Smb, ports=(139, 445))
)
