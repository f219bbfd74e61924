"""Multicast DNS (UDP 5353): the names and services devices announce. A device's
mDNS host name names it in the inventory."""

from __future__ import annotations

from homeguard.decode.dns import RTYPE_A, RTYPE_AAAA, RTYPE_PTR, RTYPE_SRV, DnsMessage, parse_dns
from homeguard.decode.packet import Packet
from homeguard.events import Event
from homeguard.events.builders import packet_event, set_if
from homeguard.events.catalog import field
from homeguard.protocols.spec import PacketContext, ProtocolSpec

PORT_MDNS = 5353
DNS_HEADER = 12
QR_RESPONSE = 0x80  # in the header's third byte: the message answers

EVENT_TYPES = {
    "mdns": "A multicast DNS message (port 5353): names and services devices announce.",
}
FIELDS = (
    field("mdns.is_response", "bool", "mdns", "False for a query, true for an announcement or answer."),
    field("mdns.queries", "list[text]", "mdns", "Names asked for."),
    field("mdns.hostnames", "list[text]", "mdns", "Host names (.local) the sender announces addresses for."),
    field(
        "mdns.services",
        "list[text]",
        "mdns",
        "Service instances announced, such as 'Living Room._googlecast._tcp.local'.",
    ),
)


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


def on_mdns(ctx: PacketContext, ts: float, pkt: Packet) -> None:
    payload = pkt.payload()
    wanted = ctx.wants("mdns")
    if not wanted and len(payload) >= DNS_HEADER and not payload[2] & QR_RESPONSE:
        return  # a question names no device: with no mdns event wanted, it is not read
    msg = parse_dns(payload)
    if msg.is_response:
        hostnames = mdns_hostnames(msg)
        if hostnames:
            ctx.devices.update(pkt.src_mac, mdns_name=hostnames[0])
            ctx.announce_held(pkt.src_mac)
    if wanted:
        ctx.emit(mdns_event(ts, pkt, msg), pkt.src_mac)


SPEC = ProtocolSpec(
    "mdns",
    "Multicast DNS announcements",
    EVENT_TYPES,
    FIELDS,
    udp_ports=(PORT_MDNS,),
    on_packet=on_mdns,
    priority=20,
)
