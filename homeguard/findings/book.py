"""Recording findings: a repeat of the same (rule, device, key) updates its row, with a
growing count, instead of adding one. Also keeps rule state that outlives a restart."""

from __future__ import annotations

import json
from typing import Any

from sqlite_utils import Database

from homeguard.clock import Clock
from homeguard.findings.model import Finding
from homeguard.notify.queue import AlertQueue
from homeguard.store.writer import BatchWriter

UPSERT_FINDING = """
INSERT INTO findings (rule, device_mac, key, title, category, severity, device_ip, message,
    message_nl, remediation, remediation_nl, evidence, count, first_seen, last_seen)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (rule, device_mac, key) DO UPDATE SET
    count = count + excluded.count,
    last_seen = max(last_seen, excluded.last_seen),
    first_seen = min(first_seen, excluded.first_seen),
    title = excluded.title, category = excluded.category, severity = excluded.severity,
    device_ip = coalesce(excluded.device_ip, device_ip), message = excluded.message,
    message_nl = excluded.message_nl, remediation = excluded.remediation,
    remediation_nl = excluded.remediation_nl, evidence = excluded.evidence
"""


def finding_params(finding: Finding, first_seen: float) -> tuple[Any, ...]:
    return (
        finding.rule,
        finding.device_mac,
        finding.key,
        finding.title,
        finding.category,
        finding.severity,
        finding.device_ip,
        finding.messages.get("en"),
        finding.messages.get("nl"),
        finding.remediations.get("en"),
        finding.remediations.get("nl"),
        json.dumps(finding.evidence, default=str, sort_keys=True),
        finding.count,
        first_seen,
        finding.ts,
    )


class FindingsBook:
    """A finding sink that writes through the batch writer; with an alert queue, a
    finding that should alert is queued for its targets in the same write."""

    def __init__(self, writer: BatchWriter, clock: Clock, alerts: AlertQueue | None = None) -> None:
        self.writer = writer
        self.clock = clock
        self.alerts = alerts
        self.recorded = 0
        self.queued = 0

    def __call__(self, finding: Finding) -> None:
        self.writer.statement(UPSERT_FINDING, finding_params(finding, finding.ts))
        self.recorded += 1
        if self.alerts is not None and finding.alert:
            # The wall clock, not the packet's: it is when the household should hear of it.
            now = self.clock.time()
            if self._alerted_lately(finding, now):
                return
            for row in self.alerts.rows(finding, now):
                self.writer.insert("outbox", row)
                self.queued += 1

    def _alerted_lately(self, finding: Finding, now: float) -> bool:
        """The rules suppress repeats in memory; this keeps doing so across a restart,
        from the outbox: no second alert for a finding within its rule's suppress time."""
        if finding.suppress_for <= 0:
            return False
        row = self.writer.db.execute(
            "SELECT max(created) FROM outbox WHERE rule = ? AND device_mac = ? AND finding_key = ?",
            [finding.rule, finding.device_mac, finding.key],
        ).fetchone()
        return row[0] is not None and now - row[0] < finding.suppress_for


class DatabaseFirstSeenStore:
    """First-seen keys and learning periods in SQLite, so a restart does not re-learn."""

    def __init__(self, db: Database, writer: BatchWriter) -> None:
        self.db = db
        self.writer = writer

    def load(self, rule_id: str) -> tuple[float | None, dict[str, float]]:
        row = self.db.execute("SELECT started FROM rule_learning WHERE rule = ?", [rule_id]).fetchone()
        keys = dict(
            self.db.execute(
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
