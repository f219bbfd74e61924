"""The DNS log: one row per lookup, the query paired with its response.

A query waits (bounded) for its response; unanswered ones are logged after
`ANSWER_WAIT` seconds with no rcode. A response whose query was not seen is
logged on its own.
"""

from __future__ import annotations

from typing import Any

from homeguard.bounded import make_room
from homeguard.events import Event

ANSWER_WAIT = 10.0
Row = dict[str, Any]
PendingKey = tuple[str, int, int]  # client ip, client port, DNS id


class DnsLog:
    def __init__(self, max_pending: int) -> None:
        self.max_pending = max_pending
        self._pending: dict[PendingKey, Row] = {}

    def __len__(self) -> int:
        return len(self._pending)

    def record(self, event: Event) -> list[Row]:
        """Take a dns event; return the rows that are complete now."""
        if "dns.query" not in event:
            return []
        done: list[Row] = []
        if not event["dns.is_response"]:
            key = (event["src.ip"], event.get("src.port", 0), event["dns.id"])
            done.extend(make_room(self._pending, self.max_pending))
            self._pending[key] = {
                "ts": event["ts"],
                "device_mac": event.get("src.mac"),
                "client_ip": event["src.ip"],
                "server_ip": event["dst.ip"],
                "query": event["dns.query"],
                "qtype": event.get("dns.qtype"),
                "rcode": None,
                "answers": None,
                "transport": event["dns.transport"],
            }
            return done
        key = (event["dst.ip"], event.get("dst.port", 0), event["dns.id"])
        row = self._pending.pop(key, None)
        if row is None:
            row = {
                "ts": event["ts"],
                "device_mac": event.get("dst.mac"),
                "client_ip": event["dst.ip"],
                "server_ip": event["src.ip"],
                "query": event["dns.query"],
                "qtype": event.get("dns.qtype"),
                "transport": event["dns.transport"],
            }
        row["rcode"] = event.get("dns.rcode")
        row["answers"] = ",".join(event.get("dns.answers", []))
        done.append(row)
        return done

    def expire(self, now: float) -> list[Row]:
        before = now - ANSWER_WAIT
        expired = [key for key, row in self._pending.items() if row["ts"] < before]
        return [self._pending.pop(key) for key in expired]

    def drain(self) -> list[Row]:
        rows = list(self._pending.values())
        self._pending.clear()
        return rows
