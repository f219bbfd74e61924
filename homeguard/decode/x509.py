"""Just enough DER to read who a certificate names, who signed it, and when it is valid."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from homeguard.decode.asn1 import read_tlv
from homeguard.decode.text import network_text
from homeguard.errors import DecodeError

NAME_ATTRIBUTES = {
    b"\x55\x04\x03": "CN",
    b"\x55\x04\x0a": "O",
    b"\x55\x04\x0b": "OU",
    b"\x55\x04\x06": "C",
    b"\x55\x04\x07": "L",
    b"\x55\x04\x08": "ST",
}


@dataclass(slots=True, frozen=True)
class Certificate:
    subject: str
    issuer: str
    not_before: float | None
    not_after: float | None

    @property
    def self_signed(self) -> bool:
        return self.subject == self.issuer


def _tlv(buf: bytes, pos: int) -> tuple[int, int, int]:
    return read_tlv(buf, pos, "DER")


def _children(buf: bytes, start: int, end: int) -> list[tuple[int, int, int]]:
    out: list[tuple[int, int, int]] = []
    while start < end and len(out) < 64:
        tag, vstart, vend = _tlv(buf, start)
        out.append((tag, vstart, vend))
        start = vend
    return out


def _name(buf: bytes, start: int, end: int) -> str:
    parts = []
    for _set_tag, s, e in _children(buf, start, end):
        for _seq_tag, s2, e2 in _children(buf, s, e):
            pair = _children(buf, s2, e2)
            if len(pair) >= 2:
                oid = buf[pair[0][1] : pair[0][2]]
                label = NAME_ATTRIBUTES.get(oid)
                if label:
                    value = network_text(buf[pair[1][1] : pair[1][2]], 256)
                    parts.append(f"{label}={value}")
    return ", ".join(parts)


def _time(buf: bytes, tag: int, start: int, end: int) -> float | None:
    text = buf[start:end].decode("ascii", "replace").rstrip("Z")
    try:
        if tag == 0x17:  # UTCTime: YYMMDDHHMMSS
            moment = datetime.strptime(text[:12], "%y%m%d%H%M%S")
        else:  # GeneralizedTime: YYYYMMDDHHMMSS
            moment = datetime.strptime(text[:14], "%Y%m%d%H%M%S")
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC).timestamp()


def parse_certificate(der: bytes) -> Certificate:
    try:
        return _certificate(der)
    except IndexError as exc:
        raise DecodeError("certificate structure is not as X.509 has it") from exc


def _certificate(der: bytes) -> Certificate:
    _tag, start, end = _tlv(der, 0)
    _tbs_tag, tbs_start, tbs_end = _children(der, start, end)[0]
    fields = _children(der, tbs_start, tbs_end)
    if fields and fields[0][0] == 0xA0:  # [0] version
        fields = fields[1:]
    if len(fields) < 5:
        raise DecodeError("certificate has too few fields")
    _serial, _algorithm, issuer, validity, subject = fields[:5]
    times = _children(der, validity[1], validity[2])
    not_before = _time(der, *times[0]) if len(times) > 0 else None
    not_after = _time(der, *times[1]) if len(times) > 1 else None
    subject_name = _name(der, subject[1], subject[2])
    return Certificate(subject_name, _name(der, issuer[1], issuer[2]), not_before, not_after)
