"""Urgent alerts while the database cannot be written.

The sender works from the outbox, which lives in the database; when the database is
full, locked or damaged, that path is closed. The resilient writer (store/resilient.py)
then offers each new outbox row here: a high or critical push, outside quiet hours
(critical ones even inside), for a device and rule not muted when last looked, within
MAX_PER_HOUR, is sent at once from a thread of its own. The row comes back saying
whether it arrived (delivered, or pending with the error, for the sender to retry) and
is written with the others when the database is back, so nothing is sent twice and
the outbox still tells the whole story.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
from collections import deque
from typing import Any

from homeguard.clock import Clock
from homeguard.findings.model import SEVERITY_RANK
from homeguard.notify.delivery import Notifier
from homeguard.notify.schedule import is_quiet
from homeguard.settings.quiet_hours import QuietHours
from homeguard.settings.targets import Target

log = logging.getLogger("homeguard.notify")
Row = dict[str, Any]
MAX_PER_HOUR = 10  # direct pushes at most: an outage is no reason to flood a phone
WAITING_MAX = 20  # rows taken but not yet sent
RETRY_AFTER = 30.0  # a direct push that failed is the sender's to retry after this


class DirectSender:
    def __init__(
        self, targets: list[Target], notifier: Notifier, clock: Clock, quiet: QuietHours | None = None
    ) -> None:
        self.targets = {t.name: t for t in targets}
        self.notifier = notifier
        self.clock = clock
        self.quiet = quiet
        self.muted: set[tuple[str, str]] = set()  # as the sender last read them (sender.py)
        self._sent_at: deque[float] = deque()
        self._waiting: queue.Queue[Row] = queue.Queue(WAITING_MAX)
        self._done: queue.SimpleQueue[Row] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    def offer(self, row: Row) -> bool:
        if not self._wanted(row):
            return False
        now = self.clock.time()
        while self._sent_at and now - self._sent_at[0] > 3600:
            self._sent_at.popleft()
        if len(self._sent_at) >= MAX_PER_HOUR:
            return False
        try:
            self._waiting.put_nowait(row)
        except queue.Full:
            return False
        self._sent_at.append(now)
        if self._thread is None:
            self._thread = threading.Thread(target=self._work, name="homeguard-direct", daemon=True)
            self._thread.start()
        return True

    def _wanted(self, row: Row) -> bool:
        if row.get("kind") != "push" or row.get("state") != "pending" or row["target"] not in self.targets:
            return False
        severity = SEVERITY_RANK.get(row.get("severity") or "", 0)
        if severity < SEVERITY_RANK["high"]:
            return False
        if ("rule", row.get("rule")) in self.muted or ("device", row.get("device_mac")) in self.muted:
            return False
        return severity >= SEVERITY_RANK["critical"] or not is_quiet(self.clock.time(), self.quiet)

    def finished(self) -> list[Row]:
        rows = []
        while True:
            try:
                rows.append(self._done.get_nowait())
            except queue.Empty:
                return rows

    def _work(self) -> None:
        while True:
            row = self._waiting.get()
            if not row:  # the stop mark from close()
                return
            self._done.put(self._send(row))

    def _send(self, row: Row) -> Row:
        target = self.targets[row["target"]]
        try:
            problem = self.notifier.send(target, row["title"], row["body"])
        except Exception as exc:  # a notifier must not raise; if it does, it is one failed try
            problem = target.masked(f"{type(exc).__name__}: {exc}")
        now = self.clock.time()
        if problem is None:
            log.info("sent %r to %s without the database", row["title"], target.name)
            return {**row, "state": "delivered", "delivered": now, "attempts": 1}
        log.warning("could not send %r to %s: %s", row["title"], target.name, problem)
        return {**row, "attempts": 1, "last_error": problem, "next_attempt": now + RETRY_AFTER}

    def close(self, timeout: float = 10.0) -> None:
        """Let the sends under way finish (each is bounded by apprise's own timeouts)."""
        if self._thread is not None:
            with contextlib.suppress(queue.Full):
                self._waiting.put({}, timeout=timeout)
            self._thread.join(timeout)
