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
from typing import Any

from homeguard.errors import StoreError
from homeguard.outputs.export.ndjson import RotatingNdjson
from homeguard.store import spool
from homeguard.store.database import open_database

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
        self.written = 0
        self._failing = False

    def write(self, item: Document) -> None:
        """On the exporter's thread (outputs/queued.py)."""
        self.written += 1
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
        """Into the queue on disk, on a connection opened for it: documents are few (a
        finding, a health report), and a connection must stay in the thread that made it."""
        assert self.spool_path is not None
        try:
            db = open_database(self.spool_path)
            try:
                with db.atomic():
                    db.table("export_spool").insert_all(self.held)
                spool.trim(db)
            finally:
                db.close()
        except (sqlite3.Error, StoreError) as exc:
            if not self._failing:
                log.warning(
                    "export queue: the database cannot be written (%s); %d held in memory",
                    exc,
                    len(self.held),
                )
            self._failing = True
            return
        if self._failing:
            log.info("export queue: written again")
        self._failing = False
        self.held.clear()

    def close(self) -> None:
        if self.held and self.spool_path is not None:
            self._spool_held()
        if self.held or self.given_up:
            log.error(
                "export: %d document(s) could not be queued, %d given up", len(self.held), self.given_up
            )
        if self.ecs_file is not None:
            self.ecs_file.close()
