"""The field catalog: every event type and every field an event can carry, declared once.

Rules match on these names and `--events` writes them, so they are a public interface:
rename nothing without a migration note. docs/fields.md is generated from this module
(`homeguard fields --markdown`), and a test fails when an emitted field is missing here.
"""

from __future__ import annotations

from dataclasses import dataclass

COMMON = "common"


@dataclass(frozen=True, slots=True)
class FieldSpec:
    name: str
    kind: str  # str, int, float, bool, ip, mac, list[str], list[int]
    event_types: tuple[str, ...]
    help: str


EVENT_TYPES: dict[str, str] = {
    "arp": "An ARP request or reply: who has an address, and which MAC answers for it.",
    "dhcp": "A DHCPv4 message: a device asking for an address, or a server handing one out.",
    "dns": "A DNS query or response on port 53 (UDP or TCP).",
    "mdns": "A multicast DNS message (port 5353): names and services devices announce.",
    "ssdp": "An SSDP message (UPnP discovery, port 1900): what a device says it is.",
    "flow_start": "The first packet of a new connection (TCP, UDP, ICMP or other IP).",
    "flow_end": "A connection ended (FIN, RST, idle, evicted or shutdown), with its totals.",
    "device_new": "A MAC address HomeGuard has not seen before sent its first packet.",
}

_ALL = tuple(EVENT_TYPES)
_IP = ("dns", "dhcp", "mdns", "ssdp", "flow_start", "flow_end")
_FLOW = ("flow_start", "flow_end")


def _f(name: str, kind: str, types: tuple[str, ...] | str, help_text: str) -> FieldSpec:
    return FieldSpec(name, kind, (types,) if isinstance(types, str) else types, help_text)


