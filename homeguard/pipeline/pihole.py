"""Pi-hole's query database as a source (`pihole_db`): FTL's long-term database, opened
read-only, each new row of its `queries` view a lookup of the device that asked.

Pi-hole writes the database once a minute by default (its DBINTERVAL), so lookups reach
HomeGuard up to a minute late, with their own time. Only rows added after HomeGuard
started are read, in id order, at most 5,000 a tick. The columns are those Pi-hole
documents for the view (id, timestamp, type, domain, client, reply_type); a database it
cannot read is a health problem (source-down), never an exit.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

from homeguard.decode.resolver_log import Lookup
from homeguard.decode.text import network_name
from homeguard.pipeline.feed import QUIET_AFTER, quiet_for

if TYPE_CHECKING:
    from homeguard.pipeline.core import Pipeline

log = logging.getLogger("homeguard.pihole")
POLL = 2.0  # seconds between reads
BATCH = 5000
# FTL's query types and reply types, as its documentation numbers them.
QUERY_TYPES = {1: "A", 2: "AAAA", 3: "ANY", 4: "SRV", 5: "SOA", 6: "PTR", 7: "TXT", 8: "NAPTR", 9: "MX",
               10: "DS", 11: "RRSIG", 12: "DNSKEY", 13: "NS", 15: "SVCB", 16: "HTTPS"}  # fmt: skip
NEW_ROWS = (
    "SELECT id, timestamp, type, domain, client, reply_type FROM queries WHERE id > ? ORDER BY id LIMIT ?"
)
REPLY_RCODES = {2: "NXDOMAIN", 7: "SERVFAIL", 8: "REFUSED", 9: "NOTIMP"}  # the rest answered


class PiholeDatabase:
    def __init__(self, path: str) -> None:
        self.name = "pihole"
        self.path = Path(path)
        self._db: sqlite3.Connection | None = None
        self._inode = -1
        self._last_id: int | None = None
        self._next_poll = 0.0
        self._error: str | None = None
        self._failing_since: float | None = None
        log.info("reading Pi-hole's query database %s", self.path)

    def _open(self) -> sqlite3.Connection:
        """The connection, made again when the file was replaced (its own ids start over:
        read from its newest row); a missing file is an error, not an empty database."""
        inode = os.stat(self.path).st_ino  # OSError when it is gone
        if self._db is not None and inode != self._inode:
            self.close()
            self._last_id = None
        if self._db is None:
            self._db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=0.2)
            self._inode = inode
        return self._db

    def drain(self, pipeline: Pipeline, now: float) -> int:
        if now < self._next_poll:
            return 0
        self._next_poll = now + POLL
        try:
            db = self._open()
            if self._last_id is None:  # only what comes after HomeGuard started
                self._last_id = db.execute("SELECT coalesce(max(id), 0) FROM queries").fetchone()[0]
            rows = db.execute(NEW_ROWS, (self._last_id, BATCH)).fetchall()
        except (sqlite3.Error, OSError) as exc:
            self._error = str(exc)
            self._failing_since = self._failing_since or now
            self.close()
            return 0
        self._error = self._failing_since = None
        fed = 0
        for row_id, timestamp, qtype, domain, client, reply_type in rows:
            self._last_id = row_id
            if not (
                isinstance(domain, str) and isinstance(client, str) and isinstance(timestamp, (int, float))
            ):
                continue
            name = network_name(domain)
            kind = QUERY_TYPES.get(qtype, "") if isinstance(qtype, int) else ""
            fed += pipeline.logged_lookup(float(timestamp), Lookup(client, name, kind))
            if isinstance(reply_type, int) and reply_type > 0:
                rcode = REPLY_RCODES.get(reply_type, "NOERROR")
                fed += pipeline.logged_lookup(float(timestamp), Lookup(client, name, kind, rcode))
        return fed

    def problem(self, now: float) -> str | None:
        if self._failing_since is None or now - self._failing_since < QUIET_AFTER:
            return None
        how_long = quiet_for(self._failing_since, now)
        return f"Pi-hole's database {self.path} has been unreadable for {how_long} ({self._error})"

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
