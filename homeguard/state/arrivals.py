"""New devices wait a moment before they are announced.

A device's first frame rarely says who it is; its DHCP request or mDNS announcement,
a fraction of a second later, does. Holding the device_new event until then (or at
most IDENTIFY_WAIT seconds) lets the alert name the device, and lets a phone with a
randomised MAC be recognised by its name instead of looking new on every reconnect.
"""

from __future__ import annotations

from homeguard.events import Event

IDENTIFY_WAIT = 30.0  # seconds of packet time


class Arrivals:
    def __init__(self, wait: float = IDENTIFY_WAIT) -> None:
        self.wait = wait
        self.pending: dict[bytes, Event] = {}  # MAC -> its held device_new event

    def hold(self, mac: bytes, event: Event) -> None:
        self.pending[mac] = event

    def take(self, mac: bytes | None) -> Event | None:
        """The held event of a device that just said who it is, if it is waiting."""
        return self.pending.pop(mac, None) if mac is not None else None

    def due(self, now: float) -> list[tuple[bytes, Event]]:
        """Events that waited long enough, oldest first, removed from the wait."""
        ready = [(mac, ev) for mac, ev in self.pending.items() if abs(now - ev["ts"]) >= self.wait]
        for mac, _ in ready:
            del self.pending[mac]
        return ready

    def drain(self) -> list[tuple[bytes, Event]]:
        ready = list(self.pending.items())
        self.pending.clear()
        return ready
