"""Batched writes: rows wait in memory and go to SQLite in one transaction per flush,
not one per packet, which keeps up with the capture and spares SD cards.

Inserts use the connection's executemany with one prepared statement per table:
sqlite-utils' insert_all inspects every row and cost a third of replay time on the
corpus. sqlite-utils still creates the schema, migrates it and reads it back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from homeguard.errors import StoreError

if TYPE_CHECKING:  # sqlite-utils is loaded where a database is opened: capture workers never do
    from sqlite_utils import Database


Row = dict[str, Any]
Upserted = tuple[str, tuple[str, ...], list[Row]]  # table, primary key, rows
Statement = tuple[str, tuple[Any, ...]]


@dataclass
class Outage:
    """The database cannot be written: since when, why (one of store.faults.PROBLEMS),
    and how many rows of each table were given up meanwhile."""

    problem: str
    since: float
    detail: str
    shed: dict[str, int] = field(default_factory=dict)
    announced: bool = False  # logged (and so reported), not put right within one flush


class BatchWriter:
    def __init__(self, db: Database | None, max_rows: int) -> None:
        self._db = db  # None: the rows are forwarded, not written (a capture worker's)
        self.max_rows = max_rows
        self._inserts: dict[str, list[Row]] = {}
        self._upserts: dict[tuple[str, tuple[str, ...]], dict[tuple[Any, ...], Row]] = {}
        self._statements: list[tuple[str, tuple[Any, ...]]] = []
        self.pending = 0
        self.rows_written = 0
        self.outage: Outage | None = None  # set by the ResilientWriter while it cannot write
        # Called at the start of every flush: tallies kept in memory (the ledger) add their rows.
        self.before_flush: list[Callable[[], None]] = []

    @property
    def db(self) -> Database:
        if self._db is None:
            raise StoreError("this writer forwards its rows to the household process and has no database")
        return self._db

    @db.setter
    def db(self, db: Database) -> None:
        self._db = db

    def insert(self, table: str, row: Row) -> None:
        self._inserts.setdefault(table, []).append(row)
        self.pending += 1

    def upsert(self, table: str, row: Row, pk: tuple[str, ...]) -> None:
        """Insert or update by primary key; a later row for the same key wins."""
        rows = self._upserts.setdefault((table, pk), {})
        rows[tuple(row[k] for k in pk)] = row
        self.pending += 1

    def statement(self, sql: str, params: tuple[Any, ...]) -> None:
        """Any other write, run in order after the inserts and upserts of the same flush."""
        self._statements.append((sql, params))
        self.pending += 1

    def drop_inserts(self, table: str, keep: int = 0) -> int:
        """Give up the oldest unwritten rows of a table, keeping the newest `keep`;
        returns how many went."""
        rows = self._inserts.get(table, [])
        dropped = max(0, len(rows) - keep)
        if dropped:
            del rows[:dropped]
            self.pending -= dropped
        return dropped

    def drop_statements(self, keep: int) -> int:
        rows = self._statements
        dropped = max(0, len(rows) - keep)
        if dropped:
            del rows[:dropped]
            self.pending -= dropped
        return dropped

    def take_pending(self) -> tuple[dict[str, list[Row]], list[Upserted], list[Statement]]:
        """Everything waiting, handed over instead of written (a capture worker sends it
        to the household process, workers/worker.py), and forgotten here."""
        upserts = [(table, pk, list(rows.values())) for (table, pk), rows in self._upserts.items()]
        taken = (self._inserts, upserts, self._statements)
        self._inserts, self._upserts, self._statements = {}, {}, []
        self.pending = 0
        return taken

    @property
    def full(self) -> bool:
        return self.pending >= self.max_rows

    def flush(self) -> None:
        for hook in self.before_flush:
            hook()
        if not self.pending:
            return
        conn = self.db.conn
        with self.db.atomic():
            for table, rows in self._inserts.items():
                if rows:
                    columns = list(rows[0])
                    sql = (
                        f"INSERT INTO [{table}] ({', '.join(f'[{c}]' for c in columns)}) "
                        f"VALUES ({', '.join('?' * len(columns))})"
                    )
                    conn.executemany(sql, [tuple(row[c] for c in columns) for row in rows])
            for (table, pk), keyed in self._upserts.items():
                if keyed:
                    rows = list(keyed.values())
                    columns = list(rows[0])
                    updates = ", ".join(f"[{c}] = excluded.[{c}]" for c in columns if c not in pk)
                    sql = (
                        f"INSERT INTO [{table}] ({', '.join(f'[{c}]' for c in columns)}) "
                        f"VALUES ({', '.join('?' * len(columns))}) "
                        f"ON CONFLICT ({', '.join(f'[{c}]' for c in pk)}) DO UPDATE SET {updates}"
                    )
                    conn.executemany(sql, [tuple(row[c] for c in columns) for row in rows])
            for sql, params in self._statements:
                conn.execute(sql, params)
        self.rows_written += self.pending
        self._inserts.clear()
        self._upserts.clear()
        self._statements.clear()
        self.pending = 0
