"""The data ledger's writes and reads: one row per local day, device, organisation and
server country, with bytes each way, connections, the registrable domains used (at
most MAX_DOMAINS) and what is known of the organisation. Rows are added to, never
rewritten: a day's row grows with each flush (ledger/book.py)."""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database

from homeguard.store.writer import BatchWriter

MAX_DOMAINS = 20
COLUMNS = (
    "day",
    "device_mac",
    "org",
    "server_country",
    "jurisdiction",
    "purpose",
    "via",
    "source",
    "tracker",
    "detail",
    "bytes_out",
    "bytes_in",
    "connections",
    "first_seen",
    "last_seen",
    "domains",
)
ADD_TO_DAY = f"""
INSERT INTO ledger ({", ".join(COLUMNS)}) VALUES ({", ".join("?" * len(COLUMNS))})
ON CONFLICT (day, device_mac, org, server_country) DO UPDATE SET
    bytes_out = bytes_out + excluded.bytes_out, bytes_in = bytes_in + excluded.bytes_in,
    connections = connections + excluded.connections,
    first_seen = min(first_seen, excluded.first_seen), last_seen = max(last_seen, excluded.last_seen),
    tracker = max(tracker, excluded.tracker), jurisdiction = coalesce(excluded.jurisdiction, jurisdiction),
    purpose = coalesce(excluded.purpose, purpose), via = coalesce(excluded.via, via),
    source = coalesce(excluded.source, source),
    domains = (SELECT json_group_array(value) FROM (
        SELECT value FROM json_each(ledger.domains) UNION SELECT value FROM json_each(excluded.domains)
        LIMIT {MAX_DOMAINS}))
"""


def add_to_day(writer: BatchWriter, row: dict[str, Any]) -> None:
    writer.statement(ADD_TO_DAY, tuple(row[c] for c in COLUMNS))


def known_pairs(db: Database) -> list[tuple[str, str]]:
    """Every (device, "organisation:NAME") and (device, "country:CODE") in the ledger,
    so that a restart does not announce them as new."""
    rows = db.execute(
        "SELECT DISTINCT device_mac, 'organisation:' || org FROM ledger WHERE detail = 1 AND org != '' "
        "UNION SELECT DISTINCT device_mac, 'country:' || server_country FROM ledger "
        "WHERE detail = 1 AND server_country != ''"
    ).fetchall()
    return [(str(mac), str(value)) for mac, value in rows]


def totals(
    db: Database, first_day: str, last_day: str, device_mac: str | None = None
) -> list[dict[str, Any]]:
    """Per device, organisation and server country: the sums over the days first_day to
    last_day (inclusive), with the domains used, largest first."""
    where = "day >= ? AND day <= ?" + (" AND device_mac = ?" if device_mac else "")
    params = [first_day, last_day, *([device_mac] if device_mac else [])]
    rows = list(
        db.query(
            "SELECT device_mac, org, server_country, max(jurisdiction) AS jurisdiction, "
            "max(purpose) AS purpose, max(via) AS via, max(source) AS source, max(tracker) AS tracker, "
            "min(detail) AS detail, sum(bytes_out) AS bytes_out, sum(bytes_in) AS bytes_in, "
            "sum(connections) AS connections, min(first_seen) AS first_seen, max(last_seen) AS last_seen "
            f"FROM ledger WHERE {where} GROUP BY device_mac, org, server_country "
            "ORDER BY device_mac, sum(bytes_out) + sum(bytes_in) DESC",
            params,
        )
    )
    domains: dict[tuple[str, str, str], list[str]] = {}
    for mac, org, country, domain in db.execute(
        "SELECT DISTINCT device_mac, org, server_country, j.value "
        f"FROM ledger, json_each(ledger.domains) AS j WHERE {where} ORDER BY j.value",
        params,
    ).fetchall():
        listed = domains.setdefault((mac, org, country), [])
        if len(listed) < MAX_DOMAINS:
            listed.append(domain)
    for row in rows:
        row["domains"] = domains.get((row["device_mac"], row["org"], row["server_country"]), [])
    return rows
