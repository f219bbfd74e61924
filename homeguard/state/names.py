"""Which name a device looked up for an address: the DNS answers, remembered, so that
a flow to 142.250.185.14 reads as a flow to www.youtube.com."""

from __future__ import annotations

from homeguard.bounded import make_room


class ServerNames:
    """IP bytes to the name asked for. Bounded: the oldest entries go first."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._names: dict[bytes, str] = {}

    def __len__(self) -> int:
        return len(self._names)

    def learn(self, ip: bytes, name: str) -> None:
        names = self._names
        names.pop(ip, None)  # re-insert so the entry counts as new
        make_room(names, self.max_entries)
        names[ip] = name

    def name_of(self, ip: bytes) -> str | None:
        return self._names.get(ip)
