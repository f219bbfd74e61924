"""The pipeline's handlers for what is not a flow: ARP, DHCP, DNS, mDNS, SSDP, IPv6
router advertisements, new devices, and the events the session readers found.

A mixin of Pipeline (pipeline.py), kept apart so that the hot path reads on its own;
it uses the pipeline's state, declared below, and its emit().
"""

from __future__ import annotations

from typing import Any

from homeguard.decode.arp import parse_arp
from homeguard.decode.dhcp import parse_dhcp
from homeguard.decode.dns import parse_dns
from homeguard.decode.ndp import parse_router_advertisement
from homeguard.decode.packet import Packet
from homeguard.decode.ssdp import parse_ssdp
from homeguard.events import Event, builders
from homeguard.sessions.dnstcp import DNS_MESSAGE
from homeguard.state.arrivals import Arrivals
from homeguard.state.devices import DeviceInventory
from homeguard.state.dnslog import DnsLog
from homeguard.state.infrastructure import Infrastructure
from homeguard.state.names import ServerNames
from homeguard.store.writer import BatchWriter


class MessageHandlers:
    devices: DeviceInventory
    infrastructure: Infrastructure
    arrivals: Arrivals
    server_names: ServerNames
    dns_log: DnsLog
    writer: BatchWriter | None
    metadata_only: frozenset[bytes]

    def emit(self, event: Event, device_mac: bytes | None) -> None:
        raise NotImplementedError  # Pipeline.emit

    def _session_events(self, ts: float, pkt: Packet, emitted: list[tuple[str, dict[str, Any]]]) -> None:
        for event_type, fields in emitted:
            if event_type == DNS_MESSAGE:  # DNS over TCP, whole again: handled as any DNS message
                self._dns(ts, pkt, [fields["message"]], "tcp")
                continue
            event = builders.packet_event(event_type, ts, pkt)
            event.update(fields)
            if event_type == "tls_certificate" and "tls.cert_not_after" in fields:
                event["tls.cert_expired"] = ts > fields["tls.cert_not_after"]
            assert pkt.src_ip is not None and pkt.dst_ip is not None
            self.emit(
                event, self.infrastructure.household_mac(pkt.src_ip, pkt.dst_ip, pkt.src_mac, pkt.dst_mac)
            )

    def _new_device(self, ts: float, pkt: Packet, mac: bytes) -> None:
        """Held until the device names itself (see state/arrivals.py)."""
        self.devices.add(mac, ts)
        event = builders.packet_event("device_new", ts, pkt)
        for name in ("dst.mac", "dst.ip", "dst.port", "src.port", "proto"):
            event.pop(name, None)
        self.arrivals.hold(mac, event)

    def _announce(self, mac: bytes, event: Event) -> None:
        dev = self.devices.by_mac.get(mac)
        if dev is not None:
            event["device.identity"] = dev.identity
            event["device.recognisable"] = dev.recognisable
        self.emit(event, mac)

    def _arp(self, ts: float, pkt: Packet) -> None:
        msg = parse_arp(pkt.data[pkt.l3_at :])
        if msg.sender_mac is not None and msg.sender_ip is not None and any(msg.sender_ip):
            self.devices.observe_ip(msg.sender_mac, msg.sender_ip, ts)
        event = builders.arp_event(ts, pkt, msg)
        self.infrastructure.arp(msg, event, ts, self.devices.last_heard)
        self.emit(event, pkt.src_mac)

    def _router_advertisement(self, ts: float, pkt: Packet) -> None:
        ra = parse_router_advertisement(pkt.data[pkt.payload_at : pkt.payload_end])
        event = builders.router_advertisement_event(ts, pkt, ra)
        self.infrastructure.router_advertisement(ra, event, pkt.src_mac)
        self.emit(event, pkt.src_mac)

    def _dns(self, ts: float, pkt: Packet, messages: list[Any], transport: str) -> None:
        for msg in messages:
            if msg.is_response and msg.questions:
                asked = msg.questions[0][0]
                for record in msg.answers:
                    if record.address is not None:
                        self.server_names.learn(record.address, asked)
            event = builders.dns_event(ts, pkt, msg, transport)
            if not msg.is_response:
                self.infrastructure.dns_query(event)
            # A response is about the device that asked, not the resolver that answers.
            client = pkt.dst_mac if msg.is_response else pkt.src_mac
            self.emit(event, client)
            if self.writer is not None and client not in self.metadata_only:  # not even pending
                for row in self.dns_log.record(event):
                    self.writer.insert("dns_log", row)

    def _mdns(self, ts: float, pkt: Packet) -> None:
        msg = parse_dns(pkt.payload())
        event = builders.mdns_event(ts, pkt, msg)
        if msg.is_response:
            hostnames = builders.mdns_hostnames(msg)
            if hostnames:
                self.devices.update(pkt.src_mac, mdns_name=hostnames[0])
                self._announce_held(pkt.src_mac)
        self.emit(event, pkt.src_mac)

    def _announce_held(self, mac: bytes | None) -> None:
        held = self.arrivals.take(mac)
        if held is not None and mac is not None:
            self._announce(mac, held)

    def _dhcp(self, ts: float, pkt: Packet) -> None:
        msg = parse_dhcp(pkt.payload())
        if msg.op == 1 and msg.client_mac is not None:  # a client speaks for itself
            fingerprint = ",".join(map(str, msg.param_request_list)) or None
            self.devices.update(
                msg.client_mac,
                hostname=msg.hostname,
                vendor_class=msg.vendor_class,
                dhcp_fingerprint=fingerprint,
            )
            self._announce_held(msg.client_mac)
        if msg.message_type == 5 and msg.client_mac is not None and any(msg.your_ip):
            self.devices.observe_ip(msg.client_mac, msg.your_ip, ts)  # acked: now the client's
        event = builders.dhcp_event(ts, pkt, msg)
        self.infrastructure.dhcp(msg, event, ts)
        self.emit(event, pkt.src_mac)

    def _ssdp(self, ts: float, pkt: Packet) -> None:
        msg = parse_ssdp(pkt.payload())
        server = msg.headers.get("server")
        if server:
            self.devices.update(pkt.src_mac, ssdp_server=server)
        self.emit(builders.ssdp_event(ts, pkt, msg), pkt.src_mac)
