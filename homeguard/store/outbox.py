"""The alert outbox and the mutes, as named reads and writes. The sender (notify/sender.py)
and the `alerts`, `mute` and `status` commands work through these; the rows themselves
are queued by the findings book in the batch writer's transaction (store/findings.py).

Every write is its own short transaction: the sender commits a row as `sending` before
it calls apprise, so a crash never sends twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # sqlite-utils is loaded where a database is opened: capture workers never do
    from sqlite_utils import Database


Row = dict[str, Any]
FINISHED = ("delivered", "failed", "muted")
LISTED_COLUMNS = "id, created, target, kind, state, attempts, title, last_error, delivered, digest_id"
STATES = {"pending": ("pending", "sending"), "failed": ("failed",)}


def fail_interrupted(db: Database, reason: str) -> None:
    """Rows left `sending` by a crash: failed, never sent again."""
    with db.atomic():
        db.execute("UPDATE outbox SET state = 'failed', last_error = ? WHERE state = 'sending'", [reason])


def fail_removed_targets(db: Database, configured: Iterable[str]) -> None:
    """Waiting rows for targets no longer in the config: failed, with that reason."""
    names = sorted(configured)
    with db.atomic():
        db.execute(
            "UPDATE outbox SET state = 'failed', last_error = 'the target is no longer in the config' "
            f"WHERE state IN ('pending', 'digest') AND digest_id IS NULL "
            f"AND target NOT IN ({', '.join('?' * len(names))})",
            names,
        )


def due(db: Database, now: float) -> list[Row]:
    return list(
        db.query("SELECT * FROM outbox WHERE state = 'pending' AND next_attempt <= ? ORDER BY id", [now])
    )


def update(db: Database, row_id: int, **values: Any) -> None:
    names = ", ".join(f"{k} = ?" for k in values)
    with db.atomic():
        db.execute(f"UPDATE outbox SET {names} WHERE id = ?", [*values.values(), row_id])


def pushes_delivered_since(db: Database, target: str, since: float, device_mac: str | None = None) -> int:
    """Pushes that reached a target since a moment; with device_mac, those about that device."""
    device = " AND device_mac = ?" if device_mac is not None else ""
    (count,) = db.execute(
        "SELECT count(*) FROM outbox WHERE target = ? AND kind = 'push' AND state = 'delivered' "
        f"AND delivered >= ?{device}",
        [target, since, *([device_mac] if device_mac is not None else [])],
    ).fetchone()
    return int(count)


def waiting_for_digest(db: Database, target: str, before: float) -> list[Row]:
    return list(
        db.query(
            "SELECT * FROM outbox WHERE target = ? AND state = 'digest' AND digest_id IS NULL "
            "AND created < ? ORDER BY id",
            [target, before],
        )
    )


def make_digest(
    db: Database, target: str, title: str, body: str, now: float, members: list[Row], muted: list[Row]
) -> None:
    """In one transaction: the muted waiting rows closed, and (when there are members) one
    digest row that the members point to."""
    with db.atomic():
        db.conn.executemany("UPDATE outbox SET state = 'muted' WHERE id = ?", [(r["id"],) for r in muted])
        if not members:
            return
        cursor = db.execute(
            "INSERT INTO outbox (created, target, kind, title, body, state, attempts, next_attempt, "
            "severity) VALUES (?, ?, 'digest', ?, ?, 'pending', 0, ?, 'info')",
            [now, target, title, body, now],
        )
        db.conn.executemany(
            "UPDATE outbox SET digest_id = ? WHERE id = ?", [(cursor.lastrowid, r["id"]) for r in members]
        )


def report_queued_since(db: Database, target: str, since: float) -> bool:
    (count,) = db.execute(
        "SELECT count(*) FROM outbox WHERE target = ? AND kind = 'report' AND created >= ?", [target, since]
    ).fetchone()
    return int(count) > 0


def queue_report(db: Database, target: str, title: str, body: str, now: float) -> None:
    """The data report for an e-mail target; its HTML is drawn when it is sent."""
    with db.atomic():
        db.execute(
            "INSERT INTO outbox (created, target, kind, title, body, state, attempts, next_attempt, "
            "severity) VALUES (?, ?, 'report', ?, ?, 'pending', 0, ?, 'info')",
            [now, target, title, body, now],
        )


def ledger_has_days_before(db: Database, day: str) -> bool:
    return db.execute("SELECT 1 FROM ledger WHERE day < ? LIMIT 1", [day]).fetchone() is not None


def digest_members(db: Database, digest_id: int) -> list[Row]:
    return list(db.query("SELECT * FROM outbox WHERE digest_id = ? ORDER BY id", [digest_id]))


def listing(db: Database, only: str | None = None) -> list[Row]:
    """The outbox for `homeguard alerts`: every row, or only the pending or the failed."""
    states = STATES.get(only or "", ())
    where = f"WHERE state IN ({', '.join('?' * len(states))})" if states else ""
    return list(db.query(f"SELECT {LISTED_COLUMNS} FROM outbox {where} ORDER BY id", list(states)))


def retry_now(db: Database) -> None:
    with db.atomic():
        db.execute("UPDATE outbox SET next_attempt = 0 WHERE state = 'pending'")


def waiting_count(db: Database) -> int:
    """Alerts not yet delivered, failed or muted (digest members count through their digest)."""
    (count,) = db.execute(
        "SELECT count(*) FROM outbox WHERE state IN ('pending', 'sending', 'digest') AND digest_id IS NULL"
    ).fetchone()
    return int(count)


def last_alerted(db: Database) -> dict[tuple[str, str | None, str], float]:
    """When each (rule, device, key) was last queued: the findings book keeps this in
    memory, so that suppression outlives a restart without a read per finding."""
    rows = db.execute(
        "SELECT rule, device_mac, finding_key, max(created) FROM outbox "
        "WHERE rule IS NOT NULL GROUP BY rule, device_mac, finding_key"
    ).fetchall()
    return {(rule, mac, key): float(created) for rule, mac, key, created in rows}


# -- mutes ---------------------------------------------------------------------------


def active_mutes(db: Database, now: float) -> set[tuple[str, str]]:
    rows = db.execute("SELECT kind, value FROM mutes WHERE until IS NULL OR until > ?", [now])
    return {(kind, value) for kind, value in rows.fetchall()}


def mute(db: Database, kind: str, value: str, until: float | None, now: float) -> None:
    with db.atomic():
        db.execute(
            "INSERT INTO mutes (kind, value, until, created) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (kind, value) DO UPDATE SET until = excluded.until",
            [kind, value, until, now],
        )


def unmute(db: Database, kind: str, value: str) -> bool:
    """True when there was such a mute."""
    with db.atomic():
        return int(db.execute("DELETE FROM mutes WHERE kind = ? AND value = ?", [kind, value]).rowcount) > 0
