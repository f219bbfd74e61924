"""Exported findings and the sensor's health as Elastic Common Schema documents (ECS 8.x).

Every field is an ECS field, or sits under `homeguard.` (our own). A document is ready for
Filebeat's filestream input with the ndjson parser, Elastic Agent, Vector, Fluent Bit,
and Elasticsearch or OpenSearch behind them; Splunk and Sentinel read it as JSON.
"""

from __future__ import annotations

import datetime
import hashlib
import socket
from dataclasses import dataclass
from typing import Any

from homeguard import __version__
from homeguard.outputs.export.partition import SENSOR, Exported, Side

ECS_VERSION = "8.12.0"
# event.severity: ECS leaves the scale to the source; ours is 1 (info) to 5 (critical).
SEVERITY_NUMBER = {"info": 1, "low": 2, "medium": 3, "high": 4, "critical": 5}
# event.category, from the allowed values, by the part of our category before the dot.
CATEGORIES = {
    "network": ["network", "intrusion_detection"],
    "threat": ["network", "threat"],
    "insecure": ["network", "vulnerability"],
    "privacy": ["network"],
    "health": ["host"],
}


@dataclass(frozen=True, slots=True)
class Sensor:
    """This HomeGuard, as the SIEM sees it."""

    name: str  # observer.name: the site label, else the host name
    hostname: str
    site: str | None = None
    organization: str | None = None

    @classmethod
    def from_settings(cls, site: str | None, organization: str | None) -> Sensor:
        hostname = socket.gethostname()
        return cls(site or hostname, hostname, site, organization)


def event_id(sensor: Sensor, *parts: object) -> str:
    """Stable across re-sends: the SIEM removes duplicates by it."""
    text = "|".join([sensor.name, *(str(p) for p in parts)])
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def finding_document(exported: Exported, sensor: Sensor, created: float) -> dict[str, Any]:
    finding = exported.finding
    doc = _base(sensor, finding.ts, created)
    doc["message"] = f"{finding.title} ({exported.device})"
    doc["event"].update(
        {
            "kind": "alert",
            "category": CATEGORIES.get(finding.category.split(".")[0], ["network"]),
            "type": ["info"],
            "severity": SEVERITY_NUMBER.get(finding.severity, 1),
            "id": event_id(sensor, finding.rule, finding.device_mac, finding.key, finding.ts),
            "dataset": "homeguard.finding",
            "action": finding.rule,
        }
    )
    doc["rule"] = {
        "id": finding.rule,
        "name": finding.title,
        "category": finding.category,
        "ruleset": "homeguard",
    }
    for name, side in (("source", exported.source), ("destination", exported.destination)):
        fields = _side(side)
        if fields:
            doc[name] = fields
    if exported.transport:
        doc["network"] = {"transport": exported.transport}
    related = sorted({ip for ip in (exported.source.ip, exported.destination.ip) if ip})
    if related:
        doc["related"] = {"ip": related}
    doc["homeguard"] = {
        "subject": exported.subject,
        "device": exported.device,
        "severity": finding.severity,
        "category": finding.category,
    }
    if exported.peer_at_home:
        doc["homeguard"]["peer"] = "a device on the home network"
    if exported.subject == SENSOR:
        del doc["homeguard"]["device"]
    return doc


def health_document(sensor: Sensor, now: float, health: dict[str, Any]) -> dict[str, Any]:
    """The sensor's health: capture loss, what it can see, its version. Nothing about devices."""
    doc = _base(sensor, now, now)
    doc["message"] = f"HomeGuard sensor health: {health.get('visibility', 'unknown')}"
    doc["event"].update(
        {
            "kind": "metric",
            "category": ["host"],
            "type": ["info"],
            "id": event_id(sensor, "health", now),
            "dataset": "homeguard.health",
        }
    )
    doc["homeguard"] = {"health": health}
    return doc


def _base(sensor: Sensor, ts: float, created: float) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "@timestamp": _iso(ts),
        "ecs": {"version": ECS_VERSION},
        "event": {"created": _iso(created), "module": "homeguard"},
        "observer": {
            "name": sensor.name,
            "hostname": sensor.hostname,
            "type": "sensor",
            "vendor": "HomeGuard",
            "product": "HomeGuard",
            "version": __version__,
        },
    }
    if sensor.organization:
        doc["organization"] = {"name": sensor.organization}
    if sensor.site:
        doc["labels"] = {"site": sensor.site}
    return doc


def _side(side: Side) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if side.ip:
        fields["ip"] = side.ip
    if side.port is not None:
        fields["port"] = int(side.port)
    if side.mac:
        fields["mac"] = side.mac.upper().replace(":", "-")  # ECS writes MACs as 00-00-5E-00-53-23
    if side.domain:
        fields["domain"] = side.domain
    return fields


def _iso(ts: float) -> str:
    moment = datetime.datetime.fromtimestamp(ts, datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
