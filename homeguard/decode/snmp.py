"""SNMP v1 and v2c: the community string is a password sent in clear text."""

from __future__ import annotations

from dataclasses import dataclass

from homeguard.decode.asn1 import read_tlv
from homeguard.errors import DecodeError

PDU_NAMES = {
    0xA0: "get",
    0xA1: "get-next",
    0xA2: "response",
    0xA3: "set",
    0xA4: "trap",
    0xA5: "get-bulk",
    0xA6: "inform",
    0xA7: "trap",
    0xA8: "report",
}


@dataclass(slots=True, frozen=True)
class SnmpMessage:
    version: int  # 0: v1, 1: v2c, 3: v3
    community: bytes | None  # held only to compare with known defaults, then dropped
    pdu: str


def _tlv(buf: bytes, pos: int) -> tuple[int, int, int]:
    return read_tlv(buf, pos, "SNMP")


def parse_snmp(buf: bytes) -> SnmpMessage:
    tag, start, end = _tlv(buf, 0)
    if tag != 0x30:
        raise DecodeError("SNMP message is not a SEQUENCE")
    vtag, vstart, vend = _tlv(buf, start)
    if vtag != 0x02 or vend - vstart > 4:
        raise DecodeError("SNMP version is not an INTEGER")
    version = int.from_bytes(buf[vstart:vend], "big")
    if version == 3:
        return SnmpMessage(3, None, "v3")
    ctag, cstart, cend = _tlv(buf, vend)
    if ctag != 0x04:
        raise DecodeError("SNMP community is not an OCTET STRING")
    pdu = PDU_NAMES.get(buf[cend], f"pdu-{buf[cend]:#x}") if cend < end else "none"
    return SnmpMessage(version, buf[cstart:cend], pdu)
