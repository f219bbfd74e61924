"""The syslog sender: empties the queue on disk (store/spool.py) into the connection, in
order, and keeps going through outages.

At least once: a row is deleted only after the connection was seen alive CONFIRM_AFTER
seconds after the row was written to it. When the server closes the connection (it
stopped, it restarted), every row not yet confirmed is sent again, so a message that was
in flight is not lost; the SIEM removes the repeat by its event.id. Over UDP there is no
connection to watch: a datagram written is taken as delivered (at most once).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from sqlite_utils import Database

from homeguard.clock import Clock
from homeguard.outputs.export.cef import cef_line
from homeguard.outputs.export.syslog import MAX_UDP, Connection, Destination, message
from homeguard.settings import ConfigValues
from homeguard.store import spool

log = logging.getLogger("homeguard.export")
BATCH = 500
CONFIRM_AFTER = 2.0  # seconds a connection must stay alive after a write for it to count
MAX_BACKOFF = 30.0
IDLE_CLOSE = 300.0  # seconds without anything to send before the connection is closed


class SyslogSender:
    def __init__(
        self, destination: Destination, fmt: str, ca_file: str | None, hostname: str, clock: Clock
    ) -> None:
        self.destination = destination
        self.fmt = fmt
        self.ca_file = ca_file
        self.hostname = hostname
        self.clock = clock
        self.connection: Connection | None = None
        self.retry_at = 0.0
        self.backoff = 1.0
        self.down_since: float | None = None
        self.last_sent = 0.0

    def work(self, db: Database) -> None:
        """One pass: notice a closed connection, confirm what is due, send what waits."""
        now = self.clock.time()
        if self.connection is not None and self.connection.closed_by_peer():
            self._lost(db, "the server closed the connection")
        elif self.connection is not None:
            spool.confirm(db, now - CONFIRM_AFTER)
        rows = spool.pending(db, BATCH)
        if not rows:
            self._close_when_idle(db, now)
            return
        if not self._connected(now):
            return
        assert self.connection is not None
        try:
            for row in rows:
                self.connection.send(self._payload(row))
        except OSError as exc:
            self._lost(db, str(exc))
            return
        spool.mark_sent(db, [row["id"] for row in rows], now)
        self.last_sent = now
        if not self.connection.stream:
            spool.confirm(db, now)  # UDP: written is all we can know

    def _close_when_idle(self, db: Database, now: float) -> None:
        """Hang up after IDLE_CLOSE seconds with nothing to send, once all is confirmed: a
        relay for thousands of sensors then holds only the connections in use."""
        if self.connection is not None and now - self.last_sent > IDLE_CLOSE and spool.waiting(db) == 0:
            self.connection.close()
            self.connection = None

    def idle(self, db: Database) -> bool:
        """True when nothing waits, sent or not."""
        return spool.waiting(db) == 0

    def _connected(self, now: float) -> bool:
        if self.connection is not None:
            return True
        if now < self.retry_at:
            return False
        try:
            self.connection = Connection(self.destination, self.ca_file)
        except OSError as exc:
            if self.down_since is None:
                self.down_since = now
                log.warning("export to %s: cannot connect (%s); findings wait on disk", self.destination, exc)
            self.retry_at = now + self.backoff
            self.backoff = min(self.backoff * 2, MAX_BACKOFF)
            return False
        if self.down_since is not None:
            down = max(0.0, self.clock.time() - self.down_since)
            log.info("export to %s: connected again after %.0f s", self.destination, down)
        self.down_since, self.backoff = None, 1.0
        return True

    def _lost(self, db: Database, why: str) -> None:
        assert self.connection is not None
        self.connection.close()
        self.connection = None
        again = spool.send_again(db)
        log.warning(
            "export to %s: %s; %d unconfirmed message(s) will be sent again", self.destination, why, again
        )

    def _payload(self, row: dict[str, Any]) -> bytes:
        doc = json.loads(row["body"])
        body = cef_line(doc) if self.fmt == "cef" else row["body"]
        payload = message(body, row["severity"], self.hostname, row["msgid"], row["created"])
        if self.connection is not None and not self.connection.stream and len(payload) > MAX_UDP:
            log.warning(
                "export to %s: a %d-byte message may be cut by UDP relays", self.destination, len(payload)
            )
        return payload

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def sender_for(values: ConfigValues, clock: Clock) -> SyslogSender | None:
    """The syslog sender the settings ask for, or None (export_syslog empty)."""
    url = values["export_syslog"]
    if not url:
        return None
    import socket

    hostname = values["fleet_site"] or socket.gethostname()
    return SyslogSender(
        Destination.parse(url), values["export_syslog_format"], values["export_syslog_ca"], hostname, clock
    )


def deliver(db: Database, sender: SyslogSender, patience: float) -> int:
    """Send what waits, for at most `patience` seconds (a replay's end); returns how many
    are still waiting (the daemon sends them later)."""
    import time

    deadline = time.monotonic() + patience
    while time.monotonic() < deadline:
        sender.work(db)
        if sender.idle(db):
            break
        time.sleep(0.2)
    sender.close()
    return spool.waiting(db)
