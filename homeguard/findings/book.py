"""Recording findings: each one goes to the store through the batch writer, and a finding
that should alert is queued for its targets in the same write.

Nothing here reads the database: whether a finding was alerted lately is known from
memory, loaded once at start-up (store/outbox.last_alerted), so the packet thread never
waits on SQLite.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Protocol

from homeguard.bounded import make_room
from homeguard.clock import Clock
from homeguard.findings.model import Finding
from homeguard.store.findings import queue_alert, record_finding
from homeguard.store.writer import BatchWriter

AlertKey = tuple[str, str | None, str]  # rule, device MAC, finding key
MAX_REMEMBERED = 100_000  # alerted findings remembered for suppression; the oldest go first


class AlertRows(Protocol):
    """Turns a finding into one outbox row per target that wants it (notify/queue.py)."""

    def rows(self, finding: Finding, now: float) -> list[dict[str, Any]]: ...


def finding_row(finding: Finding) -> dict[str, Any]:
    return {
        "rule": finding.rule,
        "device_mac": finding.device_mac,
        "key": finding.key,
        "title": finding.title,
        "category": finding.category,
        "severity": finding.severity,
        "device_ip": finding.device_ip,
        "message": finding.messages.get("en"),
        "message_nl": finding.messages.get("nl"),
        "remediation": finding.remediations.get("en"),
        "remediation_nl": finding.remediations.get("nl"),
        "evidence": json.dumps(finding.evidence, default=str, sort_keys=True),
        "count": finding.count,
        "first_seen": finding.ts,
        "last_seen": finding.ts,
    }


class FindingsBook:
    """A finding sink that writes through the batch writer; with alert rows, a finding
    that should alert is queued for its targets in the same write. `alerted` is when each
    finding was last queued, as the store had it at start-up."""

    def __init__(
        self,
        writer: BatchWriter,
        clock: Clock,
        alerts: AlertRows | None = None,
        alerted: Mapping[AlertKey, float] | None = None,
    ) -> None:
        self.writer = writer
        self.clock = clock
        self.alerts = alerts
        self.alerted: dict[AlertKey, float] = dict(alerted or {})
        self.recorded = 0
        self.queued = 0

    def __call__(self, finding: Finding) -> None:
        record_finding(self.writer, finding_row(finding))
        self.recorded += 1
        if self.alerts is None or not finding.alert:
            return
        # The wall clock, not the packet's: it is when the household should hear of it.
        now = self.clock.time()
        key = (finding.rule, finding.device_mac, finding.key)
        last = self.alerted.get(key)
        if last is not None and finding.suppress_for > 0 and now - last < finding.suppress_for:
            return  # the rules suppress repeats in memory; this also holds across a restart
        self._remember(key, now)
        for row in self.alerts.rows(finding, now):
            queue_alert(self.writer, row)
            self.queued += 1

    def _remember(self, key: AlertKey, now: float) -> None:
        alerted = self.alerted
        alerted.pop(key, None)  # re-inserted last: the dict stays ordered oldest first
        alerted[key] = now
        make_room(alerted, MAX_REMEMBERED)
