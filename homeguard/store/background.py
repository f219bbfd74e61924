"""Work that runs beside capture, in a thread with its own database connection:
sending alerts, retention. SQLite's WAL lets it read while capture writes; its writes
are short, and the capture thread's writer waits for them (busy_timeout).

The database may be out for a while (a full disk, another program's lock) or replaced
(a damaged file moved aside by the capture thread): a pass that fails is logged once
per outage, without a traceback, and the thread opens the file again when it changed.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

from sqlite_utils import Database

from homeguard.errors import StoreError
from homeguard.store.database import BUSY_TIMEOUT_MS, OUTAGE_BUSY_TIMEOUT_MS

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
        self._db: Database | None = None
        self._inode: int | None = None
        self._failing = False

    def start(self) -> None:
        self.thread.start()

    def close(self, timeout: float = 5.0) -> None:
        self.stop.set()
        self.thread.join(timeout)

    def _loop(self) -> None:
        try:
            while not self.stop.is_set():
                self._pass()
                self.stop.wait(self.interval)
        finally:
            self._forget()

    def _pass(self) -> None:
        try:
            db = self._connection()
            self.work(db)
        except (sqlite3.Error, StoreError) as exc:  # the database is out: the capture thread says why
            if not self._failing:
                log.warning("%s: the database cannot be used now (%s); trying again", self.name, exc)
                self._busy_timeout(OUTAGE_BUSY_TIMEOUT_MS)  # a stop must not wait on the lock
            self._failing = True
            return
        except Exception:  # outlive any bug: log it, try again next pass
            log.exception("%s pass failed", self.name)
            return
        if self._failing:
            log.info("%s: the database can be used again", self.name)
            self._busy_timeout(BUSY_TIMEOUT_MS)
            self._failing = False

    def _busy_timeout(self, ms: int) -> None:
        if self._db is not None:
            with contextlib.suppress(sqlite3.Error):
                self._db.execute(f"PRAGMA busy_timeout = {ms}")

    def _connection(self) -> Database:
        """Its own connection (connections stay in their thread), opened again when the
        file was replaced; setup runs on each new one."""
        from homeguard.store.database import open_existing_database

        inode = os.stat(self.db_path).st_ino if self.db_path.exists() else None
        if self._db is not None and inode == self._inode:
            return self._db
        self._forget()
        db = open_existing_database(self.db_path)
        if self.setup is not None:
            try:
                self.setup(db)
            except BaseException:
                db.close()
                raise
        self._db, self._inode = db, inode
        return db

    def _forget(self) -> None:
        if self._db is not None:
            with contextlib.suppress(sqlite3.Error):
                self._db.close()
        self._db = None
