"""What the Home Assistant output publishes, read from the store on its own connection:
each device with its open findings and what it sent today, and the household's count."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # sqlite-utils is loaded where a database is opened: capture workers never do
    from sqlite_utils import Database


DEVICE_STATES = """
SELECT d.mac, coalesce(n.name, d.hostname, d.mdns_name, '') AS name, coalesce(d.vendor, '') AS vendor,
       d.last_seen,
       (SELECT count(*) FROM findings f WHERE f.device_mac = d.mac AND f.resolved IS NULL
          AND f.acknowledged IS NULL AND f.severity IN ('high', 'critical')) AS serious,
       (SELECT count(*) FROM findings f WHERE f.device_mac = d.mac AND f.resolved IS NULL
          AND f.acknowledged IS NULL) AS open,
       (SELECT coalesce(sum(l.bytes_out), 0) FROM ledger l WHERE l.device_mac = d.mac AND l.day = ?) AS sent,
       (SELECT count(DISTINCT l.org) FROM ledger l WHERE l.device_mac = d.mac AND l.day = ?) AS companies
FROM devices d LEFT JOIN device_notes n ON n.mac = d.mac
ORDER BY d.mac
"""
OPEN_FINDINGS = "SELECT count(*) FROM findings WHERE resolved IS NULL AND acknowledged IS NULL"


LAST_STATS = (
    "SELECT ts, kernel_drops, stopped, flows_between_others, flows_group, flows_own, flows_answered "
    "FROM capture_stats ORDER BY id DESC LIMIT 2"
)


def last_capture_stats(db: Database) -> list[dict[str, Any]]:
    """The two newest statistics rows, newest first."""
    return [dict(row) for row in db.query(LAST_STATS)]


def device_states(db: Database, day: str) -> list[dict[str, Any]]:
    return [dict(row) for row in db.query(DEVICE_STATES, [day, day])]


def open_findings(db: Database) -> int:
    return int(db.execute(OPEN_FINDINGS).fetchone()[0])
