"""Retention and the size cap: old rows go, flows become hourly totals, alerts still on
their way stay, and the file shrinks back under its cap."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from homeguard.settings import Config
from homeguard.store.database import open_database
from homeguard.store.retention import database_bytes, enforce

NOW = 1_800_000_000.0
DAY = 86400.0


def flow(start: float, dst: str, port: int = 443, out: int = 1000) -> dict[str, object]:
    return {
        "start": start, "end": start + 5, "proto": "tcp", "src_mac": "3c:22:fb:00:00:01",
        "src_ip": "192.168.1.20", "src_port": 40000, "dst_mac": None, "dst_ip": dst, "dst_port": port,
        "server_name": "example.org", "packets_out": 10, "bytes_out": out, "packets_in": 8,
        "bytes_in": 5000, "end_reason": "fin",
    }  # fmt: skip


def outbox_row(created: float, state: str) -> dict[str, object]:
    return {"created": created, "target": "phone", "kind": "push", "title": "t", "body": "b", "state": state,
            "attempts": 0, "next_attempt": created}  # fmt: skip


def test_retention_per_table_with_flows_rolled_up_hourly(tmp_path: Path) -> None:
    db = open_database(tmp_path / "hg.db")
    old, recent = NOW - 10 * DAY, NOW - DAY
    db.table("flows").insert_all(
        [flow(old, "192.0.2.1"), flow(old + 60, "192.0.2.1", out=500), flow(recent, "192.0.2.2")]
    )
    db.table("dns_log").insert_all(
        [{"ts": NOW - 31 * DAY, "query": "old.example"}, {"ts": NOW - DAY, "query": "new.example"}]
    )
    db.table("outbox").insert_all(
        [
            outbox_row(NOW - 100 * DAY, "delivered"),
            outbox_row(NOW - 100 * DAY, "pending"),
            outbox_row(NOW, "delivered"),
        ]
    )
    report = enforce(db, Config(), NOW)
    assert report.rolled_up == 2
    assert report.deleted == {"dns_log": 1, "outbox": 1}
    assert [r[0] for r in db.execute("SELECT dst_ip FROM flows").fetchall()] == ["192.0.2.2"]
    hours = db.execute("SELECT dst_ip, flows, bytes_out, server_name FROM flow_hours").fetchall()
    assert hours == [("192.0.2.1", 2, 1500, "example.org")]
    assert [r[0] for r in db.execute("SELECT query FROM dns_log").fetchall()] == ["new.example"]
    assert sorted(r[0] for r in db.execute("SELECT state FROM outbox").fetchall()) == ["delivered", "pending"]
    db.close()


def test_the_size_cap_drops_the_oldest_and_gives_the_space_back(tmp_path: Path) -> None:
    path = tmp_path / "hg.db"
    db = open_database(path)
    rows = [{"ts": NOW - i, "query": f"host{i:06d}.example.org", "answers": "x" * 200} for i in range(30_000)]
    db.table("dns_log").insert_all(rows, batch_size=5000)
    db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    before = path.stat().st_size
    assert database_bytes(db) > 4 << 20
    config = Config()
    config.set("max_db_mb", 2, "test")
    report = enforce(db, config, NOW)
    assert database_bytes(db) <= 2 << 20
    kept = db.execute("SELECT min(ts), max(ts) FROM dns_log").fetchone()
    assert kept[1] == NOW and kept[0] > NOW - 30_000  # the newest stay, the oldest went
    assert report.shed["dns_log"] > 0
    for _ in range(10):  # incremental vacuum returns pages a pass at a time
        enforce(db, config, NOW)
    db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    assert path.stat().st_size < before / 2


def test_the_database_is_readable_by_the_service_user_and_its_group_only(tmp_path: Path) -> None:
    path = tmp_path / "hg.db"
    old = os.umask(0o022)
    try:
        open_database(path).close()
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
