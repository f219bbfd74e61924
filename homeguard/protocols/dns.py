"""DNS on port 53, over UDP and over TCP (read from the reassembled stream). Answers
teach the server names of addresses (state/names.py); lookups go to the DNS log."""

from __future__ import annotations

from typing import Any

from homeguard.decode.dns import (
    PORT_DNS,
    RTYPE_A,
    RTYPE_AAAA,
    RTYPE_CNAME,
    DnsMessage,
    parse_dns,
    rcode_name,
    rtype_name,
)
from homeguard.decode.packet import Packet
from homeguard.events import Event
from homeguard.events.builders import packet_event
from homeguard.events.catalog import field
from homeguard.protocols.spec import PacketContext, ProtocolSpec, StreamSpec
from homeguard.sessions.dnstcp import DNS_MESSAGE, DnsTcp
from homeguard.state.names import cname_chain

EVENT_TYPES = {
    "dns": "A DNS query or response on port 53 (UDP or TCP).",
}
FIELDS = (
    field("dns.id", "int", "dns", "The DNS transaction id."),
    field("dns.is_response", "bool", "dns", "False for a query, true for a response."),
    field("dns.query", "text", "dns", "The name asked for (the first question)."),
    field("dns.qtype", "str", "dns", "The record type asked for: A, AAAA, HTTPS, TXT, or TYPEnnn."),
    field("dns.rcode", "str", "dns", "Responses: NOERROR, NXDOMAIN, SERVFAIL, REFUSED, or RCODEnn."),
    field(
        "dns.answers", "list[text]", "dns", "Responses: the answer records' data (addresses, names, text)."
    ),
    field(
        "dns.answer_ips", "list[str]", "dns", "Responses: only the A and AAAA addresses among the answers."
    ),
    field(
        "dns.glue_ips",
        "list[str]",
        "dns",
        "Responses: A and AAAA addresses in the authority and additional sections (name-server glue).",
    ),
    field(
        "dns.resolver_known",
        "bool",
        "dns",
        "Queries: true when sent to a household resolver (from the config or DHCP), false when sent elsewhere; absent while none is known.",
    ),
    field("dns.ttl", "int", "dns", "Responses: the smallest TTL among the answers."),
    field(
        "dns.transport",
        "str",
        "dns",
        "udp or tcp; log for a lookup read from the resolver's log (dns_log_files).",
    ),
)


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


def on_message(ctx: PacketContext, ts: float, pkt: Packet, msg: DnsMessage, transport: str) -> None:
    if msg.is_response and msg.questions:
        asked = msg.questions[0][0]
        targets = {r.name.lower(): r.value.lower() for r in msg.answers if r.rtype == RTYPE_CNAME and r.value}
        cnames = cname_chain(asked, targets) if targets else ()
        for record in msg.answers:
            if record.address is not None:
                ctx.server_names.learn(record.address, asked, cnames)
    event = dns_event(ts, pkt, msg, transport)
    if not msg.is_response:
        ctx.infrastructure.dns_query(event)
    # A response is about the device that asked, not the resolver that answers.
    client = pkt.dst_mac if msg.is_response else pkt.src_mac
    ctx.emit(event, client)
    if ctx.writer is not None and client not in ctx.metadata_only:  # not even pending
        for row in ctx.dns_log.record(event):
            ctx.writer.insert("dns_log", row)


def on_udp(ctx: PacketContext, ts: float, pkt: Packet) -> None:
    on_message(ctx, ts, pkt, parse_dns(pkt.payload()), "udp")


def on_tcp_message(ctx: PacketContext, ts: float, pkt: Packet, msg: Any) -> None:
    """A whole message from the DNS-over-TCP stream analyzer: handled as any DNS message."""
    on_message(ctx, ts, pkt, msg, "tcp")


SPEC = ProtocolSpec(
    "dns",
    "DNS queries and answers on port 53, UDP and TCP",
    EVENT_TYPES,
    FIELDS,
    udp_ports=(PORT_DNS,),
    on_packet=on_udp,
    stream=StreamSpec(lambda _defaults: DnsTcp(), ports=(PORT_DNS,), owns_ports=True),
    messages={DNS_MESSAGE: on_tcp_message},
    priority=10,
)
