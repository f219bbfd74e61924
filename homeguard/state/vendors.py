"""Device makers from the IEEE OUI table that scapy ships (offline, nothing fetched)."""

from __future__ import annotations

from typing import Any


class VendorLookup:
    """MAC prefix to maker name, cached per prefix."""

    def __init__(self) -> None:
        self._cache: dict[bytes, str | None] = {}
        self._db: Any = None

    def vendor(self, mac: bytes) -> str | None:
        if mac[0] & 2:  # locally administered: randomised or virtual, no maker registered
            return None
        prefix = mac[:3]
        if prefix not in self._cache:
            self._cache[prefix] = self._lookup(mac)
        return self._cache[prefix]

    def _lookup(self, mac: bytes) -> str | None:
        if self._db is None:
            from scapy.config import conf  # imported late: scapy's import is slow

            self._db = conf.manufdb
        text = mac.hex(":")
        try:
            _short, long_name = self._db.lookup(text)
        except (KeyError, ValueError, AttributeError):
            return None
        if long_name == text:
            return None
        # Some entries carry a comment after a tab or '#': "Lite-On\t# (used by MacSense ...)"
        return str(long_name).split("\t", 1)[0].split("#", 1)[0].strip() or None
