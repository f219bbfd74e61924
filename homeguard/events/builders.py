"""Turning decoded packets and messages into events with the catalog's field names."""

from __future__ import annotations

from collections.abc import Callable

from homeguard.decode.addresses import ip_text, is_group_ip, is_local_ip, mac_text
from homeguard.decode.arp import ARP_OPS, ArpMessage
from homeguard.decode.dhcp import MESSAGE_TYPES, DhcpMessage
from homeguard.decode.dns import RTYPE_A, RTYPE_AAAA, RTYPE_PTR, RTYPE_SRV, DnsMessage, rcode_name, rtype_name
from homeguard.decode.ndp import RouterAdvertisement
from homeguard.decode.packet import PROTO_NAMES, Packet
from homeguard.decode.ssdp import SsdpMessage
from homeguard.events import Event


def proto_name(proto: int) -> str:
    return PROTO_NAMES.get(proto) or str(proto)


def packet_event(event_type: str, ts: float, pkt: Packet) -> Event:
    """An event with the common fields of the packet it came from."""
    event: Event = {"ts": ts, "type": event_type}
    if pkt.src_mac is not None:
        event["src.mac"] = mac_text(pkt.src_mac)
    if pkt.dst_mac is not None:
        event["dst.mac"] = mac_text(pkt.dst_mac)
    if pkt.vlan is not None:
        event["vlan"] = pkt.vlan
    if pkt.src_ip is not None and pkt.dst_ip is not None:
        event["src.ip"] = ip_text(pkt.src_ip)
        event["dst.ip"] = ip_text(pkt.dst_ip)
        event["proto"] = proto_name(pkt.proto)
        if pkt.sport or pkt.dport:
            event["src.port"] = pkt.sport
            event["dst.port"] = pkt.dport
    return event


def set_if(event: Event, name: str, value: object) -> None:
    if value is not None and value != "" and value != []:
        event[name] = value


def arp_event(ts: float, pkt: Packet, msg: ArpMessage) -> Event:
    event = packet_event("arp", ts, pkt)
    event["arp.op"] = ARP_OPS.get(msg.op, str(msg.op))
    if msg.sender_mac is not None and msg.target_mac is not None:
        event["arp.sender_mac"] = mac_text(msg.sender_mac)
        event["arp.target_mac"] = mac_text(msg.target_mac)
    if msg.sender_ip is not None and msg.target_ip is not None:
        event["arp.sender_ip"] = ip_text(msg.sender_ip)
        event["arp.target_ip"] = ip_text(msg.target_ip)
    return event


def dhcp_event(ts: float, pkt: Packet, msg: DhcpMessage) -> Event:
    event = packet_event("dhcp", ts, pkt)
    if msg.message_type is not None:
        event["dhcp.message_type"] = MESSAGE_TYPES.get(msg.message_type, str(msg.message_type))
    if msg.client_mac is not None:
        event["dhcp.client_mac"] = mac_text(msg.client_mac)
    set_if(event, "dhcp.hostname", msg.hostname)
    if msg.requested_ip is not None:
        event["dhcp.requested_ip"] = ip_text(msg.requested_ip)
    if any(msg.client_ip):
        event["dhcp.client_ip"] = ip_text(msg.client_ip)
    if any(msg.your_ip):
        event["dhcp.offered_ip"] = ip_text(msg.your_ip)
    if msg.server_id is not None:
        event["dhcp.server_id"] = ip_text(msg.server_id)
    set_if(event, "dhcp.param_request_list", msg.param_request_list)
    set_if(event, "dhcp.vendor_class", msg.vendor_class)
    set_if(event, "dhcp.lease_time", msg.lease_time)
    set_if(event, "dhcp.routers", [ip_text(ip) for ip in msg.routers])
    set_if(event, "dhcp.dns_servers", [ip_text(ip) for ip in msg.dns_servers])
    return event


def dns_event(ts: float, pkt: Packet, msg: DnsMessage, transport: str) -> Event:
    event = packet_event("dns", ts, pkt)
    event["dns.id"] = msg.id
    event["dns.is_response"] = msg.is_response
    event["dns.transport"] = transport
    if msg.questions:
        name, qtype = msg.questions[0]
        event["dns.query"] = name
        event["dns.qtype"] = rtype_name(qtype)
    if msg.is_response:
        event["dns.rcode"] = rcode_name(msg.rcode)
        answers = [a.value for a in msg.answers if a.value is not None]
        event["dns.answers"] = answers
        event["dns.answer_ips"] = [
            a.value for a in msg.answers if a.rtype in (RTYPE_A, RTYPE_AAAA) and a.value
        ]
        glue = [
            r.value for r in msg.authority + msg.additional if r.rtype in (RTYPE_A, RTYPE_AAAA) and r.value
        ]
        if glue:
            event["dns.glue_ips"] = glue
        if msg.answers:
            event["dns.ttl"] = min(a.ttl for a in msg.answers)
    return event


def mdns_hostnames(msg: DnsMessage) -> list[str]:
    """Names the sender announces addresses for: its own host name(s)."""
    names = []
    for record in (*msg.answers, *msg.additional):
        if record.rtype in (RTYPE_A, RTYPE_AAAA) and record.name not in names:
            names.append(record.name)
    return names


def mdns_event(ts: float, pkt: Packet, msg: DnsMessage) -> Event:
    event = packet_event("mdns", ts, pkt)
    event["mdns.is_response"] = msg.is_response
    set_if(event, "mdns.queries", sorted({name for name, _ in msg.questions}))
    set_if(event, "mdns.hostnames", mdns_hostnames(msg))
    services = []
    for record in (*msg.answers, *msg.additional):
        if record.rtype == RTYPE_PTR and record.value and "._" in record.value:
            services.append(record.value)
        elif record.rtype == RTYPE_SRV:
            services.append(record.name)
    set_if(event, "mdns.services", sorted(set(services)))
    return event


SSDP_FIELDS = {
    "server": "ssdp.server",
    "location": "ssdp.location",
    "usn": "ssdp.usn",
    "nt": "ssdp.nt",
    "st": "ssdp.st",
    "user-agent": "ssdp.user_agent",
}


def ssdp_event(ts: float, pkt: Packet, msg: SsdpMessage) -> Event:
    event = packet_event("ssdp", ts, pkt)
    event["ssdp.method"] = msg.method
    for header, name in SSDP_FIELDS.items():
        set_if(event, name, msg.headers.get(header))
    return event


def flow_direction(src: bytes, dst: bytes, is_home: Callable[[bytes], bool] = is_local_ip) -> str:
    """inbound (from the internet to a device at home), outbound, internal or external.
    Multicast and broadcast stay inside the home. `is_home` may know the household's
    global IPv6 prefixes too (state/infrastructure.py)."""
    src_home, dst_home = is_home(src), is_home(dst) or is_group_ip(dst)
    if src_home:
        return "internal" if dst_home else "outbound"
    return "inbound" if dst_home else "external"


def router_advertisement_event(ts: float, pkt: Packet, ra: RouterAdvertisement) -> Event:
    event = packet_event("router_advertisement", ts, pkt)
    event["ra.router_lifetime"] = ra.router_lifetime
    set_if(event, "ra.prefixes", [f"{ip_text(prefix)}/{length}" for prefix, length in ra.prefixes])
    set_if(event, "ra.dns_servers", [ip_text(ip) for ip in ra.dns_servers])
    return event
