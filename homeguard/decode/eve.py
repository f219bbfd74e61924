"""Suricata's EVE JSON records, read into what HomeGuard's events carry. Suricata (on
OPNsense, pfSense, SELKS or a bigger box) captures and decodes on many cores; HomeGuard
adds the household's view of what it saw (pipeline/eve.py follows the file).

Read: `flow`, `dns` (EVE versions 2 and 3), `tls`, `http` and `dhcp` records, as the EVE
format's documentation describes them. Other record types are skipped. Every field is
checked for its type; names and texts are made safe as every name from the network is,
and URIs are redacted of personal data as HomeGuard's own HTTP reader does.
"""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from homeguard.decode.pii import redact
from homeguard.decode.text import network_name, network_text
from homeguard.errors import DecodeError

MAX_RECORD = 64 << 10  # bytes: a longer line is not a record HomeGuard reads
TYPES = ("flow", "dns", "tls", "http", "dhcp")
PROTOCOLS = {"TCP": 6, "UDP": 17, "ICMP": 1, "IPV6-ICMP": 58, "SCTP": 132}


@dataclass(slots=True)
class EveRecord:
    kind: str  # one of TYPES
    ts: float
    proto: int
    src_ip: str
    sport: int
    dst_ip: str
    dport: int
    body: dict[str, Any] = field(default_factory=dict)  # the record's own part, checked


def eve_time(text: Any) -> float:
    """2026-12-01T09:40:00.123456+0000, as EVE writes times."""
    if not isinstance(text, str):
        raise DecodeError("EVE: a time that is not text")
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()
    except ValueError:
        try:
            return datetime.fromisoformat(text).timestamp()
        except ValueError as exc:
            raise DecodeError(f"EVE: {text[:40]!r} is not a time") from exc


def read_eve(line: bytes) -> EveRecord | None:
    """The record on a line, None for a record type HomeGuard does not read."""
    if len(line) > MAX_RECORD:
        raise DecodeError("EVE: a record longer than 64 KiB")
    try:
        record = json.loads(line)
    except (ValueError, RecursionError) as exc:
        raise DecodeError("EVE: not a JSON record") from exc
    if not isinstance(record, dict):
        raise DecodeError("EVE: not a JSON object")
    kind = record.get("event_type")
    if kind not in TYPES or not isinstance(record.get(kind), dict):
        return None
    return EveRecord(
        kind,
        eve_time(record.get("timestamp")),
        PROTOCOLS.get(str(record.get("proto", "")).upper(), 0),
        _address(record.get("src_ip")),
        _port(record.get("src_port")),
        _address(record.get("dest_ip")),
        _port(record.get("dest_port")),
        record[kind],
    )


def _address(value: Any) -> str:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError as exc:
        raise DecodeError(f"EVE: {str(value)[:40]!r} is not an address") from exc


def _port(value: Any) -> int:
    if value is None:
        return 0
    if not isinstance(value, int) or not 0 <= value <= 0xFFFF:
        raise DecodeError("EVE: a port that is not a number from 0 to 65535")
    return value


def number(body: dict[str, Any], key: str) -> int:
    value = body.get(key, 0)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise DecodeError(f"EVE: {key} is not a count")
    return value


def text(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    return network_text(value) if isinstance(value, str) and value else None


def name(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    return network_name(value) if isinstance(value, str) and value else None


def uri(body: dict[str, Any]) -> str | None:
    value = text(body, "url")
    return redact(value) if value else None


def dns_question(body: dict[str, Any]) -> tuple[str | None, str | None]:
    """(name, type) asked: EVE 2 writes them on the record, EVE 3 in `queries`."""
    queries = body.get("queries")
    if isinstance(queries, list) and queries and isinstance(queries[0], dict):
        return name(queries[0], "rrname"), text(queries[0], "rrtype")
    return name(body, "rrname"), text(body, "rrtype")


def dns_answers(body: dict[str, Any]) -> list[str]:
    """The A and AAAA addresses answered, as checked text."""
    answers = body.get("answers")
    found = []
    for answer in answers if isinstance(answers, list) else []:
        if isinstance(answer, dict) and answer.get("rrtype") in ("A", "AAAA"):
            try:
                found.append(str(ipaddress.ip_address(str(answer.get("rdata")))))
            except ValueError:
                continue
    return found
