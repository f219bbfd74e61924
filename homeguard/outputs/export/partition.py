"""The privacy partition: what of a finding an IT department's export may carry.

Only three kinds of finding leave the house:
- findings about a work device (fleet_work_devices, by MAC or device identity): with
  the work device's own addresses, and the other side only when it is on the internet;
  a household device on the other side is "a device on the home network";
- attacks on the network the work device sits on (ARP spoofing, a rogue DHCP server or
  router, a MAC flood, a sweep of the network, a port scan of a work device): with no
  address or name of the household device behind them;
- the sensor's own health findings.

Everything else (any other device's findings, names, MACs, addresses, lookups and
companies) stays in the house. The rendered messages never leave either: they may name
other devices. Exports carry the rule's title and the structured fields chosen here.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from homeguard.findings.model import SEVERITY_RANK, Finding

WORK_DEVICE = "work_device"
HOME_NETWORK = "home_network"  # an attack on the network, by a device that stays unnamed
SENSOR = "sensor"
NETWORK_ATTACKS = frozenset(
    {"network.arp-spoofing", "network.rogue-dhcp", "network.rogue-router-advertisement", "network.mac-flood"}
)
SCAN_CATEGORY = "network.port-scan"
SWEEPS = frozenset({"host-sweep", "arp-sweep"})  # scans of the whole network, the work device's too
A_HOME_DEVICE = "a device on the home network"


@dataclass(frozen=True, slots=True)
class Side:
    """One end of the conversation, as far as the export may show it."""

    ip: str | None = None
    port: int | None = None
    mac: str | None = None
    domain: str | None = None

    def empty(self) -> bool:
        return self.ip is None and self.port is None and self.mac is None and self.domain is None


@dataclass(frozen=True, slots=True)
class Exported:
    finding: Finding
    subject: str  # WORK_DEVICE, HOME_NETWORK or SENSOR
    device: str  # the work device as HomeGuard knows it, else A_HOME_DEVICE or "this sensor"
    source: Side = field(default_factory=Side)
    destination: Side = field(default_factory=Side)
    transport: str | None = None
    peer_at_home: bool = False  # the other side was a household device, left out


class Partition:
    def __init__(
        self,
        work_devices: Iterable[str],
        min_severity: str = "low",
        identity_of: Callable[[str], str | None] | None = None,
    ) -> None:
        self.work = frozenset(w.lower() for w in work_devices)
        self.min_rank = SEVERITY_RANK[min_severity]
        self.identity_of = identity_of

    def is_work_device(self, mac: str | None) -> bool:
        if not mac:
            return False
        if mac.lower() in self.work:
            return True
        identity = self.identity_of(mac) if self.identity_of is not None else None
        return identity is not None and identity.lower() in self.work

    def export(self, finding: Finding) -> Exported | None:
        """The finding as the export may carry it, or None when it stays in the house."""
        if not finding.alert or SEVERITY_RANK.get(finding.severity, 0) < self.min_rank:
            return None
        if finding.category.startswith("health."):
            return Exported(finding, SENSOR, "this sensor")
        if self.is_work_device(finding.device_mac):
            return self._about_work_device(finding)
        if finding.category in NETWORK_ATTACKS or (
            finding.category == SCAN_CATEGORY and finding.rule in SWEEPS
        ):
            return Exported(finding, HOME_NETWORK, A_HOME_DEVICE, transport=_transport(finding))
        target = finding.endpoints.get("dst.mac")
        if finding.category == SCAN_CATEGORY and self.is_work_device(target):
            return Exported(
                finding,
                HOME_NETWORK,
                A_HOME_DEVICE,
                destination=self._side(finding, "dst"),
                transport=_transport(finding),
            )
        return None

    def _about_work_device(self, finding: Finding) -> Exported:
        ends = finding.endpoints
        work_is_source = (
            ends.get("src.mac") == finding.device_mac or ends.get("dst.mac") != finding.device_mac
        )
        mine, theirs = ("src", "dst") if work_is_source else ("dst", "src")
        other = self._side(finding, theirs)
        at_home = other.empty() and any(ends.get(f"{theirs}.{k}") for k in ("ip", "mac"))
        sides = (self._side(finding, mine), other)
        source, destination = sides if work_is_source else sides[::-1]
        return Exported(
            finding,
            WORK_DEVICE,
            finding.device or finding.device_mac,
            source,
            destination,
            _transport(finding),
            at_home,
        )

    def _side(self, finding: Finding, prefix: str) -> Side:
        """One end: in full when it is a work device or on the internet; empty when it is
        another household device (a local address, or a MAC that is not a work device's)."""
        ends = finding.endpoints
        ip, mac = ends.get(f"{prefix}.ip"), ends.get(f"{prefix}.mac")
        if self.is_work_device(mac):
            return Side(ip, ends.get(f"{prefix}.port"), mac)
        if ip is None or _local(ip):
            return Side()
        domain = ends.get("server.name") if prefix == "dst" else None
        return Side(ip, ends.get(f"{prefix}.port"), None, domain)  # the router's MAC says nothing: left out


def _local(ip: str) -> bool:
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return True  # unreadable: treat as the household's, and leave it out
    return address.is_private or address.is_link_local or address.is_multicast or address.is_loopback


def _transport(finding: Finding) -> str | None:
    proto = finding.endpoints.get("proto")
    return str(proto) if proto in ("tcp", "udp", "icmp", "icmpv6") else None
