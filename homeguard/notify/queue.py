"""Turning a finding that should alert into outbox rows, one per target that wants it.

The rows are written by the batch writer in the same transaction as the finding, so
an alert cannot be lost between recording and queueing.
"""

from __future__ import annotations

from typing import Any

from homeguard.findings.model import Finding
from homeguard.settings.targets import Target


def push_text(finding: Finding, language: str) -> tuple[str, str]:
    """The title and the one paragraph of a push: what happened, then what to do."""
    lang = language if language in finding.messages else "en"
    title = finding.titles.get(lang) or finding.title
    body = f"{finding.messages[lang]} {finding.remediations.get(lang, '')}".strip()
    return title, body


class AlertQueue:
    def __init__(self, targets: list[Target], language: str) -> None:
        self.targets = targets
        self.language = language

    def rows(self, finding: Finding, now: float) -> list[dict[str, Any]]:
        if not finding.alert:
            return []
        title, body = push_text(finding, self.language)
        return [
            {
                "created": now,
                "target": target.name,
                "kind": "push",
                "rule": finding.rule,
                "device_mac": finding.device_mac,
                "device": finding.device,
                "finding_key": finding.key,
                "severity": finding.severity,
                "category": finding.category,
                "title": title,
                "body": body,
                "state": "pending" if target.mode == "push" else "digest",
                "attempts": 0,
                "next_attempt": now,
            }
            for target in self.targets
            if target.wants(finding.severity, finding.category, finding.tags)
        ]
