"""IPv6 router advertisements (ICMPv6 type 134): a router offering itself, its prefixes
and DNS servers. A second router is a rogue (state/infrastructure.py)."""

from __future__ import annotations

from homeguard.decode.addresses import ip_text
from homeguard.decode.ndp import ICMPV6_ROUTER_ADVERTISEMENT, RouterAdvertisement, parse_router_advertisement
from homeguard.decode.packet import Packet
from homeguard.events import Event
from homeguard.events.builders import packet_event, set_if
from homeguard.events.catalog import field
from homeguard.protocols.spec import PacketContext, ProtocolSpec

EVENT_TYPES = {
    "router_advertisement": "An IPv6 router advertisement: a router offering itself, its prefixes and DNS servers.",
}
FIELDS = (
    field("ra.router_mac", "mac", "router_advertisement", "The advertising router's MAC."),
    field(
        "ra.router_known",
        "bool",
        "router_advertisement",
        "True for the household's IPv6 router (the ipv6_routers setting, else the first to advertise).",
    ),
    field(
        "ra.router_lifetime",
        "int",
        "router_advertisement",
        "Seconds the router offers to be the default (0: not a default router).",
    ),
    field(
        "ra.prefixes",
        "list[str]",
        "router_advertisement",
        "Prefixes offered for addresses, such as 2001:db8:1::/64.",
    ),
    field("ra.dns_servers", "list[str]", "router_advertisement", "DNS servers offered (RDNSS)."),
)


def router_advertisement_event(ts: float, pkt: Packet, ra: RouterAdvertisement) -> Event:
    event = packet_event("router_advertisement", ts, pkt)
    event["ra.router_lifetime"] = ra.router_lifetime
    set_if(event, "ra.prefixes", [f"{ip_text(prefix)}/{length}" for prefix, length in ra.prefixes])
    set_if(event, "ra.dns_servers", [ip_text(ip) for ip in ra.dns_servers])
    return event


def on_router_advertisement(ctx: PacketContext, ts: float, pkt: Packet) -> None:
    ra = parse_router_advertisement(pkt.data[pkt.payload_at : pkt.payload_end])
    event = router_advertisement_event(ts, pkt, ra)
    ctx.infrastructure.router_advertisement(ra, event, pkt.src_mac)
    ctx.emit(event, pkt.src_mac)


SPEC = ProtocolSpec(
    "router-advertisement",
    "IPv6 router advertisements",
    EVENT_TYPES,
    FIELDS,
    icmpv6_types=(ICMPV6_ROUTER_ADVERTISEMENT,),
    on_packet=on_router_advertisement,
)
