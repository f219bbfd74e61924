"""The store's counts for the Prometheus metrics (outputs/metrics.py): findings by
severity and category, alerts by state. Read at each scrape on the scraper's own
connection; no household-identifying value is read."""

from __future__ import annotations

from sqlite_utils import Database


def finding_counts(db: Database) -> list[tuple[str, str, int]]:
    """(severity, category, stored findings)."""
    query = "SELECT coalesce(severity, ''), coalesce(category, ''), count(*) FROM findings GROUP BY 1, 2"
    rows = db.execute(query).fetchall()
    return [(str(s), str(c), int(n)) for s, c, n in rows]


def alert_counts(db: Database) -> list[tuple[str, int]]:
    """(outbox state, alerts): pending, sending, delivered, failed, digest, muted."""
    rows = db.execute("SELECT state, count(*) FROM outbox GROUP BY 1 ORDER BY 1").fetchall()
    return [(str(state), int(n)) for state, n in rows]
