"""The field catalog: every event type and every field an event can carry.

Rules match on these names and `--events` writes them, so they are a public interface:
rename nothing without a migration note. Each protocol module declares its own event
types and fields (homeguard/protocols/), the enricher its own (state/enrichment.py), and
a plugin may add more; the fields every event shares are declared here. The registry
gathers them all into one Catalog (`homeguard fields`, docs/fields.md, `rules check`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

# Markers for fields that events of many types carry, resolved against every type the
# catalog holds, so a plugin's new event type gets them too.
ALL_TYPES = ("*",)
PACKET_TYPES = ("*packet",)  # every type but capture_stats and mac_flood
IP_TYPES = ("*ip",)  # every type from an IP packet: not arp, device_new, capture_stats or mac_flood
NOT_PACKET = frozenset({"capture_stats", "mac_flood"})
NOT_IP = frozenset({"arp", "device_new", "capture_stats", "mac_flood", "data_first"})
FLOW_TYPES = ("flow_start", "flow_established", "flow_end")


@dataclass(frozen=True, slots=True)
class FieldSpec:
    name: str
    kind: str  # str, int, float, bool, ip, mac, list[str], list[int]
    event_types: tuple[str, ...]
    help: str


def field(name: str, kind: str, types: tuple[str, ...] | str, help_text: str) -> FieldSpec:
    return FieldSpec(name, kind, (types,) if isinstance(types, str) else types, help_text)


CORE_EVENT_TYPES: dict[str, str] = {
    "flow_start": "The first packet of a new connection (TCP, UDP, ICMP or other IP).",
    "flow_established": "The server accepted a TCP connection (its SYN-ACK, or data where the capture missed the handshake; never a reset): the protocol is really in use, not only tried as a scan does.",
    "flow_end": "A connection ended (FIN, RST, idle, evicted or shutdown), with its totals.",
    "device_new": "A MAC address HomeGuard has not seen before sent its first packet.",
    "auth": "A login seen in clear text (FTP, POP3, IMAP, SMTP, telnet, HTTP, SNMP, MQTT). Never the password.",
    "banner": "A server's (or SSH client's) greeting: FTP, SMTP, POP3, IMAP and SSH software versions.",
    "capture_stats": "HomeGuard's own capture counters, every stats_interval: packets seen and dropped.",
    "mac_flood": "A flood of made-up device addresses started or ended (docs/storage.md, Memory).",
    "data_first": "A device sent data to an organisation, or to servers in a country, for the first time in the data ledger (docs/report.md).",
}

CORE_FIELDS: tuple[FieldSpec, ...] = (
    field("ts", "float", ALL_TYPES, "When the packet was captured, in seconds since 1970 (UTC)."),
    field("type", "str", ALL_TYPES, "The event type, one of the types above."),
    field("src.mac", "mac", PACKET_TYPES, "Sender's MAC address, when the link layer has one."),
    field("dst.mac", "mac", PACKET_TYPES, "Receiver's MAC address, when the link layer has one."),
    field("vlan", "int", PACKET_TYPES, "The 802.1Q VLAN id of the frame, when tagged."),
    field("src.ip", "ip", IP_TYPES, "Sender's IP address (IPv4 or IPv6)."),
    field("dst.ip", "ip", IP_TYPES, "Receiver's IP address."),
    field("src.port", "int", IP_TYPES, "Sender's TCP or UDP port (ICMP: the type)."),
    field("dst.port", "int", IP_TYPES, "Receiver's TCP or UDP port (ICMP: the code)."),
    field("proto", "str", IP_TYPES, "Transport protocol: tcp, udp, icmp, icmp6, or the IP protocol number."),
    field("capture.file", "str", ALL_TYPES, "Replay only: the capture file the packet came from."),
    field(
        "capture.frame",
        "int",
        ALL_TYPES,
        "Replay only: the frame number in that file, from 1, as in Wireshark.",
    ),
    field(
        "device.mac",
        "mac",
        PACKET_TYPES,
        "The household device the event is about: the sender's MAC; for a DNS response the device that asked, for a server's answer from the internet the device at home.",
    ),
    field("device.vendor", "str", PACKET_TYPES, "That device's maker, from the IEEE OUI table."),
    field("device.name", "text", PACKET_TYPES, "That device's name, from DHCP or mDNS, when known."),
    field("device.randomized", "bool", PACKET_TYPES, "True when the device uses a randomised (private) MAC."),
    field(
        "device.identity",
        "str",
        "device_new",
        "What the device is recognised by: its MAC; for a randomised MAC its DHCP host name and fingerprint (dhcp:NAME|55-list) or mDNS name (mdns:NAME), when it gave one.",
    ),
    field(
        "device.recognisable",
        "bool",
        "device_new",
        "False for a randomised (private) MAC that gave no name to recognise it by on its next visit.",
    ),
    field("capture.source", "str", "capture_stats", "The interface or file captured from."),
    field("capture.packets", "int", "capture_stats", "Packets received since the last capture_stats event."),
    field(
        "capture.drops",
        "int",
        "capture_stats",
        "Packets the kernel dropped in that time (its buffer was full).",
    ),
    field("capture.drop_ratio", "float", "capture_stats", "drops / (packets + drops), from 0 to 1."),
    field(
        "capture.visibility",
        "str",
        "capture_stats",
        "What HomeGuard sees, from its flows since the start (state/visibility.py): sees_all, one_way, broadcast_only or nothing.",
    ),
    field(
        "data.first", "str", "data_first", "What is new: organisation (org.name) or country (server.country)."
    ),
    field("flood.state", "str", "mac_flood", "started or ended."),
    field(
        "flood.new_macs", "int", "mac_flood", "At the start: the new MAC addresses seen within flood.window."
    ),
    field("flood.window", "int", "mac_flood", "The seconds in which flood.new_macs were counted."),
    field(
        "flood.skipped_packets", "int", "mac_flood", "Packets from unknown MACs skipped in this flood so far."
    ),
    field("flood.seconds", "int", "mac_flood", "At the end: how long the flood lasted."),
    field(
        "store.problem",
        "str",
        "capture_stats",
        "Why the database cannot be written: full, locked, damaged, read-only or failing; empty when it can.",
    ),
    field(
        "store.down_for",
        "int",
        "capture_stats",
        "Seconds since the database could last be written (0: it can).",
    ),
    field("store.held", "int", "capture_stats", "Records waiting in memory for the database."),
    field(
        "capture.source_problem",
        "str",
        "capture_stats",
        "What is wrong with the sources besides the capture interface (flow export, a resolver's or "
        "Suricata's log), such as 'the file /var/log/dnsmasq.log has been missing for 10 minutes'; "
        "empty when they work.",
    ),
    field("auth.protocol", "str", "auth", "ftp, pop3, imap, smtp, telnet, http, snmp or mqtt."),
    field(
        "auth.method",
        "str",
        "auth",
        "How: USER/PASS, APOP, LOGIN, AUTH PLAIN, AUTH LOGIN, login prompt, Basic, Digest, form, community, CONNECT.",
    ),
    field("auth.username", "text", "auth", "The user name, where the protocol sends one."),
    field(
        "auth.password_seen",
        "bool",
        "auth",
        "True when a password (or SNMP community) crossed the network readable. The password itself is never kept.",
    ),
    field(
        "auth.default_credentials",
        "bool",
        "auth",
        "True when the login is a known factory default (compared in memory, then dropped).",
    ),
    field("banner.protocol", "str", "banner", "ftp, smtp, pop3, imap or ssh."),
    field("banner.text", "text", "banner", "The greeting line, as sent (at most 256 characters)."),
    field("banner.software", "text", "banner", "SSH: the software and version, such as OpenSSH_7.4."),
    field("banner.side", "str", "banner", "SSH: client or server."),
    field(
        "flow.direction",
        "str",
        FLOW_TYPES,
        "inbound (from the internet to a device at home), outbound, internal (within the home) or external. Home: private and link-local addresses, and the global IPv6 prefixes the household's router advertises.",
    ),
    field(
        "flow.handshake",
        "bool",
        FLOW_TYPES,
        "TCP: true when the connection's SYN or SYN-ACK was seen, so which side is the client is certain.",
    ),
    field(
        "flow.server_name",
        "text",
        FLOW_TYPES,
        "The server's name: at flow_start the name the client looked up for its address (DNS); at flow_end the TLS SNI or HTTP Host when the client sent one (see flow.name_source).",
    ),
    field("flow.duration", "float", "flow_end", "Seconds from the first to the last packet."),
    field("flow.packets_out", "int", "flow_end", "Packets from the initiator (src) to the responder (dst)."),
    field("flow.bytes_out", "int", "flow_end", "Bytes on the wire from the initiator to the responder."),
    field("flow.packets_in", "int", "flow_end", "Packets from the responder back to the initiator."),
    field("flow.bytes_in", "int", "flow_end", "Bytes on the wire from the responder back to the initiator."),
    field(
        "flow.end_reason",
        "str",
        "flow_end",
        "fin, rst, idle, evicted (the flow table was full), reopened (a new SYN on its ports) or shutdown.",
    ),
    field(
        "flow.name_source",
        "str",
        "flow_end",
        "Where flow.server_name came from: tls (the SNI the client sent), http (its Host header) or dns (the name it looked up for the address).",
    ),
    field(
        "flow.cnames",
        "list[text]",
        "flow_end",
        "The CNAME chain of the DNS answer that named the server, in order (www.bank.example → bank.eulerian.net).",
    ),
)


class Catalog:
    """Event types and fields, gathered from the core and every registered protocol,
    enricher and plugin. A field declared twice is an error that names both."""

    def __init__(self, event_types: Mapping[str, str], fields: Iterable[FieldSpec]) -> None:
        self.event_types = dict(event_types)
        self.fields: tuple[FieldSpec, ...] = tuple(self._resolved(fields))
        self.by_name = {spec.name: spec for spec in self.fields}
        if len(self.by_name) != len(self.fields):
            names = [spec.name for spec in self.fields]
            twice = sorted({name for name in names if names.count(name) > 1})
            raise ValueError(f"fields declared twice: {', '.join(twice)}")
        self.names: frozenset[str] = frozenset(self.by_name)

    def _resolved(self, fields: Iterable[FieldSpec]) -> Iterable[FieldSpec]:
        every = tuple(self.event_types)
        markers: dict[tuple[str, ...], tuple[str, ...]] = {
            ALL_TYPES: every,
            PACKET_TYPES: tuple(t for t in every if t not in NOT_PACKET),
            IP_TYPES: tuple(t for t in every if t not in NOT_IP),
        }
        for spec in fields:
            types = markers.get(spec.event_types)
            yield spec if types is None else FieldSpec(spec.name, spec.kind, types, spec.help)

    def markdown(self) -> str:
        """The catalog as the Markdown page docs/fields.md."""
        lines = [
            "# Event field catalog",
            "",
            "Generated by `homeguard fields --markdown`: the core fields (`homeguard/events/catalog.py`),",
            "each protocol's (`homeguard/protocols/`), the enricher's and any plugin's.",
            "Rules match on these names; `homeguard replay --events` writes them.",
            "Fields without a value are left out of an event.",
            "",
            "## Event types",
            "",
            "| type | what it is |",
            "| --- | --- |",
        ]
        lines += [f"| `{name}` | {text} |" for name, text in self.event_types.items()]
        lines += ["", "## Fields", "", "| field | kind | in | what it is |", "| --- | --- | --- | --- |"]
        every = tuple(self.event_types)
        packet = tuple(t for t in every if t not in NOT_PACKET)
        for spec in self.fields:
            where = {every: "all", packet: "all but capture_stats"}.get(spec.event_types) or ", ".join(
                spec.event_types
            )
            lines.append(f"| `{spec.name}` | {spec.kind} | {where} | {spec.help} |")
        return "\n".join(lines) + "\n"
