"""Alerts inside the daemon: the targets checked at start-up, and the sender working
the outbox in a thread of its own, so a slow mail server never holds up capture."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from homeguard.clock import Clock
from homeguard.notify.delivery import AppriseNotifier, Notifier, apprise_problem
from homeguard.notify.direct import DirectSender
from homeguard.notify.sender import ReportMaker
from homeguard.settings import Config
from homeguard.settings.targets import Target

log = logging.getLogger("homeguard.notify")
SEND_INTERVAL = 5.0  # seconds between passes over the outbox


def usable_targets(config: Config) -> list[Target]:
    """The configured targets apprise can use; each one it cannot is reported with its
    config line and left out, and the others still work."""
    usable = []
    for target in config.values["notify"]:
        problem = apprise_problem(target)
        if problem is None:
            usable.append(target)
        else:
            log.error(
                "%s: notify target %r: %s; alerts for it are not sent", target.where, target.name, problem
            )
    return usable


def sender_thread(
    db_path: Path,
    targets: list[Target],
    config: Config,
    clock: Clock,
    notifier: Notifier | None = None,
    direct: DirectSender | None = None,
    report: ReportMaker | None = None,
) -> Any:
    """The sender working the outbox every SEND_INTERVAL seconds, beside capture; it
    tells the direct sender which mutes are in force."""
    from homeguard.notify.sender import Sender
    from homeguard.store.background import PeriodicThread

    senders: list[Sender] = []

    def setup(db: Database) -> None:
        senders[:] = [
            Sender(
                db,
                targets,
                notifier or AppriseNotifier(),
                quiet=config.values["quiet_hours"],
                digest_hour=config.values["digest_hour"],
                language=config.values["language"],
                clock=clock,
                configured={t.name for t in config.values["notify"]},
                report=report,
                report_period=config.values["report_email"],
            )
        ]

    def work(_db: Database) -> None:
        summary = senders[0].run_once()
        if direct is not None:
            direct.muted = senders[0].last_muted
        if summary.delivered or summary.failed_attempts or summary.gave_up:
            log.info("alerts: %s", summary)

    return PeriodicThread("sender", db_path, SEND_INTERVAL, work, setup)
