"""Retention and the size cap: the database never grows without bound.

Each table keeps rows for its retention time (settings `retention_*`); flows older than
`retention_flows_days` are rolled up into hourly totals (`flow_hours`) before they go.
Above `max_db_mb`, the oldest tenth of each big table (DNS log, flows, hourly flows,
statistics) goes, round after round, until it fits; freed pages are returned to the file
system with incremental vacuum, a little at a time, so a Pi's SD card is not rewritten
whole.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlite_utils import Database

from homeguard.settings import Config, ConfigValues

DAY = 86400.0
# table -> (its time column, the setting with its retention in days)
RETAINED: dict[str, tuple[str, Callable[[ConfigValues], float]]] = {  # table: its time column, its days
    "dns_log": ("ts", lambda v: v["retention_dns_days"]),
    "flow_hours": ("hour", lambda v: v["retention_flow_hours_days"]),
    "findings": ("last_seen", lambda v: v["retention_findings_days"]),
    "ledger": ("last_seen", lambda v: v["retention_ledger_days"]),
    "outbox": ("created", lambda v: v["retention_outbox_days"]),
    "capture_stats": ("ts", lambda v: v["retention_stats_days"]),
}


# What goes first when over the cap, oldest rows first by this column.
SHED_ORDER = {"dns_log": "ts", "flows": "start", "flow_hours": "hour", "capture_stats": "ts"}
SHED_FRACTION = 0.1
VACUUM_PAGES = 2048  # pages returned per pass (8 MiB at 4 KiB pages)
ROLLUP = """
INSERT INTO flow_hours (hour, src_mac, dst_ip, dst_port, proto, server_name, flows,
    packets_out, bytes_out, packets_in, bytes_in)
SELECT CAST(start / 3600 AS INTEGER) * 3600 AS hour, coalesce(src_mac, ''), dst_ip,
    coalesce(dst_port, 0), proto, max(server_name), count(*), sum(packets_out), sum(bytes_out),
    sum(packets_in), sum(bytes_in)
FROM flows WHERE start < ?
GROUP BY hour, coalesce(src_mac, ''), dst_ip, coalesce(dst_port, 0), proto
ON CONFLICT (hour, src_mac, dst_ip, dst_port, proto) DO UPDATE SET
    flows = flows + excluded.flows, packets_out = packets_out + excluded.packets_out,
    bytes_out = bytes_out + excluded.bytes_out, packets_in = packets_in + excluded.packets_in,
    bytes_in = bytes_in + excluded.bytes_in, server_name = coalesce(server_name, excluded.server_name)
"""


@dataclass(slots=True)
class RetentionReport:
    deleted: dict[str, int] = field(default_factory=dict)
    rolled_up: int = 0
    shed: dict[str, int] = field(default_factory=dict)  # rows dropped to meet the size cap
    size_before: int = 0
    size_after: int = 0


def database_bytes(db: Database) -> int:
    """Bytes in use: pages minus free pages (the file may be larger until vacuumed)."""
    pages = db.execute("PRAGMA page_count").fetchone()[0]
    free = db.execute("PRAGMA freelist_count").fetchone()[0]
    size = db.execute("PRAGMA page_size").fetchone()[0]
    return int((pages - free) * size)


def enforce(db: Database, config: Config, now: float) -> RetentionReport:
    """Apply retention, then the size cap, then return some free pages. Safe to call
    often: each step is a few indexed deletes in its own short transaction."""
    report = RetentionReport(size_before=database_bytes(db))
    cutoff = now - config.values["retention_flows_days"] * DAY
    with db.atomic():
        report.rolled_up = db.execute("SELECT count(*) FROM flows WHERE start < ?", [cutoff]).fetchone()[0]
        if report.rolled_up:
            db.execute(ROLLUP, [cutoff])
            db.execute("DELETE FROM flows WHERE start < ?", [cutoff])
    for table, (column, days) in RETAINED.items():
        # alerts still on their way stay, however old
        done = " AND state IN ('delivered', 'failed', 'muted')" if table == "outbox" else ""
        with db.atomic():
            sql = f"DELETE FROM {table} WHERE {column} < ?{done}"
            gone = db.execute(sql, [now - days(config.values) * DAY]).rowcount
        if gone:
            report.deleted[table] = gone
    cap = config.values["max_db_mb"] << 20
    # The oldest tenth of every big table each round, so recent DNS and flows both stay.
    while database_bytes(db) > cap:
        shed = [_shed_oldest(db, table, column, report) for table, column in SHED_ORDER.items()]
        if not any(shed):
            break
    # executescript steps the pragma to its end; a plain execute frees a single page
    db.conn.executescript(f"PRAGMA incremental_vacuum({VACUUM_PAGES});")
    report.size_after = database_bytes(db)
    return report


def _shed_oldest(db: Database, table: str, column: str, report: RetentionReport) -> bool:
    (count,) = db.execute(f"SELECT count(*) FROM {table}").fetchone()
    if not count:
        return False
    take = max(1, int(count * SHED_FRACTION))
    with db.atomic():
        sql = f"DELETE FROM {table} WHERE rowid IN (SELECT rowid FROM {table} ORDER BY {column} LIMIT ?)"
        db.execute(sql, [take])
    report.shed[table] = report.shed.get(table, 0) + take
    return True
