"""The sender: works the outbox until every alert has arrived, failed for good, gone
into a digest, or been muted.

- A failed send is retried with backoff (30 s, doubling, at most an hour) for a week:
  an outage of hours loses nothing.
- Each alert goes to each target at most once: a row is marked `sending` (and that is
  committed) before apprise is called; a row still `sending` after a crash is marked
  failed, not sent again.
- The budget: muted devices and rules are skipped; in quiet hours only critical alerts
  go; beyond a target's max_pushes_per_day, alerts wait for its digest, except a high
  alert from a device that has not had its share of the day's pushes (fairness: one
  noisy device cannot starve the others).
- Digests go out once a period (hourly, daily or weekly) with what was not pushed.

State lives only in the database, so a restart continues where it stopped.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from homeguard.clock import Clock
from homeguard.notify.delivery import Notifier
from homeguard.notify.digest import digest_text
from homeguard.notify.schedule import is_quiet, local_midnight, period_start, quiet_ends
from homeguard.settings.quiet_hours import QuietHours
from homeguard.settings.targets import Target
from homeguard.store import outbox

# The data report for e-mail (homeguard/report/, wired in by homeguard.app): given the
# database, a moment, a number of days and a language, its title, text and HTML.
ReportMaker = Callable[[Database, float, int, str], tuple[str, str, str]]
REPORT_DAYS = {"daily": 1, "weekly": 7}
BACKOFF_FIRST, BACKOFF_MAX = 30.0, 3600.0
GIVE_UP_AFTER = 7 * 86400.0
INTERRUPTED = "interrupted while sending (HomeGuard stopped); not sent again, so that it is never sent twice"


@dataclass(slots=True)
class SendSummary:
    delivered: int = 0
    failed_attempts: int = 0
    gave_up: int = 0
    to_digest: int = 0
    muted: int = 0
    deferred: int = 0  # quiet hours
    digests: int = 0


def is_muted(row: dict[str, Any], muted: set[tuple[str, str]]) -> bool:
    return ("rule", row["rule"]) in muted or ("device", row["device_mac"]) in muted


def backoff(attempts: int) -> float:
    return float(min(BACKOFF_MAX, BACKOFF_FIRST * 2 ** max(0, attempts - 1)))


class Sender:
    def __init__(
        self,
        db: Database,
        targets: list[Target],
        notifier: Notifier,
        *,
        quiet: QuietHours | None = None,
        digest_hour: int = 8,
        language: str = "en",
        clock: Clock,
        configured: set[str] | None = None,
        report: ReportMaker | None = None,
        report_period: str = "never",
    ) -> None:
        self.db = db
        self.targets = {t.name: t for t in targets}
        # The daemon passes every target name in its config, usable or not: alerts for a
        # target no longer there are closed as failed (a target with a broken URL keeps
        # its alerts). None (a one-off `alerts send`, maybe without the daemon's config)
        # closes nothing.
        self.configured = configured
        self.notifier = notifier
        self.quiet = quiet
        self.digest_hour = digest_hour
        self.language = language
        self.clock = clock
        self.last_muted: set[tuple[str, str]] = set()  # for the direct sender (notify/direct.py)
        self.report = report if report_period in REPORT_DAYS else None
        self.report_period = report_period
        self._recover_interrupted()

    def _recover_interrupted(self) -> None:
        outbox.fail_interrupted(self.db, INTERRUPTED)
        if self.configured is not None:
            outbox.fail_removed_targets(self.db, self.configured)

    def run_once(self) -> SendSummary:
        """One pass: compose due digests, then send everything that is due."""
        now = self.clock.time()
        summary = SendSummary()
        muted = outbox.active_mutes(self.db, now)
        self.last_muted = muted
        for target in self.targets.values():
            self._compose_digest(target, now, muted, summary)
            if self.report is not None and target.url.startswith("mailto"):
                self._queue_report(target, now)
        for row in outbox.due(self.db, now):
            wanted = self.targets.get(row["target"])
            if wanted is not None:
                self._work(row, wanted, now, muted, summary)
        return summary

    def _within_budget(self, row: dict[str, Any], target: Target, now: float) -> bool:
        """The daily push budget, shared fairly: anything pushes while the target's cap is
        not spent; after that a high alert still pushes if its device has not used its
        share yet (a quarter of the cap, at least one), so one noisy or hostile device
        cannot starve the others, up to twice the cap in all."""
        since, cap = local_midnight(now), target.max_pushes_per_day
        pushed = outbox.pushes_delivered_since(self.db, target.name, since)
        if pushed < cap:
            return True
        if row["severity"] != "high" or pushed >= 2 * cap:
            return False
        share = max(1, cap // 4)
        by_device = outbox.pushes_delivered_since(self.db, target.name, since, row["device_mac"])
        return by_device < share

    def _set(self, row_id: int, **values: Any) -> None:
        outbox.update(self.db, row_id, **values)

    # -- working a row ---------------------------------------------------------

    def _work(
        self,
        row: dict[str, Any],
        target: Target,
        now: float,
        muted: set[tuple[str, str]],
        summary: SendSummary,
    ) -> None:
        push = row["kind"] == "push"
        if push and is_muted(row, muted):
            self._set(row["id"], state="muted")
            summary.muted += 1
            return
        if row["severity"] != "critical" and is_quiet(now, self.quiet):
            assert self.quiet is not None
            self._set(row["id"], next_attempt=quiet_ends(now, self.quiet))
            summary.deferred += 1
            return
        if push and row["severity"] != "critical" and not self._within_budget(row, target, now):
            self._set(row["id"], state="digest")
            summary.to_digest += 1
            return
        self._send(row, target, now, summary)

    def _send(self, row: dict[str, Any], target: Target, now: float, summary: SendSummary) -> None:
        self._set(row["id"], state="sending")  # committed: a crash from here on never resends
        html = None
        if row["kind"] == "digest":
            html = self._digest_html(row["id"], target)
        elif row["kind"] == "report":
            html = self._report_html(row)
        try:
            problem = self.notifier.send(target, row["title"], row["body"], html)
        except Exception as exc:  # a notifier must not raise; if it does, it is one failed try
            problem = target.masked(f"{type(exc).__name__}: {exc}")
        attempts = row["attempts"] + 1
        if problem is None:
            self._set(
                row["id"], state="delivered", delivered=self.clock.time(), attempts=attempts, last_error=None
            )
            summary.delivered += 1
        elif now - row["created"] >= GIVE_UP_AFTER:
            self._set(
                row["id"], state="failed", attempts=attempts, last_error=f"gave up after a week: {problem}"
            )
            summary.gave_up += 1
        else:
            self._set(
                row["id"],
                state="pending",
                attempts=attempts,
                last_error=problem,
                next_attempt=now + backoff(attempts),
            )
            summary.failed_attempts += 1

    # -- digests ----------------------------------------------------------------

    def _compose_digest(
        self, target: Target, now: float, muted: set[tuple[str, str]], summary: SendSummary
    ) -> None:
        """Alerts waiting for this target's digest from before the current period go into
        one digest row, in one transaction."""
        start = period_start(now, target.digest, self.digest_hour)
        rows: list[dict[str, Any]] = []
        rows_muted: list[dict[str, Any]] = []
        for row in outbox.waiting_for_digest(self.db, target.name, start):
            (rows_muted if is_muted(row, muted) else rows).append(row)
        title, text = digest_text(rows, rows[0]["created"], self.language)[:2] if rows else ("", "")
        outbox.make_digest(self.db, target.name, title, text, now, rows, rows_muted)
        summary.digests += 1 if rows else 0
        summary.muted += len(rows_muted)

    def _queue_report(self, target: Target, now: float) -> None:
        """Once a period, from its start on, when the ledger holds days from before it
        (a new install does not mail a report of its first hours)."""
        assert self.report is not None
        start = period_start(now, self.report_period, self.digest_hour)
        if outbox.report_queued_since(self.db, target.name, start):
            return
        if not outbox.ledger_has_days_before(self.db, time.strftime("%Y-%m-%d", time.localtime(start))):
            return
        title, text, _html = self.report(self.db, now, REPORT_DAYS[self.report_period], self.language)
        outbox.queue_report(self.db, target.name, title, text, now)

    def _report_html(self, row: dict[str, Any]) -> str | None:
        if self.report is None:
            return None
        return self.report(self.db, row["created"], REPORT_DAYS[self.report_period], self.language)[2]

    def _digest_html(self, digest_id: int, target: Target) -> str | None:
        """HTML for e-mail targets (mailto://, mailtos://: apprise sends it as multipart)."""
        if not target.url.startswith("mailto"):
            return None
        rows = outbox.digest_members(self.db, digest_id)
        return digest_text(rows, rows[0]["created"], self.language)[2] if rows else None
