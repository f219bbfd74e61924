"""Alerts inside the daemon: the targets checked at start-up, and the sender working
the outbox in a thread of its own, so a slow mail server never holds up capture."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from homeguard.notify.delivery import AppriseNotifier, Notifier, apprise_problem
from homeguard.notify.targets import Target
from homeguard.settings import Config

log = logging.getLogger("homeguard.notify")
SEND_INTERVAL = 5.0  # seconds between passes over the outbox


def usable_targets(config: Config) -> list[Target]:
    """The configured targets apprise can use; each one it cannot is reported with its
    config line and left out, and the others still work."""
    usable = []
    for target in config["notify"]:
        problem = apprise_problem(target)
        if problem is None:
            usable.append(target)
        else:
            log.error(
                "%s: notify target %r: %s; alerts for it are not sent", target.where, target.name, problem
            )
    return usable


class SenderThread:
    def __init__(
        self, db_path: Path, targets: list[Target], config: Config, notifier: Notifier | None = None
    ):
        self.db_path = db_path
        self.targets = targets
        self.config = config
        self.notifier = notifier or AppriseNotifier()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="homeguard-sender", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def close(self, timeout: float = 5.0) -> None:
        self.stop.set()
        self.thread.join(timeout)

    def _loop(self) -> None:
        from homeguard.notify.sender import Sender
        from homeguard.store.database import open_database

        db = open_database(self.db_path)  # its own connection: SQLite connections stay in their thread
        try:
            sender = Sender(
                db,
                self.targets,
                self.notifier,
                quiet=self.config["quiet_hours"],
                digest_hour=self.config["digest_hour"],
                language=self.config["language"],
            )
            while not self.stop.is_set():
                try:
                    summary = sender.run_once()
                    if summary.delivered or summary.failed_attempts or summary.gave_up:
                        log.info("alerts: %s", summary)
                except Exception:  # the sender must outlive any bug: log it, try again next pass
                    log.exception("alert sender pass failed")
                self.stop.wait(SEND_INTERVAL)
        finally:
            db.close()
