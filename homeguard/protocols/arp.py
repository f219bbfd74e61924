"""ARP (ethertype 0x0806): who has an address, and which MAC answers for it. Feeds the
device inventory's addresses and the gateway-spoofing facts (state/infrastructure.py)."""

from __future__ import annotations

from homeguard.decode.addresses import ip_text, mac_text
from homeguard.decode.arp import ARP_OPS, ArpMessage, parse_arp
from homeguard.decode.link import ETH_ARP
from homeguard.decode.packet import Packet
from homeguard.events import Event
from homeguard.events.builders import packet_event
from homeguard.events.catalog import field
from homeguard.protocols.spec import PacketContext, ProtocolSpec

EVENT_TYPES = {
    "arp": "An ARP request or reply: who has an address, and which MAC answers for it.",
}
FIELDS = (
    field("arp.op", "str", "arp", "request, reply, rarp-request or rarp-reply."),
    field("arp.sender_mac", "mac", "arp", "The MAC the sender claims as its own."),
    field("arp.sender_ip", "ip", "arp", "The IPv4 address the sender claims as its own."),
    field("arp.target_mac", "mac", "arp", "The target's MAC (zero in requests)."),
    field("arp.target_ip", "ip", "arp", "The IPv4 address asked about."),
    field(
        "arp.owner_mac",
        "mac",
        "arp",
        "Present when another MAC owns the sender's IP and was active in the last 10 minutes: that owner (ARP spoofing or an address conflict).",
    ),
    field(
        "arp.gateway",
        "bool",
        "arp",
        "True when the sender's IP is a gateway the household's DHCP server hands out.",
    ),
)


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


def on_arp(ctx: PacketContext, ts: float, pkt: Packet) -> None:
    msg = parse_arp(pkt.data[pkt.l3_at :])
    if msg.sender_mac is not None and msg.sender_ip is not None and any(msg.sender_ip):
        ctx.devices.observe_ip(msg.sender_mac, msg.sender_ip, ts)
    event = arp_event(ts, pkt, msg)
    ctx.infrastructure.arp(msg, event, ts, ctx.devices.last_heard)
    ctx.emit(event, pkt.src_mac)


SPEC = ProtocolSpec(
    "arp", "ARP requests and replies", EVENT_TYPES, FIELDS, ethertypes=(ETH_ARP,), on_packet=on_arp
)
