"""The household's own network gear, and who claims which address.

Rules that spot rogue DHCP servers, rogue IPv6 routers, DNS bypass and ARP spoofing
need to know what is normal here. That comes from the config, or else is learned from
the first server that actually serves (the DHCP server whose ACK a device gets, the
first router to advertise). This module keeps that knowledge and writes it onto
events as plain fields (dhcp.server_known, ra.router_known, arp.owner_mac, ...),
so the rules themselves stay declarative.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from homeguard.decode.addresses import ip_text, is_local_ip, mac_text
from homeguard.decode.arp import ArpMessage
from homeguard.decode.dhcp import DhcpMessage
from homeguard.decode.ndp import RouterAdvertisement
from homeguard.events import Event

DHCP_ACK = 5
# An address whose owner spoke within this time still belongs to it: another MAC
# claiming it is a conflict, not a device that took over an old lease.
BINDING_FRESH = 600.0
MAX_BINDINGS = 4096


@dataclass(slots=True)
class Binding:
    mac: bytes
    last_seen: float


class Infrastructure:
    def __init__(
        self,
        resolvers: Iterable[str] = (),
        dhcp_servers: Iterable[str] = (),
        ipv6_routers: Iterable[str] = (),
        max_bindings: int = MAX_BINDINGS,
    ) -> None:
        self.resolvers: set[str] = set(resolvers)
        self.dhcp_servers: set[str] = set(dhcp_servers)
        self.ipv6_routers: set[str] = {mac.lower() for mac in ipv6_routers}
        self.gateways: set[str] = set()
        self.home_prefixes: set[bytes] = set()  # first 8 bytes of the IPv6 /64s routers hand out
        self.bindings: dict[bytes, Binding] = {}  # IPv4 address -> the MAC that claims it
        self.interceptor_mac: bytes | None = None  # this machine's, while it intercepts (opt-in)
        self.max_bindings = max_bindings
        # What was learned (not configured) since the last write: (kind, value). The
        # pipeline stores it, so a restart knows the household's gear at once and a rogue
        # server that happens to answer first after a restart is not taken for it.
        self.learned: list[tuple[str, str]] = []

    def known(self, kind: str) -> set[str]:
        """The set behind each kind of the infrastructure table."""
        return {
            "dhcp_server": self.dhcp_servers,
            "ipv6_router": self.ipv6_routers,
            "gateway": self.gateways,
            "resolver": self.resolvers,
        }[kind]

    def restore(self, rows: Iterable[tuple[str, str]]) -> None:
        """What earlier runs learned (kind, value), from the infrastructure table."""
        for kind, value in rows:
            self.known(kind).add(value)

    def _learn(self, kind: str, values: Iterable[str]) -> None:
        known = self.known(kind)
        for value in values:
            if value not in known:
                known.add(value)
                self.learned.append((kind, value))

    def dns_query(self, event: Event) -> None:
        if self.resolvers:
            event["dns.resolver_known"] = event.get("dst.ip") in self.resolvers

    def dhcp(self, msg: DhcpMessage, event: Event, ts: float) -> None:
        if msg.op != 2:  # only servers answer with op 2
            return
        lease = (msg.client_mac, msg.your_ip) if msg.client_mac is not None and any(msg.your_ip) else None
        resolvers, routers = [ip_text(ip) for ip in msg.dns_servers], [ip_text(ip) for ip in msg.routers]
        self.server_reply(msg.message_type == DHCP_ACK, lease, resolvers, routers, event, ts)

    def server_reply(
        self,
        ack: bool,
        lease: tuple[bytes, bytes] | None,
        resolvers: list[str],
        routers: list[str],
        event: Event,
        ts: float,
    ) -> None:
        """A DHCP server's answer: its resolvers and routers, and with an ACK, the lease
        (client MAC, address). Capture workers' answers come here as events (pipeline/relay.py)."""
        server = event.get("dhcp.server_id") or event.get("src.ip")
        if not self.dhcp_servers and ack and server:
            self._learn("dhcp_server", [server])  # the one devices get leases from
        if self.dhcp_servers:
            known = server in self.dhcp_servers
            event["dhcp.server_known"] = known
            if not known:
                return  # a rogue server's routers and resolvers are not the household's
        self._learn("resolver", resolvers)
        self._learn("gateway", routers)
        if ack and lease is not None:
            # The household's server gave the address to this MAC: it owns it now, even if
            # the device before it left only minutes ago.
            self.bind(lease[1], lease[0], ts)

    def router_advertisement(self, ra: RouterAdvertisement, event: Event, sender_mac: bytes | None) -> None:
        mac = ra.source_mac or sender_mac
        if mac is None:
            return
        text = mac_text(mac)
        event["ra.router_mac"] = text
        if not self.ipv6_routers:
            self._learn("ipv6_router", [text])
        known = text in self.ipv6_routers
        event["ra.router_known"] = known
        if known:
            self.home_prefixes.update(prefix[:8] for prefix, length in ra.prefixes if length == 64)

    def is_home(self, ip: bytes) -> bool:
        """An address of a device in the household: private, link-local, or in a global
        IPv6 prefix the household's router advertises."""
        return is_local_ip(ip) or (len(ip) == 16 and ip[:8] in self.home_prefixes)

    def household_mac(
        self, src_ip: bytes, dst_ip: bytes, src_mac: bytes | None, dst_mac: bytes | None
    ) -> bytes | None:
        """Which side of a packet or flow is the household's device: the sender, unless
        only the receiver is at home (a server's answer from the internet arrives with
        the router's MAC as its sender)."""
        if dst_mac is not None and not self.is_home(src_ip) and self.is_home(dst_ip):
            return dst_mac
        return src_mac

    def arp(
        self, msg: ArpMessage, event: Event, ts: float, last_heard: Callable[[bytes], float | None]
    ) -> None:
        """Note which MAC owns the sender address. Another MAC claiming it while its
        owner is still active is what ARP spoofing (or an address conflict) looks like:
        the claim gets arp.owner_mac, and the owner keeps the address, so its own
        answers are never the ones blamed."""
        self.claim(msg.sender_ip, msg.sender_mac, event, ts, last_heard)

    def claim(
        self,
        ip: bytes | None,
        mac: bytes | None,
        event: Event,
        ts: float,
        last_heard: Callable[[bytes], float | None],
    ) -> None:
        """An ARP sender's claim on an address (see arp)."""
        if ip is None or mac is None or not any(ip) or mac == self.interceptor_mac:
            return  # HomeGuard's own interception replies neither bind an address nor spoof
        if ip_text(ip) in self.gateways:
            event["arp.gateway"] = True
        owner = self.bindings.get(ip)
        if owner is None:
            self.bind(ip, mac, ts)
        elif owner.mac == mac or ts - max(owner.last_seen, last_heard(owner.mac) or 0.0) > BINDING_FRESH:
            owner.mac, owner.last_seen = mac, ts  # the owner, or a new one after a quiet spell
        else:
            event["arp.owner_mac"] = mac_text(owner.mac)

    def bind(self, ip: bytes, mac: bytes, ts: float) -> None:
        if ip not in self.bindings and len(self.bindings) >= self.max_bindings:
            stalest = min(self.bindings, key=lambda k: self.bindings[k].last_seen)
            del self.bindings[stalest]
        self.bindings[ip] = Binding(mac, ts)
