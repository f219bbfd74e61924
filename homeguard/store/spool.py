"""The export queue on disk (export_spool): documents waiting for a network output, so an
outage of the SIEM for hours loses nothing. A row is written with the findings (the
capture thread's batch writer), marked sent when written to the connection, and deleted
once the connection was seen alive after that; if the server closed the connection in
between, the row is sent again. So delivery is at least once, and a repeat carries the
same event id."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # sqlite-utils is loaded where a database is opened: capture workers never do
    from sqlite_utils import Database


MAX_ROWS = 100_000  # beyond this, the oldest go (and are counted): days of a busy sensor's findings


def pending(db: Database, limit: int) -> list[dict[str, Any]]:
    return list(db.query("SELECT * FROM export_spool WHERE sent IS NULL ORDER BY id LIMIT ?", [limit]))


def mark_sent(db: Database, ids: list[int], now: float) -> None:
    with db.atomic():
        db.execute(f"UPDATE export_spool SET sent = ? WHERE id IN ({','.join('?' * len(ids))})", [now, *ids])


def confirm(db: Database, sent_before: float) -> int:
    """Rows sent before `sent_before` on a connection still alive now are delivered."""
    with db.atomic():
        return int(db.execute("DELETE FROM export_spool WHERE sent <= ?", [sent_before]).rowcount)


def send_again(db: Database) -> int:
    """The connection died: what was sent and not yet confirmed goes again."""
    with db.atomic():
        return int(db.execute("UPDATE export_spool SET sent = NULL WHERE sent IS NOT NULL").rowcount)


def waiting(db: Database) -> int:
    return int(db.execute("SELECT count(*) FROM export_spool").fetchone()[0])


def trim(db: Database, max_rows: int = MAX_ROWS) -> int:
    """Drop the oldest beyond `max_rows`; returns how many went."""
    over = waiting(db) - max_rows
    if over <= 0:
        return 0
    with db.atomic():
        db.execute(
            "DELETE FROM export_spool WHERE id IN (SELECT id FROM export_spool ORDER BY id LIMIT ?)", [over]
        )
    return over
