"""Requests to open a port in the router: NAT-PMP and PCP on UDP 5351, read per packet.
UPnP's SOAP AddPortMapping arrives over HTTP and is read by the HTTP analyzer; both give
port_mapping events with these fields."""

from __future__ import annotations

from homeguard.decode.packet import Packet
from homeguard.decode.portmap import parse_nat_pmp_or_pcp
from homeguard.events.catalog import field
from homeguard.protocols.spec import PacketContext, ProtocolSpec
from homeguard.sessions.http import mapping_fields

PORT_NAT_PMP = 5351

EVENT_TYPES = {
    "port_mapping": "A request to open (or close) a port in the router: UPnP SOAP, NAT-PMP or PCP.",
}
FIELDS = (
    field("mapping.method", "str", "port_mapping", "upnp, nat-pmp or pcp."),
    field("mapping.action", "str", "port_mapping", "add or delete."),
    field("mapping.protocol", "str", "port_mapping", "tcp or udp."),
    field("mapping.external_port", "int", "port_mapping", "The port opened on the router's internet side."),
    field("mapping.internal_port", "int", "port_mapping", "The port it leads to inside."),
    field("mapping.internal_client", "str", "port_mapping", "The inside address it leads to (UPnP, PCP)."),
    field("mapping.lifetime", "int", "port_mapping", "How long, in seconds (0: until removed, for UPnP)."),
    field("mapping.description", "text", "port_mapping", "UPnP: the description the device gave."),
)


def on_nat_pmp(ctx: PacketContext, ts: float, pkt: Packet) -> None:
    mapping = parse_nat_pmp_or_pcp(pkt.payload())
    if mapping is not None:
        ctx.session_events(ts, pkt, [("port_mapping", mapping_fields(mapping))])


SPEC = ProtocolSpec(
    "port-mapping",
    "Port mappings asked of the router: NAT-PMP and PCP (UDP 5351), UPnP (over HTTP)",
    EVENT_TYPES,
    FIELDS,
    udp_dst_ports=(PORT_NAT_PMP,),
    on_packet=on_nat_pmp,
)
