"""The batch writer for programs that must outlive their database: when a flush fails,
capture and detection go on, and the rows wait in memory until the database can be
written again.

- A full disk: flow detail is given up first, then the DNS log (the rows waiting and
  the oldest stored ones), then the write is tried again.
- A damaged file: moved aside with the time in its name, and a new database started.
- A lock held by another program, a file HomeGuard may not write, a failing disk:
  one log line with the fix, then a new try every RETRY_INTERVAL seconds, each waiting
  at most OUTAGE_BUSY_TIMEOUT_MS for a lock so that capture never stalls on it.

What waits is bounded (HELD_ROWS_MAX rows): past it, the least valuable rows go first
(SHED_ORDER), and findings and alerts last. While the database is out, urgent alerts
go straight to their targets through the `AlertBypass` (notify/direct.py) and come back
as rows that say whether they arrived.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from sqlite_utils import Database

from homeguard.clock import Clock
from homeguard.store.database import BUSY_TIMEOUT_MS, OUTAGE_BUSY_TIMEOUT_MS
from homeguard.store.faults import advice, move_aside, problem_of
from homeguard.store.writer import BatchWriter, Outage, Row

log = logging.getLogger("homeguard.store")

RETRY_INTERVAL = 5.0  # seconds between tries while the database cannot be written
HELD_ROWS_MAX = 20_000  # rows waiting in memory at most (about 30 MB at the widest rows)
SHED_ORDER = ("flows", "dns_log", "capture_stats")  # given up first, in this order
ROOM_TABLES = ("flows", "dns_log")  # on a full disk, the stored rows given up to make room
ROOM_FRACTION = 10  # each step deletes the oldest tenth of one of them
EXIT_RETRY_INTERVAL = 0.5  # real seconds between the last tries of a stopping program


class AlertBypass(Protocol):
    """Sends urgent alerts without the database (notify/direct.py)."""

    def offer(self, row: Row) -> bool:
        """Take an outbox row to send now; False leaves it to wait with the others."""
        ...

    def finished(self) -> list[Row]:
        """Rows it took, now saying whether they arrived, to be written."""
        ...


class ResilientWriter(BatchWriter):
    def __init__(
        self,
        db: Database,
        max_rows: int,
        *,
        path: Path,
        clock: Clock,
        reopen: Callable[[], Database],
        bypass: AlertBypass | None = None,
        held_max: int = HELD_ROWS_MAX,
    ) -> None:
        super().__init__(db, max_rows)
        self.path = path
        self.clock = clock
        self.reopen = reopen
        self.bypass = bypass
        self.held_max = held_max
        self._retry_at = 0.0
        self._room_step = 0  # how far the full-disk shedding went in this outage
        self._replaced = False  # a damaged file was moved aside in this outage

    def insert(self, table: str, row: Row) -> None:
        bypass = self.bypass
        if table == "outbox" and self.outage is not None and bypass is not None and bypass.offer(row):
            return
        super().insert(table, row)

    @property
    def full(self) -> bool:
        if self.outage is not None:
            return self.clock.monotonic() >= self._retry_at
        return super().full

    def flush(self) -> None:
        if self.bypass is not None:
            for row in self.bypass.finished():
                super().insert("outbox", row)
        if self.outage is not None and self.clock.monotonic() < self._retry_at:
            self._bound_held()
            return
        failure: sqlite3.Error | None = None
        for _attempt in range(len(ROOM_TABLES) + 2):
            try:
                super().flush()
            except sqlite3.Error as exc:
                failure = exc
                if self.outage is None:
                    self.outage = Outage(problem_of(exc), self.clock.time(), str(exc))
                if not self._remedy(problem_of(exc)):
                    break
            else:
                if self.outage is not None:
                    self._recovered()
                return
        if failure is not None:
            self._unavailable(problem_of(failure), failure)

    def _remedy(self, problem: str) -> bool:
        """Make the next try worth it: room on a full disk, a new file for a damaged one.
        False when there is nothing more to do now."""
        if problem == "full":
            return self._make_room()
        if problem == "damaged" and not self._replaced:
            self._replaced = True
            with contextlib.suppress(sqlite3.Error):
                self.db.close()
            move_aside(self.path, self.clock.time())
            self.db = self.reopen()
            return True
        return False

    def _make_room(self) -> bool:
        """One more step of giving up the least valuable rows: those waiting, then the
        oldest stored ones, flow detail first, then the DNS log."""
        if self._room_step >= len(ROOM_TABLES):
            return False
        table = ROOM_TABLES[self._room_step]
        self._room_step += 1
        waiting = self.drop_inserts(table)
        deleted = self._delete_oldest(table)
        self._count_shed(table, waiting)
        if waiting or deleted:
            log.warning(
                "the disk is full: gave up %d unwritten and %d stored %s rows to make room",
                waiting,
                deleted,
                table,
            )
        return True

    def _delete_oldest(self, table: str) -> int:
        try:
            with self.db.atomic():
                (count,) = self.db.execute(f"SELECT count(*) FROM [{table}]").fetchone()
                deleted = self.db.execute(
                    f"DELETE FROM [{table}] WHERE rowid IN "
                    f"(SELECT rowid FROM [{table}] ORDER BY rowid LIMIT ?)",
                    [max(1, int(count) // ROOM_FRACTION)],
                ).rowcount
            # the freed pages go back to the file system at the checkpoint
            self.db.execute("PRAGMA incremental_vacuum")
            self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            return int(deleted)
        except sqlite3.Error:  # not even room for that: the rows wait in memory
            return 0

    def _unavailable(self, problem: str, exc: sqlite3.Error) -> None:
        self._retry_at = self.clock.monotonic() + RETRY_INTERVAL
        outage = self.outage
        assert outage is not None
        if not outage.announced or outage.problem != problem:
            outage.problem, outage.detail, outage.announced = problem, str(exc), True
            with contextlib.suppress(sqlite3.Error):
                self.db.execute(f"PRAGMA busy_timeout = {OUTAGE_BUSY_TIMEOUT_MS}")
            log.error(
                "cannot write the database (%s): %s. HomeGuard keeps watching and holds up to %d "
                "records in memory, trying again every %d s",
                exc,
                advice(problem, self.path),
                self.held_max,
                RETRY_INTERVAL,
            )
            self._offer_waiting_alerts()
        self._bound_held()

    def _offer_waiting_alerts(self) -> None:
        """Alerts queued just before the outage was known go the direct way too."""
        bypass, rows = self.bypass, self._inserts.get("outbox")
        if bypass is None or not rows:
            return
        kept = [row for row in rows if not bypass.offer(row)]
        self.pending -= len(rows) - len(kept)
        self._inserts["outbox"] = kept

    def _recovered(self) -> None:
        outage = self.outage
        assert outage is not None
        self.outage = None
        self._room_step, self._replaced = 0, False
        if not outage.announced:  # put right within the same flush (room made, file replaced)
            return
        with contextlib.suppress(sqlite3.Error):
            self.db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        given_up = ", ".join(f"{count} {table}" for table, count in sorted(outage.shed.items()))
        log.warning(
            "the database can be written again after %.0f s: the held records are written%s",
            self.clock.time() - outage.since,
            f" (given up meanwhile: {given_up} rows)" if given_up else "",
        )

    def _bound_held(self) -> None:
        """Past held_max, the least valuable waiting rows go first; findings, devices
        and alerts last."""
        excess = self.pending - self.held_max
        for table in SHED_ORDER:
            if excess <= 0:
                return
            rows = len(self._inserts.get(table, ()))
            dropped = self.drop_inserts(table, keep=max(0, rows - excess))
            self._count_shed(table, dropped, over_memory=True)
            excess -= dropped
        if excess > 0:
            statements = len(self._statements)
            dropped = self.drop_statements(keep=max(0, statements - excess))
            self._count_shed("findings", dropped, over_memory=True)

    def _count_shed(self, table: str, count: int, *, over_memory: bool = False) -> None:
        if not count or self.outage is None:
            return
        if over_memory and table not in self.outage.shed:
            log.warning("more records wait than memory allows: giving up %s rows first", table)
        self.outage.shed[table] = self.outage.shed.get(table, 0) + count

    def flush_before_exit(self, patience: float) -> int:
        """The last flush of a stopping program: tries for up to `patience` seconds (a
        replay waits for a lock; a daemon told to stop does not), then counts and says
        what could not be written. Returns how many rows were lost."""
        deadline = time.monotonic() + patience
        while True:
            self._retry_at = 0.0
            self.flush()
            if self.outage is None or time.monotonic() >= deadline:
                break
            time.sleep(EXIT_RETRY_INTERVAL)
        if self.outage is None:
            return 0
        log.error(
            "stopping with the database still unavailable (%s): %d records could not be written",
            self.outage.problem,
            self.pending,
        )
        return self.pending
