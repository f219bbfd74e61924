"""Findings and the rule state that outlives a restart, as named writes and reads.

A repeat of the same (rule, device, key) updates its row, with a growing count, instead
of adding one. Writes go through the batch writer, so a finding and its alerts land in
one transaction.
"""

from __future__ import annotations

from typing import Any

from homeguard.store.writer import BatchWriter

FINDING_COLUMNS = (
    "rule",
    "device_mac",
    "key",
    "title",
    "category",
    "severity",
    "device_ip",
    "message",
    "message_nl",
    "remediation",
    "remediation_nl",
    "evidence",
    "count",
    "first_seen",
    "last_seen",
)
UPSERT_FINDING = f"""
INSERT INTO findings ({", ".join(FINDING_COLUMNS)})
VALUES ({", ".join("?" * len(FINDING_COLUMNS))})
ON CONFLICT (rule, device_mac, key) DO UPDATE SET
    count = count + excluded.count,
    last_seen = max(last_seen, excluded.last_seen),
    first_seen = min(first_seen, excluded.first_seen),
    title = excluded.title, category = excluded.category, severity = excluded.severity,
    device_ip = coalesce(excluded.device_ip, device_ip), message = excluded.message,
    message_nl = excluded.message_nl, remediation = excluded.remediation,
    remediation_nl = excluded.remediation_nl, evidence = excluded.evidence
"""


def record_finding(writer: BatchWriter, row: dict[str, Any]) -> None:
    """Queue a finding row (every column of FINDING_COLUMNS) for the next flush."""
    writer.statement(UPSERT_FINDING, tuple(row[c] for c in FINDING_COLUMNS))


def queue_alert(writer: BatchWriter, row: dict[str, Any]) -> None:
    writer.insert("outbox", row)


class DatabaseFirstSeenStore:
    """First-seen keys and learning periods in SQLite, so a restart does not re-learn.
    Read once per rule when the rules load (from the writer's database: it may have been
    replaced while running), written through the batch writer."""

    def __init__(self, writer: BatchWriter) -> None:
        self.writer = writer

    def load(self, rule_id: str) -> tuple[float | None, dict[str, float]]:
        db = self.writer.db
        row = db.execute("SELECT started FROM rule_learning WHERE rule = ?", [rule_id]).fetchone()
        keys = dict(
            db.execute(
                "SELECT key, last_seen FROM first_seen_keys WHERE rule = ? ORDER BY last_seen", [rule_id]
            ).fetchall()
        )
        return (row[0] if row else None), keys

    def save_learning(self, rule_id: str, started: float) -> None:
        self.writer.statement(
            "INSERT OR IGNORE INTO rule_learning (rule, started) VALUES (?, ?)", (rule_id, started)
        )

    def save_key(self, rule_id: str, key: str, ts: float) -> None:
        self.writer.statement(
            "INSERT INTO first_seen_keys (rule, key, first_seen, last_seen) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (rule, key) DO UPDATE SET last_seen = max(last_seen, excluded.last_seen)",
            (rule_id, key, ts, ts),
        )
