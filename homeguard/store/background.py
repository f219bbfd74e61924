"""Work that runs beside capture, in a thread with its own database connection:
sending alerts, retention. SQLite's WAL lets it read while capture writes; its writes
are short, and the capture thread's writer waits for them (busy_timeout)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from sqlite_utils import Database

log = logging.getLogger("homeguard.background")


class PeriodicThread:
    """Calls `work(db)` every `interval` seconds until closed; `setup(db)` once first.
    An exception costs one pass, never the thread."""

    def __init__(
        self,
        name: str,
        db_path: Path,
        interval: float,
        work: Callable[[Database], None],
        setup: Callable[[Database], None] | None = None,
    ) -> None:
        self.name = name
        self.db_path = db_path
        self.interval = interval
        self.work = work
        self.setup = setup
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, name=f"homeguard-{name}", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def close(self, timeout: float = 5.0) -> None:
        self.stop.set()
        self.thread.join(timeout)

    def _loop(self) -> None:
        from homeguard.store.database import open_database

        db = open_database(self.db_path)  # its own connection: connections stay in their thread
        try:
            if self.setup is not None:
                self.setup(db)
            while not self.stop.is_set():
                try:
                    self.work(db)
                except Exception:  # outlive any bug: log it, try again next pass
                    log.exception("%s pass failed", self.name)
                self.stop.wait(self.interval)
        finally:
            db.close()
