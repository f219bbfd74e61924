"""Changes made in the dashboard reach the running daemon by themselves: every change
counts up a row (store/web.py), and the capture loop looks at it every few seconds, on
a connection of its own, and reloads the config when it moved. This works the same
whether the dashboard runs inside `homeguard run` or as `homeguard web` beside it, and
a reader in WAL mode never waits for a writer."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

from sqlite_utils import Database

from homeguard.store.web import dashboard_change_count

log = logging.getLogger("homeguard.daemon")
LOOK_INTERVAL = 3.0  # seconds between looks


class DashboardWatch:
    def __init__(self, db_path: Path) -> None:
        self.db_path = db_path
        self._db: Database | None = None
        self._next_look = 0.0
        # The count as the daemon starts: a change made before the first look is a change.
        self._seen: int | None = self._count()

    def changed(self, now: float) -> bool:
        """True once after each change made in the dashboard since the last look."""
        if now < self._next_look:
            return False
        self._next_look = now + LOOK_INTERVAL
        count = self._count()
        if count is None:
            return False
        seen, self._seen = self._seen, count
        return seen is not None and count != seen

    def _count(self) -> int | None:
        try:
            if self._db is None:
                self._db = Database(sqlite3.connect(self.db_path, timeout=0.1))
            return dashboard_change_count(self._db)
        except sqlite3.Error as exc:  # moved aside, locked, not created yet: look again later
            log.debug("cannot look for dashboard changes: %s", exc)
            self.close()
            return None

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
