"""ArcSight's Common Event Format, for Splunk, QRadar and ArcSight, made from the ECS
document so that both formats carry exactly the same facts.

CEF:Version|Device Vendor|Device Product|Device Version|Signature ID|Name|Severity|Extension
Header fields escape \\ and |; extension values escape \\, = and line breaks.
"""

from __future__ import annotations

import datetime
from typing import Any

# CEF severity runs 0-10; ours (event.severity 1-5) spread over it.
CEF_SEVERITY = {1: 1, 2: 3, 3: 5, 4: 8, 5: 10}
SIDE_KEYS = {  # ECS source.* and destination.* as CEF's extension keys
    "source": {"ip": "src", "port": "spt", "mac": "smac", "domain": "shost"},
    "destination": {"ip": "dst", "port": "dpt", "mac": "dmac", "domain": "dhost"},
}


def cef_line(doc: dict[str, Any]) -> str:
    event, observer = doc["event"], doc["observer"]
    rule = doc.get("rule", {})
    header = [
        "CEF:0",
        _header(observer["vendor"]),
        _header(observer["product"]),
        _header(observer["version"]),
        _header(rule.get("id") or event["dataset"]),
        _header(rule.get("name") or doc["message"]),
        str(CEF_SEVERITY.get(event.get("severity", 1), 1)),
    ]
    return "|".join(header) + "|" + " ".join(f"{k}={_value(v)}" for k, v in _extension(doc))


def _extension(doc: dict[str, Any]) -> list[tuple[str, Any]]:
    event, observer = doc["event"], doc["observer"]
    stamp = datetime.datetime.fromisoformat(doc["@timestamp"].replace("Z", "+00:00"))
    pairs: list[tuple[str, Any]] = [
        ("rt", int(stamp.timestamp() * 1000)),
        ("externalId", event["id"]),
        ("dvchost", observer["hostname"]),
        ("deviceExternalId", observer["name"]),
        ("msg", doc["message"]),
    ]
    if "rule" in doc:
        pairs.append(("cat", doc["rule"]["category"]))
    for ecs_side, keys in SIDE_KEYS.items():
        side = doc.get(ecs_side, {})
        for field, key in keys.items():
            if field in side:
                value = side[field].replace("-", ":") if field == "mac" else side[field]
                pairs.append((key, value))
    if "network" in doc:
        pairs.append(("proto", doc["network"]["transport"]))
    labels = doc.get("labels", {})
    if "site" in labels:
        pairs += [("cs1Label", "site"), ("cs1", labels["site"])]
    if "organization" in doc:
        pairs += [("cs2Label", "organization"), ("cs2", doc["organization"]["name"])]
    subject = doc.get("homeguard", {}).get("subject")
    if subject:
        pairs += [("cs3Label", "subject"), ("cs3", subject)]
    return pairs


def _header(value: object) -> str:
    return str(value).replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def _value(value: object) -> str:
    text = str(value).replace("\\", "\\\\").replace("=", "\\=")
    return text.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\r")
