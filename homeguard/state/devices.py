"""The device inventory: every MAC that sent a frame, with its names, maker and IPs."""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from homeguard.decode.addresses import ip_text, is_randomized_mac, mac_text
from homeguard.state.vendors import VendorLookup

MAX_IPS_PER_DEVICE = 32


@dataclass(slots=True)
class Device:
    mac: str
    first_seen: float
    last_seen: float
    vendor: str | None = None
    randomized: bool = False
    hostname: str | None = None  # from DHCP option 12
    mdns_name: str | None = None
    vendor_class: str | None = None  # DHCP option 60
    dhcp_fingerprint: str | None = None  # DHCP option 55, comma-joined
    ssdp_server: str | None = None
    ips: dict[str, list[float]] = field(default_factory=dict)  # ip -> [first_seen, last_seen]
    changed: bool = True  # something other than last_seen changed since the last flush
    stored_last_seen: float = -1.0  # last_seen as the database has it

    @property
    def name(self) -> str | None:
        return self.hostname or self.mdns_name

    @property
    def identity(self) -> str:
        """What the device is recognised by: its MAC, unless the MAC is randomised; then
        its DHCP host name with its DHCP fingerprint, or its mDNS name, which survive
        a change of address. With none of those, the MAC after all."""
        if not self.randomized:
            return self.mac
        if self.hostname and self.dhcp_fingerprint:
            return f"dhcp:{self.hostname.lower()}|{self.dhcp_fingerprint}"
        if self.mdns_name:
            return f"mdns:{self.mdns_name.lower()}"
        return self.mac

    @property
    def recognisable(self) -> bool:
        return self.identity != self.mac or not self.randomized

    def row(self) -> dict[str, Any]:
        return {
            "mac": self.mac,
            "vendor": self.vendor,
            "randomized": int(self.randomized),
            "hostname": self.hostname,
            "mdns_name": self.mdns_name,
            "vendor_class": self.vendor_class,
            "dhcp_fingerprint": self.dhcp_fingerprint,
            "ssdp_server": self.ssdp_server,
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
        }


EVICT_FRACTION = 0.01  # of max_devices, dropped at once when full: one scan per hundred new MACs


class DeviceInventory:
    """Devices by raw MAC bytes. At most `max_devices`: when full, the longest unseen
    hundredth is dropped from memory at once (one scan for many new devices, so a flood
    of made-up MACs costs O(1) per MAC), and handed over in `evicted` to be written first."""

    def __init__(self, max_devices: int, vendors: VendorLookup | None = None) -> None:
        self.max_devices = max_devices
        self.by_mac: dict[bytes, Device] = {}
        self.evicted: list[Device] = []  # dropped from memory, not yet written: the pipeline writes them
        self._vendors = vendors or VendorLookup()

    def __len__(self) -> int:
        return len(self.by_mac)

    def __iter__(self) -> Iterator[Device]:
        return iter(self.by_mac.values())

    def restore(self, rows: Iterable[dict[str, Any]], ip_rows: Iterable[dict[str, Any]]) -> None:
        """Load devices known from earlier runs, so they are not new again."""
        for row in rows:
            if len(self.by_mac) >= self.max_devices:
                break
            dev = Device(
                row["mac"],
                row["first_seen"],
                row["last_seen"],
                row["vendor"],
                bool(row["randomized"]),
                row["hostname"],
                row["mdns_name"],
                row["vendor_class"],
                row["dhcp_fingerprint"],
                row["ssdp_server"],
                changed=False,
            )
            self.by_mac[bytes.fromhex(row["mac"].replace(":", ""))] = dev
        index = {d.mac: d for d in self.by_mac.values()}
        for ip_row in ip_rows:
            owner = index.get(ip_row["mac"])
            if owner is not None and len(owner.ips) < MAX_IPS_PER_DEVICE:
                owner.ips[ip_row["ip"]] = [ip_row["first_seen"], ip_row["last_seen"]]

    def add(self, mac: bytes, ts: float) -> Device:
        """A MAC seen for the first time. The caller has checked it is unicast."""
        if len(self.by_mac) >= self.max_devices:
            count = max(1, int(self.max_devices * EVICT_FRACTION))
            by_mac = self.by_mac
            for old in heapq.nsmallest(count, by_mac, key=lambda m: by_mac[m].last_seen):
                self.evicted.append(by_mac.pop(old))
        dev = Device(mac_text(mac), ts, ts, self._vendors.vendor(mac), is_randomized_mac(mac))
        self.by_mac[mac] = dev
        return dev

    def identity_of(self, mac: str) -> str | None:
        """The identity of the device with this MAC (aa:bb:...), None when unknown."""
        try:
            dev = self.by_mac.get(bytes.fromhex(mac.replace(":", "")))
        except ValueError:
            return None
        return dev.identity if dev is not None else None

    def last_heard(self, mac: bytes) -> float | None:
        """When the MAC last sent a frame, if it is in memory."""
        dev = self.by_mac.get(mac)
        return dev.last_seen if dev is not None else None

    def observe_ip(self, mac: bytes, ip: bytes, ts: float) -> None:
        dev = self.by_mac.get(mac)
        if dev is None:
            return
        text = ip_text(ip)
        seen = dev.ips.get(text)
        if seen is not None:
            seen[1] = ts
            return
        if len(dev.ips) >= MAX_IPS_PER_DEVICE:
            stalest = min(dev.ips, key=lambda k: dev.ips[k][1])
            del dev.ips[stalest]
        dev.ips[text] = [ts, ts]
        dev.changed = True

    def update(self, mac: bytes | None, **facts: str | None) -> None:
        """Record names and fingerprints a device gave (hostname=..., ssdp_server=...)."""
        dev = self.by_mac.get(mac) if mac else None
        if dev is None:
            return
        for key, value in facts.items():
            if value and getattr(dev, key) != value:
                setattr(dev, key, value)
                dev.changed = True
