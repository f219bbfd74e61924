"""DHCPv4 (UDP 67/68): a device asking for an address, and naming itself while it does;
a server handing one out. Rogue servers are told apart in state/infrastructure.py."""

from __future__ import annotations

from homeguard.decode.addresses import ip_text, mac_text
from homeguard.decode.dhcp import MESSAGE_TYPES, DhcpMessage, parse_dhcp
from homeguard.decode.packet import Packet
from homeguard.events import Event
from homeguard.events.builders import packet_event, set_if
from homeguard.events.catalog import field
from homeguard.protocols.spec import PacketContext, ProtocolSpec

PORTS = (67, 68)  # server, client
DHCPACK = 5

EVENT_TYPES = {
    "dhcp": "A DHCPv4 message: a device asking for an address, or a server handing one out.",
}
FIELDS = (
    field(
        "dhcp.message_type", "str", "dhcp", "discover, offer, request, decline, ack, nak, release or inform."
    ),
    field("dhcp.client_mac", "mac", "dhcp", "The client's hardware address (chaddr)."),
    field("dhcp.hostname", "text", "dhcp", "The host name the client sent (option 12)."),
    field("dhcp.requested_ip", "ip", "dhcp", "The address the client asks for (option 50)."),
    field("dhcp.client_ip", "ip", "dhcp", "The address the client already has (ciaddr), if any."),
    field("dhcp.offered_ip", "ip", "dhcp", "The address the server offers or acknowledges (yiaddr)."),
    field("dhcp.server_id", "ip", "dhcp", "The DHCP server's identifier (option 54)."),
    field(
        "dhcp.param_request_list",
        "list[int]",
        "dhcp",
        "Option codes the client asks for (option 55): a fingerprint of its OS.",
    ),
    field(
        "dhcp.vendor_class",
        "text",
        "dhcp",
        "The client's vendor class (option 60), such as 'MSFT 5.0' or 'android-dhcp-13'.",
    ),
    field("dhcp.lease_time", "int", "dhcp", "Lease time in seconds (option 51)."),
    field("dhcp.routers", "list[str]", "dhcp", "Default gateways the server hands out (option 3)."),
    field("dhcp.dns_servers", "list[str]", "dhcp", "DNS servers the server hands out (option 6)."),
    field(
        "dhcp.server_known",
        "bool",
        "dhcp",
        "Server messages: true from the household's DHCP server (the dhcp_servers setting, else the first server seen to acknowledge a lease), false from any other.",
    ),
)


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


def on_dhcp(ctx: PacketContext, ts: float, pkt: Packet) -> None:
    if pkt.sport not in PORTS or pkt.dport not in PORTS:
        return  # DHCP runs between these two ports only
    msg = parse_dhcp(pkt.payload())
    if msg.op == 1 and msg.client_mac is not None:  # a client speaks for itself
        fingerprint = ",".join(map(str, msg.param_request_list)) or None
        ctx.devices.update(
            msg.client_mac,
            hostname=msg.hostname,
            vendor_class=msg.vendor_class,
            dhcp_fingerprint=fingerprint,
        )
        ctx.announce_held(msg.client_mac)
    if msg.message_type == DHCPACK and msg.client_mac is not None and any(msg.your_ip):
        ctx.devices.observe_ip(msg.client_mac, msg.your_ip, ts)  # acked: now the client's
    event = dhcp_event(ts, pkt, msg)
    ctx.infrastructure.dhcp(msg, event, ts)
    ctx.emit(event, pkt.src_mac)


SPEC = ProtocolSpec(
    "dhcp",
    "DHCPv4 address requests and leases",
    EVENT_TYPES,
    FIELDS,
    udp_ports=PORTS,
    on_packet=on_dhcp,
    priority=30,
)
