"""Keeping the data ledger: every flow between a device at home and the internet, when
it ends, is added to its device's tally for that local day, organisation and server
country (the enricher has attributed it: state/organisations.py). The tallies live in
memory and are written at each flush as additions (store/ledger.py), so the cost per
flow is a dict update.

A device in `metadata_only` gets totals only: no organisation, country or name.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from homeguard.bounded import make_room
from homeguard.events import Event
from homeguard.rules.lists import IndicatorList
from homeguard.state.organisations import TRACKING_PURPOSES
from homeguard.store.ledger import MAX_DOMAINS, add_to_day
from homeguard.store.writer import BatchWriter

OUTSIDE = ("outbound", "inbound")
# What a data_first event carries over from the flow that was the first
FIRST_FIELDS = (
    "device.mac",
    "device.name",
    "device.vendor",
    "org.name",
    "org.country",
    "server.country",
    "server.eu",
)
TotalKey = tuple[str, str, str, str]  # day, device MAC, organisation, server country


@dataclass(slots=True)
class Tally:
    first_seen: float
    last_seen: float
    jurisdiction: str | None = None
    purpose: str | None = None
    via: str | None = None
    source: str | None = None
    tracker: bool = False
    detail: bool = True
    bytes_out: int = 0
    bytes_in: int = 0
    connections: int = 0
    domains: set[str] = field(default_factory=set)


MAX_KNOWN = 200_000  # (device, organisation or country) pairs remembered for data_first


class LedgerBook:
    """Keeps the ledger; and, the first time a device's data goes to an organisation or
    to a country, announces it as a data_first event (the rules new-company and
    new-country), so that those rules see a handful of events instead of every flow."""

    def __init__(
        self,
        writer: BatchWriter,
        metadata_only: Sequence[str],
        trackers: Sequence[IndicatorList] = (),
        known: Iterable[tuple[str, str]] = (),
        announce: Callable[[Event], None] | None = None,
    ) -> None:
        self.writer = writer
        self.metadata_only = frozenset(mac.lower() for mac in metadata_only)
        self.trackers = list(trackers)
        self.announce = announce
        self._known: dict[tuple[str, str], None] = dict.fromkeys(known)  # from the ledger table at start
        self._tallies: dict[TotalKey, Tally] = {}
        # (quarter-hour, local day) of the last flow: one strftime per quarter-hour, which
        # every time zone's midnight falls on
        self._day_of: tuple[int, str] = (-1, "")
        writer.before_flush.append(self.write)

    def __call__(self, event: Event) -> None:
        """A flow_end event (Pipeline.flow_end_sinks), enriched."""
        if event.get("flow.direction") not in OUTSIDE:
            return
        mac = event.get("device.mac")
        if not mac:
            return
        ts = event["ts"]
        detail = mac not in self.metadata_only
        org = event.get("org.name", "") if detail else ""
        country = event.get("server.country", "") if detail else ""
        key = (self._day(ts), mac, org, country)
        tally = self._tallies.get(key)
        if tally is None:
            tally = self._tallies[key] = Tally(ts, ts, detail=detail)
        tally.last_seen = max(tally.last_seen, ts)
        tally.first_seen = min(tally.first_seen, ts)
        tally.connections += 1
        outbound = event.get("flow.direction") == "outbound"  # the device opened it: out is its side
        sent, received = event.get("flow.bytes_out", 0), event.get("flow.bytes_in", 0)
        tally.bytes_out += sent if outbound else received
        tally.bytes_in += received if outbound else sent
        if detail:
            self._describe(tally, event)
            if self.announce is not None:
                self._firsts(event, mac, org, country)

    def _firsts(self, event: Event, mac: str, org: str, country: str) -> None:
        for kind, value in (("organisation", org), ("country", country)):
            if not value or (mac, f"{kind}:{value}") in self._known:
                continue
            make_room(self._known, MAX_KNOWN)
            self._known[(mac, f"{kind}:{value}")] = None
            first: Event = {"ts": event["ts"], "type": "data_first", "data.first": kind}
            for name in FIRST_FIELDS:
                if name in event:
                    first[name] = event[name]
            assert self.announce is not None
            self.announce(first)

    def _describe(self, tally: Tally, event: Event) -> None:
        tally.jurisdiction = event.get("org.country") or tally.jurisdiction
        tally.purpose = event.get("org.purpose") or tally.purpose
        tally.via = event.get("org.via") or tally.via
        tally.source = event.get("org.source") or tally.source
        domain = event.get("server.domain")
        if domain and len(tally.domains) < MAX_DOMAINS:
            tally.domains.add(domain)
        if not tally.tracker:
            tally.tracker = tally.purpose in TRACKING_PURPOSES or self._listed(event)

    def _listed(self, event: Event) -> bool:
        """Whether a tracker list names the flow's server or a name in its CNAME chain."""
        names = [event.get("flow.server_name"), *(event.get("flow.cnames") or ())]
        return any(isinstance(n, str) and n and lst.contains(n) for lst in self.trackers for n in names)

    def _day(self, ts: float) -> str:
        quarter = int(ts // 900)
        if quarter != self._day_of[0]:
            self._day_of = (quarter, time.strftime("%Y-%m-%d", time.localtime(ts)))
        return self._day_of[1]

    def write(self) -> None:
        """Hand the tallies to the writer as additions to their days' rows (at each flush)."""
        tallies, self._tallies = self._tallies, {}
        for (day, mac, org, country), t in tallies.items():
            add_to_day(self.writer, _row(day, mac, org, country, t))


def _row(day: str, mac: str, org: str, country: str, t: Tally) -> dict[str, Any]:
    return {
        "day": day,
        "device_mac": mac,
        "org": org,
        "server_country": country,
        "jurisdiction": t.jurisdiction,
        "purpose": t.purpose,
        "via": t.via,
        "source": t.source,
        "tracker": int(t.tracker),
        "detail": int(t.detail),
        "bytes_out": t.bytes_out,
        "bytes_in": t.bytes_in,
        "connections": t.connections,
        "first_seen": t.first_seen,
        "last_seen": t.last_seen,
        "domains": json.dumps(sorted(t.domains)),
    }
