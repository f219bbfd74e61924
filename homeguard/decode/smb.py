"""SMB negotiation: which dialects a client offers. SMBv1 (NT LM 0.12) is the protocol
WannaCry spread through, and should be off on every device."""

from __future__ import annotations

from homeguard.errors import DecodeError

SMB1_MAGIC = b"\xffSMB"
SMB2_MAGIC = b"\xfeSMB"
SMB1_NEGOTIATE = 0x72


def parse_negotiate(buf: bytes) -> tuple[int, list[str]] | None:
    """(SMB version, dialects offered) from a client's first message after the NetBIOS
    session header; None when it is not a negotiate request."""
    if len(buf) < 8:
        raise DecodeError("SMB message cut short")
    body = buf[4:]  # NetBIOS session service header
    if body.startswith(SMB2_MAGIC):
        return 2, []
    if not body.startswith(SMB1_MAGIC) or len(body) < 35 or body[4] != SMB1_NEGOTIATE:
        return None
    words = body[32]
    pos = 33 + 2 * words
    if pos + 2 > len(body):
        raise DecodeError("SMB negotiate cut short")
    count = int.from_bytes(body[pos : pos + 2], "little")
    data = body[pos + 2 : pos + 2 + count]
    dialects = [d[1:].decode("ascii", "replace") for d in data.split(b"\0") if d.startswith(b"\x02")]
    return 1, dialects
