"""SSDP (UDP 1900), UPnP's discovery: what a device says it is, and where its
description lives."""

from __future__ import annotations

from homeguard.decode.packet import Packet
from homeguard.decode.ssdp import SsdpMessage, parse_ssdp
from homeguard.events import Event
from homeguard.events.builders import packet_event, set_if
from homeguard.events.catalog import field
from homeguard.protocols.spec import PacketContext, ProtocolSpec

PORT_SSDP = 1900
HEADER_FIELDS = {
    "server": "ssdp.server",
    "location": "ssdp.location",
    "usn": "ssdp.usn",
    "nt": "ssdp.nt",
    "st": "ssdp.st",
    "user-agent": "ssdp.user_agent",
}

EVENT_TYPES = {
    "ssdp": "An SSDP message (UPnP discovery, port 1900): what a device says it is.",
}
FIELDS = (
    field("ssdp.method", "str", "ssdp", "NOTIFY, M-SEARCH or RESPONSE."),
    field("ssdp.server", "text", "ssdp", "The SERVER header: the device's OS, UPnP stack and product."),
    field("ssdp.location", "text", "ssdp", "The LOCATION header: the URL of the device description."),
    field("ssdp.usn", "text", "ssdp", "The USN header: the device's unique service name."),
    field("ssdp.nt", "text", "ssdp", "NOTIFY: the notification type."),
    field("ssdp.st", "text", "ssdp", "M-SEARCH and responses: the search target."),
    field("ssdp.user_agent", "text", "ssdp", "M-SEARCH: the USER-AGENT header."),
)


def ssdp_event(ts: float, pkt: Packet, msg: SsdpMessage) -> Event:
    event = packet_event("ssdp", ts, pkt)
    event["ssdp.method"] = msg.method
    for header, name in HEADER_FIELDS.items():
        set_if(event, name, msg.headers.get(header))
    return event


def on_ssdp(ctx: PacketContext, ts: float, pkt: Packet) -> None:
    msg = parse_ssdp(pkt.payload())
    server = msg.headers.get("server")
    if server:
        ctx.devices.update(pkt.src_mac, ssdp_server=server)
    ctx.emit(ssdp_event(ts, pkt, msg), pkt.src_mac)


SPEC = ProtocolSpec(
    "ssdp",
    "UPnP discovery (SSDP)",
    EVENT_TYPES,
    FIELDS,
    udp_ports=(PORT_SSDP,),
    on_packet=on_ssdp,
    priority=40,
)
