"""Reading back what the store holds, for the CLI and for restarts."""

from __future__ import annotations

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