FIELDS: tuple[FieldSpec, ...] = (
    _f("ts", "float", _ALL, "When the packet was captured, in seconds since 1970 (UTC)."),
    _f("type", "str", _ALL, "The event type, one of the types above."),
    _f("src.mac", "mac", _ALL, "Sender's MAC address, when the link layer has one."),
    _f("dst.mac", "mac", _ALL, "Receiver's MAC address, when the link layer has one."),
    _f("vlan", "int", _ALL, "The 802.1Q VLAN id of the frame, when tagged."),
    _f("src.ip", "ip", _IP, "Sender's IP address (IPv4 or IPv6)."),
    _f("dst.ip", "ip", _IP, "Receiver's IP address."),
    _f("src.port", "int", _IP, "Sender's TCP or UDP port (ICMP: the type)."),
    _f("dst.port", "int", _IP, "Receiver's TCP or UDP port (ICMP: the code)."),
    _f("proto", "str", _IP, "Transport protocol: tcp, udp, icmp, icmp6, or the IP protocol number."),
    _f("capture.file", "str", _ALL, "Replay only: the capture file the packet came from."),
    _f("capture.frame", "int", _ALL, "Replay only: the frame number in that file, from 1, as in Wireshark."),
    _f("device.mac", "mac", _ALL, "The household device the event is about: the sender's MAC."),
    _f("device.vendor", "str", _ALL, "That device's maker, from the IEEE OUI table."),
    _f("device.name", "str", _ALL, "That device's name, from DHCP or mDNS, when known."),
    _f("device.randomized", "bool", _ALL, "True when the device uses a randomised (private) MAC."),
    _f("arp.op", "str", "arp", "request, reply, rarp-request or rarp-reply."),
    _f("arp.sender_mac", "mac", "arp", "The MAC the sender claims as its own."),
    _f("arp.sender_ip", "ip", "arp", "The IPv4 address the sender claims as its own."),
    _f("arp.target_mac", "mac", "arp", "The target's MAC (zero in requests)."),
    _f("arp.target_ip", "ip", "arp", "The IPv4 address asked about."),
    _f("dhcp.message_type", "str", "dhcp", "discover, offer, request, decline, ack, nak, release or inform."),
    _f("dhcp.client_mac", "mac", "dhcp", "The client's hardware address (chaddr)."),
    _f("dhcp.hostname", "str", "dhcp", "The host name the client sent (option 12)."),
    _f("dhcp.requested_ip", "ip", "dhcp", "The address the client asks for (option 50)."),
    _f("dhcp.client_ip", "ip", "dhcp", "The address the client already has (ciaddr), if any."),
    _f("dhcp.offered_ip", "ip", "dhcp", "The address the server offers or acknowledges (yiaddr)."),
    _f("dhcp.server_id", "ip", "dhcp", "The DHCP server's identifier (option 54)."),
    _f(
        "dhcp.param_request_list",
        "list[int]",
        "dhcp",
        "Option codes the client asks for (option 55): a fingerprint of its OS.",
    ),
    _f(
        "dhcp.vendor_class",
        "str",
        "dhcp",
        "The client's vendor class (option 60), such as 'MSFT 5.0' or 'android-dhcp-13'.",
    ),
    _f("dhcp.lease_time", "int", "dhcp", "Lease time in seconds (option 51)."),
    _f("dhcp.routers", "list[str]", "dhcp", "Default gateways the server hands out (option 3)."),
    _f("dhcp.dns_servers", "list[str]", "dhcp", "DNS servers the server hands out (option 6)."),
    _f("dns.id", "int", "dns", "The DNS transaction id."),
    _f("dns.is_response", "bool", "dns", "False for a query, true for a response."),
    _f("dns.query", "str", "dns", "The name asked for (the first question)."),
    _f("dns.qtype", "str", "dns", "The record type asked for: A, AAAA, HTTPS, TXT, or TYPEnnn."),
    _f("dns.rcode", "str", "dns", "Responses: NOERROR, NXDOMAIN, SERVFAIL, REFUSED, or RCODEnn."),
    _f("dns.answers", "list[str]", "dns", "Responses: the answer records' data (addresses, names, text)."),
    _f("dns.answer_ips", "list[str]", "dns", "Responses: only the A and AAAA addresses among the answers."),
    _f(
        "dns.glue_ips",
        "list[str]",
        "dns",
        "Responses: A and AAAA addresses in the authority and additional sections (name-server glue).",
    ),
    _f("dns.ttl", "int", "dns", "Responses: the smallest TTL among the answers."),
    _f("dns.transport", "str", "dns", "udp or tcp."),
    _f("mdns.is_response", "bool", "mdns", "False for a query, true for an announcement or answer."),
    _f("mdns.queries", "list[str]", "mdns", "Names asked for."),
    _f("mdns.hostnames", "list[str]", "mdns", "Host names (.local) the sender announces addresses for."),
    _f(
        "mdns.services",
        "list[str]",
        "mdns",
        "Service instances announced, such as 'Living Room._googlecast._tcp.local'.",
    ),
    _f("ssdp.method", "str", "ssdp", "NOTIFY, M-SEARCH or RESPONSE."),
    _f("ssdp.server", "str", "ssdp", "The SERVER header: the device's OS, UPnP stack and product."),
    _f("ssdp.location", "str", "ssdp", "The LOCATION header: the URL of the device description."),
    _f("ssdp.usn", "str", "ssdp", "The USN header: the device's unique service name."),
    _f("ssdp.nt", "str", "ssdp", "NOTIFY: the notification type."),
    _f("ssdp.st", "str", "ssdp", "M-SEARCH and responses: the search target."),
    _f("ssdp.user_agent", "str", "ssdp", "M-SEARCH: the USER-AGENT header."),
    _f(
        "flow.server_name",
        "str",
        _FLOW,
        "The name the client looked up for the server's address, learned from DNS.",
    ),
    _f("flow.duration", "float", "flow_end", "Seconds from the first to the last packet."),
    _f("flow.packets_out", "int", "flow_end", "Packets from the initiator (src) to the responder (dst)."),
    _f("flow.bytes_out", "int", "flow_end", "Bytes on the wire from the initiator to the responder."),
    _f("flow.packets_in", "int", "flow_end", "Packets from the responder back to the initiator."),
    _f("flow.bytes_in", "int", "flow_end", "Bytes on the wire from the responder back to the initiator."),
    _f(
        "flow.end_reason", "str", "flow_end", "fin, rst, idle, evicted (the flow table was full) or shutdown."
    ),
)

FIELD_NAMES: frozenset[str] = frozenset(f.name for f in FIELDS)


def catalog_markdown() -> str:
    """The catalog as the Markdown page docs/fields.md."""
    lines = [
        "# Event field catalog",
        "",
        "Generated by `homeguard fields --markdown` from `homeguard/events/catalog.py`.",
        "Rules match on these names; `homeguard replay --events` writes them.",
        "Fields without a value are left out of an event.",
        "",
        "## Event types",
        "",
        "| type | what it is |",
        "| --- | --- |",
    ]
    lines += [f"| `{name}` | {text} |" for name, text in EVENT_TYPES.items()]
    lines += ["", "## Fields", "", "| field | kind | in | what it is |", "| --- | --- | --- | --- |"]
    for spec in FIELDS:
        where = "all" if spec.event_types == _ALL else ", ".join(spec.event_types)
        lines.append(f"| `{spec.name}` | {spec.kind} | {where} | {spec.help} |")
    return "\n".join(lines) + "\n"
