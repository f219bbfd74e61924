"""The export's writer: on a thread of its own, each exported document goes to the ECS
file and, for a network output, into the queue on disk (store/spool.py) that the syslog
sender empties. The capture thread only builds the document and hands it over.

While the database cannot be written, documents wait in memory (at most MAX_HELD, the
oldest given up first and counted) and are written when it is back.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from homeguard.errors import StoreError
from homeguard.outputs.export.ndjson import RotatingNdjson
from homeguard.store import spool
from homeguard.store.database import open_database

if TYPE_CHECKING:  # sqlite-utils is loaded where a database is opened: capture workers never do
    from sqlite_utils import Database

log = logging.getLogger("homeguard.export")
MAX_HELD = 10_000


@dataclass(frozen=True, slots=True)
class Document:
    msgid: str  # finding or health
    severity: str
    doc: dict[str, Any]
    ts: float  # when it was made


class Exporter:
    def __init__(self, ecs_file: RotatingNdjson | None, spool_path: Path | None) -> None:
        self.ecs_file = ecs_file
        self.spool_path = spool_path
        self.held: list[dict[str, Any]] = []
        self.given_up = 0
        self._db: Database | None = None
        self._failing = False

    def write(self, item: Document) -> None:
        """On the exporter's thread (outputs/queued.py)."""
        if self.ecs_file is not None:
            self.ecs_file.write(item.doc)
        if self.spool_path is None:
            return
        self.held.append(
            {
                "created": item.ts,
                "event_id": item.doc["event"]["id"],
                "severity": item.severity,
                "msgid": item.msgid,
                "body": json.dumps(item.doc, ensure_ascii=False, separators=(",", ":")),
            }
        )
        if len(self.held) > MAX_HELD:
            self.given_up += len(self.held) - MAX_HELD
            del self.held[: len(self.held) - MAX_HELD]
        self._spool_held()

    def _spool_held(self) -> None:
        assert self.spool_path is not None
        try:
            if self._db is None:
                self._db = open_database(self.spool_path)  # in this thread: a connection stays in its own
            with self._db.atomic():
                self._db.table("export_spool").insert_all(self.held)
            spool.trim(self._db)
        except (sqlite3.Error, StoreError) as exc:
            if not self._failing:
                log.warning(
                    "export queue: the database cannot be written (%s); %d held in memory",
                    exc,
                    len(self.held),
                )
            self._failing = True
            self._close_db()  # open it afresh next time (the file may have been replaced)
            return
        if self._failing:
            log.info("export queue: written again")
        self._failing = False
        self.held.clear()

    def finish(self) -> None:
        """On the exporter's thread, after its last document: what is held is tried once
        more, and the connection closed."""
        if self.held and self.spool_path is not None:
            self._spool_held()
        self._close_db()

    def _close_db(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def close(self) -> None:
        """After finish(), from the thread that stops the exporter: report and close the file."""
        if self.held or self.given_up:
            log.error(
                "export: %d document(s) could not be queued, %d given up", len(self.held), self.given_up
            )
        if self.ecs_file is not None:
            self.ecs_file.close()
