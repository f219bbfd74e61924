"""The owner of an address block: for flows with no name at all.

Read from `address-owners.tsv` in the lists directory, in the IP-to-ASN table format:
one range a line, tab-separated, `first-ip last-ip as-number country description`
(rows of AS 0 mean "not routed" and are left out). `homeguard lists update` fetches it
when the `address_owners_url` setting names a source (docs/lists.md); nothing is fetched
otherwise, and without the file such flows are "unnamed" in the ledger.

Ranges are kept in sorted arrays (IPv4) and lists (IPv6) and looked up by binary search.
"""

from __future__ import annotations

import ipaddress
import logging
from array import array
from bisect import bisect_right
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("homeguard.enrichment")


@dataclass(frozen=True, slots=True)
class AddressOwner:
    asn: int
    country: str  # where the block is registered
    name: str  # the AS's description, such as "GOOGLE"


class AddressOwners:
    def __init__(self) -> None:
        self._v4_starts, self._v4_ends, self._v4_owner = array("Q"), array("Q"), array("I")
        self._v6: list[tuple[int, int, int]] = []
        self._owners: list[AddressOwner] = []

    def __len__(self) -> int:
        return len(self._v4_starts) + len(self._v6)

    @classmethod
    def load(cls, path: Path) -> AddressOwners:
        """The table in `path`; empty (with one log line) when it cannot be read. Lines
        that are not ranges are skipped and counted."""
        table = cls()
        if not path.is_file():
            return table
        owners: dict[tuple[int, str, str], int] = {}
        rows4: list[tuple[int, int, int]] = []
        skipped = 0
        try:
            with path.open(encoding="utf-8", errors="replace") as f:
                for line in f:
                    parts = line.rstrip("\n").split("\t")
                    try:
                        first, last = ipaddress.ip_address(parts[0]), ipaddress.ip_address(parts[1])
                        asn = int(parts[2])
                    except (ValueError, IndexError):
                        skipped += 1
                        continue
                    if asn == 0:
                        continue
                    key = (asn, parts[3] if len(parts) > 3 else "", parts[4] if len(parts) > 4 else "")
                    index = owners.setdefault(key, len(owners))
                    row = (int(first), int(last), index)
                    (rows4 if first.version == 4 else table._v6).append(row)
        except OSError as exc:
            log.error("%s: cannot read the address owners: %s", path, exc.strerror)
            return cls()
        rows4.sort()
        table._v6.sort()
        for start, end, index in rows4:
            table._v4_starts.append(start)
            table._v4_ends.append(end)
            table._v4_owner.append(index)
        table._owners = [AddressOwner(asn, cc, name) for (asn, cc, name) in owners]
        if skipped:
            log.warning("%s: %d lines are not address ranges and were skipped", path, skipped)
        return table

    def owner_of(self, ip: str) -> AddressOwner | None:
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            return None
        value = int(address)
        if address.version == 4:
            at = bisect_right(self._v4_starts, value) - 1
            if at >= 0 and value <= self._v4_ends[at]:
                return self._owners[self._v4_owner[at]]
            return None
        at = bisect_right(self._v6, (value, 1 << 129, 0)) - 1
        if at >= 0 and value <= self._v6[at][1]:
            return self._owners[self._v6[at][2]]
        return None
