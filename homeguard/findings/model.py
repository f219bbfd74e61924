"""A finding: one rule's conclusion about one device, in words a person can act on."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SEVERITY_RANK = {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}


@dataclass(slots=True)
class Finding:
    rule: str
    title: str
    category: str
    severity: str
    ts: float
    device_mac: str  # "" when the event had no device
    device_ip: str | None
    key: str  # JSON of the rule's key fields: tells findings of one device apart
    messages: dict[str, str]  # language -> rendered message
    remediations: dict[str, str]
    evidence: dict[str, Any] = field(default_factory=dict)
    alert: bool = True  # False for mode: record, and for repeats inside suppress.for
    count: int = 1
    titles: dict[str, str] = field(default_factory=dict)  # language -> title
    tags: tuple[str, ...] = ()  # the rule's tags, for targets that only want some
    device: str = ""  # the device as a person knows it: its name, else maker and MAC
    suppress_for: float = 0.0  # the rule's suppress.for: no second alert for this finding within it
    endpoints: dict[str, Any] = field(default_factory=dict)  # the event's ENDPOINT_FIELDS, for exports


# Who talked to whom in the event behind a finding: what an export to an IT department's
# SIEM may carry about the work device's side (outputs/export/partition.py decides).
ENDPOINT_FIELDS = ("src.mac", "src.ip", "src.port", "dst.mac", "dst.ip", "dst.port", "proto", "server.name")
