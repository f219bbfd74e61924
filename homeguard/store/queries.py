"""Reading back what the store holds, for the CLI and for restarts."""

from __future__ import annotations

import json
import time
from typing import Any

from sqlite_utils import Database


def load_device_rows(db: Database, limit: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    devices = list(db.table("devices").rows_where(order_by="last_seen desc", limit=limit))
    ips = list(db.table("device_ips").rows_where())
    return devices, ips


def device_listing(db: Database) -> list[dict[str, Any]]:
    ips: dict[str, list[str]] = {}
    for row in db.table("device_ips").rows_where(order_by="last_seen desc"):
        ips.setdefault(row["mac"], []).append(row["ip"])
    out = []
    for row in db.table("devices").rows_where(order_by="last_seen desc"):
        row = dict(row)
        row["randomized"] = bool(row["randomized"])
        row["name"] = row["hostname"] or row["mdns_name"]
        row["ips"] = ips.get(row["mac"], [])
        row["last_seen_text"] = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(row["last_seen"]))
        out.append(row)
    return out


SEVERITY_ORDER = ("info", "low", "medium", "high", "critical")


def finding_listing(
    db: Database, *, after: float | None = None, min_severity: int = 0, category: str | None = None
) -> list[dict[str, Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if after is not None:
        clauses.append("last_seen >= ?")
        params.append(after)
    if min_severity:
        wanted = SEVERITY_ORDER[min_severity:]
        clauses.append(f"severity IN ({', '.join('?' * len(wanted))})")
        params.extend(wanted)
    if category:
        clauses.append("(category = ? OR category LIKE ?)")
        params.extend([category, f"{category}.%"])
    where = " AND ".join(clauses) or None
    out = []
    for row in db.table("findings").rows_where(
        where, params, order_by="last_seen desc", select="rowid AS id, *"
    ):
        row = dict(row)
        row["evidence"] = json.loads(row["evidence"] or "{}")
        row["key"] = json.loads(row["key"]) if row["key"] else []
        out.append(row)
    return out


def device_named(db: Database, name: str) -> str | None:
    """The MAC of a device whose DHCP or mDNS name is `name` (any case)."""
    text = name.lower()
    row = db.execute(
        "SELECT mac FROM devices WHERE lower(hostname) = ? OR lower(mdns_name) = ? LIMIT 1", [text, text]
    ).fetchone()
    return str(row[0]) if row else None


def rules_with_findings(db: Database) -> set[str]:
    return {str(r[0]) for r in db.execute("SELECT DISTINCT rule FROM findings").fetchall()}


def latest_capture_stats(db: Database, count: int = 2) -> list[dict[str, Any]]:
    """The daemon's newest statistics rows, newest first."""
    return list(db.query("SELECT * FROM capture_stats ORDER BY id DESC LIMIT ?", [count]))


def learned_infrastructure(db: Database) -> list[tuple[str, str]]:
    """The DHCP servers, routers, gateways and resolvers learned before a restart."""
    return [(str(kind), str(value)) for kind, value in db.execute("SELECT kind, value FROM infrastructure")]
