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
    "auth": "A login seen in clear text (FTP, POP3, IMAP, SMTP, telnet, HTTP, SNMP, MQTT). Never the password.",
    "banner": "A server's (or SSH client's) greeting: FTP, SMTP, POP3, IMAP and SSH software versions.",
    "ftp": "An FTP command from the client (the PASS argument is left out).",
    "pop3": "A POP3 command from the client (the PASS argument is left out).",
    "imap": "An IMAP command from the client (LOGIN passwords are replaced by <redacted>).",
    "smtp": "An SMTP command from the client (AUTH data is left out; message bodies are not read).",
    "http": "An HTTP/1.x request or response head, on any port.",
    "pii": "Personal data in clear text in an HTTP request: only its kind and a redacted sample.",
    "tls_client_hello": "A TLS ClientHello, on any port: server name, versions, fingerprints.",
    "tls_server_hello": "A TLS ServerHello: the version and cipher the server chose.",
    "tls_certificate": "The server's certificate, where TLS 1.2 and older send it unencrypted.",
    "port_mapping": "A request to open (or close) a port in the router: UPnP SOAP, NAT-PMP or PCP.",
    "snmp": "An SNMP message (UDP 161/162).",
    "mqtt": "An MQTT CONNECT: an IoT device logging in to its message broker.",
    "smb": "The SMB dialects a client offers (SMBv1 is obsolete and dangerous).",
    "router_advertisement": "An IPv6 router advertisement: a router offering itself, its prefixes and DNS servers.",
    "capture_stats": "HomeGuard's own capture counters, every stats_interval: packets seen and dropped.",
}

_ALL = tuple(EVENT_TYPES)
_APP = (
    "auth",
    "banner",
    "ftp",
    "pop3",
    "imap",
    "smtp",
    "http",
    "pii",
    "tls_client_hello",
    "tls_server_hello",
    "tls_certificate",
    "port_mapping",
    "snmp",
    "mqtt",
    "smb",
)
_IP = ("dns", "dhcp", "mdns", "ssdp", "flow_start", "flow_end", "router_advertisement", *_APP)
_PACKET = tuple(t for t in EVENT_TYPES if t != "capture_stats")
_TLS = ("tls_client_hello", "tls_server_hello", "tls_certificate")
_FLOW = ("flow_start", "flow_end")
_NAMED = ("dns", "tls_client_hello", "http", *_FLOW)


def _f(name: str, kind: str, types: tuple[str, ...] | str, help_text: str) -> FieldSpec:
    return FieldSpec(name, kind, (types,) if isinstance(types, str) else types, help_text)


FIELDS: tuple[FieldSpec, ...] = (
    _f("ts", "float", _ALL, "When the packet was captured, in seconds since 1970 (UTC)."),
    _f("type", "str", _ALL, "The event type, one of the types above."),
    _f("src.mac", "mac", _PACKET, "Sender's MAC address, when the link layer has one."),
    _f("dst.mac", "mac", _PACKET, "Receiver's MAC address, when the link layer has one."),
    _f("vlan", "int", _PACKET, "The 802.1Q VLAN id of the frame, when tagged."),
    _f("src.ip", "ip", _IP, "Sender's IP address (IPv4 or IPv6)."),
    _f("dst.ip", "ip", _IP, "Receiver's IP address."),
    _f("src.port", "int", _IP, "Sender's TCP or UDP port (ICMP: the type)."),
    _f("dst.port", "int", _IP, "Receiver's TCP or UDP port (ICMP: the code)."),
    _f("proto", "str", _IP, "Transport protocol: tcp, udp, icmp, icmp6, or the IP protocol number."),
    _f("capture.file", "str", _ALL, "Replay only: the capture file the packet came from."),
    _f("capture.frame", "int", _ALL, "Replay only: the frame number in that file, from 1, as in Wireshark."),
    _f(
        "device.mac",
        "mac",
        _PACKET,
        "The household device the event is about: the sender's MAC; for a DNS response the device that asked, for a server's answer from the internet the device at home.",
    ),
    _f("device.vendor", "str", _PACKET, "That device's maker, from the IEEE OUI table."),
    _f("device.name", "str", _PACKET, "That device's name, from DHCP or mDNS, when known."),
    _f("device.randomized", "bool", _PACKET, "True when the device uses a randomised (private) MAC."),
    _f(
        "device.identity",
        "str",
        "device_new",
        "What the device is recognised by: its MAC; for a randomised MAC its DHCP host name and fingerprint (dhcp:NAME|55-list) or mDNS name (mdns:NAME), when it gave one.",
    ),
    _f(
        "device.recognisable",
        "bool",
        "device_new",
        "False for a randomised (private) MAC that gave no name to recognise it by on its next visit.",
    ),
    _f("arp.op", "str", "arp", "request, reply, rarp-request or rarp-reply."),
    _f("arp.sender_mac", "mac", "arp", "The MAC the sender claims as its own."),
    _f("arp.sender_ip", "ip", "arp", "The IPv4 address the sender claims as its own."),
    _f("arp.target_mac", "mac", "arp", "The target's MAC (zero in requests)."),
    _f("arp.target_ip", "ip", "arp", "The IPv4 address asked about."),
    _f(
        "arp.owner_mac",
        "mac",
        "arp",
        "Present when another MAC owns the sender's IP and was active in the last 10 minutes: that owner (ARP spoofing or an address conflict).",
    ),
    _f(
        "arp.gateway",
        "bool",
        "arp",
        "True when the sender's IP is a gateway the household's DHCP server hands out.",
    ),
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
    _f(
        "dhcp.server_known",
        "bool",
        "dhcp",
        "Server messages: true from the household's DHCP server (the dhcp_servers setting, else the first server seen to acknowledge a lease), false from any other.",
    ),
    _f("ra.router_mac", "mac", "router_advertisement", "The advertising router's MAC."),
    _f(
        "ra.router_known",
        "bool",
        "router_advertisement",
        "True for the household's IPv6 router (the ipv6_routers setting, else the first to advertise).",
    ),
    _f(
        "ra.router_lifetime",
        "int",
        "router_advertisement",
        "Seconds the router offers to be the default (0: not a default router).",
    ),
    _f(
        "ra.prefixes",
        "list[str]",
        "router_advertisement",
        "Prefixes offered for addresses, such as 2001:db8:1::/64.",
    ),
    _f("ra.dns_servers", "list[str]", "router_advertisement", "DNS servers offered (RDNSS)."),
    _f("capture.source", "str", "capture_stats", "The interface or file captured from."),
    _f("capture.packets", "int", "capture_stats", "Packets received since the last capture_stats event."),
    _f(
        "capture.drops",
        "int",
        "capture_stats",
        "Packets the kernel dropped in that time (its buffer was full).",
    ),
    _f("capture.drop_ratio", "float", "capture_stats", "drops / (packets + drops), from 0 to 1."),
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
    _f(
        "dns.resolver_known",
        "bool",
        "dns",
        "Queries: true when sent to a household resolver (from the config or DHCP), false when sent elsewhere; absent while none is known.",
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
    _f("auth.protocol", "str", "auth", "ftp, pop3, imap, smtp, telnet, http, snmp or mqtt."),
    _f(
        "auth.method",
        "str",
        "auth",
        "How: USER/PASS, APOP, LOGIN, AUTH PLAIN, AUTH LOGIN, login prompt, Basic, Digest, form, community, CONNECT.",
    ),
    _f("auth.username", "str", "auth", "The user name, where the protocol sends one."),
    _f(
        "auth.password_seen",
        "bool",
        "auth",
        "True when a password (or SNMP community) crossed the network readable. The password itself is never kept.",
    ),
    _f(
        "auth.default_credentials",
        "bool",
        "auth",
        "True when the login is a known factory default (compared in memory, then dropped).",
    ),
    _f("banner.protocol", "str", "banner", "ftp, smtp, pop3, imap or ssh."),
    _f("banner.text", "str", "banner", "The greeting line, as sent (at most 256 characters)."),
    _f("banner.software", "str", "banner", "SSH: the software and version, such as OpenSSH_7.4."),
    _f("banner.side", "str", "banner", "SSH: client or server."),
    _f("ftp.command", "str", "ftp", "The command, upper case: USER, PASS, RETR, STOR, ..."),
    _f("ftp.arg", "str", "ftp", "Its argument (never for PASS)."),
    _f("pop3.command", "str", "pop3", "The command, upper case: USER, PASS, APOP, RETR, ..."),
    _f("pop3.arg", "str", "pop3", "Its argument (never for PASS; only the mechanism for AUTH)."),
    _f("imap.tag", "str", "imap", "The client's command tag."),
    _f("imap.command", "str", "imap", "The command, upper case: LOGIN, SELECT, FETCH, ..."),
    _f(
        "imap.request", "str", "imap", "The whole command line, with a LOGIN password replaced by <redacted>."
    ),
    _f("smtp.command", "str", "smtp", "The command, upper case: EHLO, MAIL, RCPT, DATA, AUTH, ..."),
    _f("smtp.arg", "str", "smtp", "Its argument (for AUTH only the mechanism)."),
    _f("http.is_response", "bool", "http", "False for a request, true for a response."),
    _f("http.method", "str", "http", "Requests: GET, POST, ..."),
    _f("http.uri", "str", "http", "Requests: the path and query, with any personal data redacted."),
    _f("http.host", "str", "http", "Requests: the Host header."),
    _f("http.user_agent", "str", "http", "Requests: the User-Agent header."),
    _f("http.content_type", "str", "http", "Requests: the Content-Type header."),
    _f(
        "http.authorization",
        "str",
        "http",
        "Requests: the Authorization scheme (Basic, Digest, Bearer), never its value.",
    ),
    _f("http.status", "int", "http", "Responses: the status code."),
    _f("http.server", "str", "http", "Responses: the Server header."),
    _f("pii.kind", "str", "pii", "email, gps, phone, imei or mac."),
    _f("pii.sample", "str", "pii", "A redacted sample, such as a***@example.nl."),
    _f("pii.location", "str", "pii", "Where it was: uri, or header:NAME."),
    _f("pii.host", "str", "pii", "The web server it was sent to (the Host header)."),
    _f("tls.sni", "str", _TLS, "The server name the client asked for (SNI)."),
    _f(
        "tls.version",
        "str",
        ("tls_client_hello", "tls_server_hello"),
        "The legacy version field, such as 0x0303.",
    ),
    _f(
        "tls.supported_versions",
        "list[str]",
        "tls_client_hello",
        "Versions the client offers (supported_versions extension).",
    ),
    _f("tls.ciphers", "list[str]", "tls_client_hello", "Cipher suites the client offers, in its order."),
    _f(
        "tls.alpn",
        "list[str]",
        "tls_client_hello",
        "Application protocols the client offers (h2, http/1.1, ...).",
    ),
    _f(
        "tls.sslv2_format",
        "bool",
        "tls_client_hello",
        "True for an old SSLv2-format hello (no SNI, no extensions, no JA3).",
    ),
    _f("tls.ja3", "str", "tls_client_hello", "The JA3 fingerprint of the client."),
    _f("tls.ja4", "str", "tls_client_hello", "The JA4 fingerprint of the client (JA4_a_b_c)."),
    _f(
        "tls.selected_version",
        "str",
        "tls_server_hello",
        "The version the server chose in supported_versions (TLS 1.3).",
    ),
    _f(
        "tls.negotiated_version", "str", "tls_server_hello", "The version in use, such as 0x0301 for TLS 1.0."
    ),
    _f(
        "tls.negotiated_name",
        "str",
        "tls_server_hello",
        "The same in words: SSLv3, TLS 1.0, TLS 1.1, TLS 1.2, TLS 1.3.",
    ),
    _f("tls.cipher", "str", "tls_server_hello", "The cipher suite the server chose, such as 0x0035."),
    _f("tls.cert_subject", "str", "tls_certificate", "Who the certificate names: CN=..., O=..."),
    _f("tls.cert_issuer", "str", "tls_certificate", "Who signed it."),
    _f("tls.cert_not_before", "float", "tls_certificate", "Valid from (seconds since 1970)."),
    _f("tls.cert_not_after", "float", "tls_certificate", "Valid until (seconds since 1970)."),
    _f(
        "tls.cert_expired",
        "bool",
        "tls_certificate",
        "True when the packet came after the certificate's end.",
    ),
    _f("tls.cert_self_signed", "bool", "tls_certificate", "True when subject and issuer are the same."),
    _f("mapping.method", "str", "port_mapping", "upnp, nat-pmp or pcp."),
    _f("mapping.action", "str", "port_mapping", "add or delete."),
    _f("mapping.protocol", "str", "port_mapping", "tcp or udp."),
    _f("mapping.external_port", "int", "port_mapping", "The port opened on the router's internet side."),
    _f("mapping.internal_port", "int", "port_mapping", "The port it leads to inside."),
    _f("mapping.internal_client", "str", "port_mapping", "The inside address it leads to (UPnP, PCP)."),
    _f("mapping.lifetime", "int", "port_mapping", "How long, in seconds (0: until removed, for UPnP)."),
    _f("mapping.description", "str", "port_mapping", "UPnP: the description the device gave."),
    _f("snmp.version", "str", "snmp", "1, 2c or 3."),
    _f("snmp.pdu", "str", "snmp", "get, get-next, set, response, trap, ..."),
    _f("mqtt.client_id", "str", "mqtt", "The client's id."),
    _f("mqtt.protocol_level", "int", "mqtt", "3 (MQTT 3.1), 4 (3.1.1) or 5."),
    _f("smb.version", "int", "smb", "1 for SMBv1 negotiation, 2 for SMB2 and later."),
    _f("smb.dialects", "list[str]", "smb", "SMBv1: the dialects offered, such as NT LM 0.12."),
    _f(
        "server.name",
        "str",
        _NAMED,
        "The server's name, lower case: the DNS name asked for, the TLS SNI, the HTTP Host (without port), or the flow's server name.",
    ),
    _f(
        "server.domain",
        "str",
        _NAMED,
        "The registrable domain (public suffix list) of the server's name: the DNS name asked for, the TLS SNI, the HTTP Host, or the flow's server name. Such as bbc.co.uk.",
    ),
    _f(
        "server.company",
        "str",
        _NAMED,
        "The company behind that name (homeguard/data/entities.yaml), such as Google.",
    ),
    _f(
        "server.country",
        "str",
        _FLOW,
        "The country of the server's IP address (iptocc, offline), such as US.",
    ),
    _f(
        "dns.subdomain_length",
        "int",
        "dns",
        "Characters of the name left of its registrable domain (long in DNS tunnels).",
    ),
    _f(
        "dns.subdomain_entropy",
        "float",
        "dns",
        "How random those characters are, in bits per character (Shannon; above 4 looks like encoded data).",
    ),
    _f(
        "dns.domain_label_entropy",
        "float",
        "dns",
        "The same for the registrable domain's own label (random-looking in DGA malware names).",
    ),
    _f(
        "flow.direction",
        "str",
        _FLOW,
        "inbound (from the internet to a device at home), outbound, internal (within the home) or external. Home: private and link-local addresses, and the global IPv6 prefixes the household's router advertises.",
    ),
    _f(
        "flow.handshake",
        "bool",
        _FLOW,
        "TCP: true when the connection's SYN or SYN-ACK was seen, so which side is the client is certain.",
    ),
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
        "flow.end_reason",
        "str",
        "flow_end",
        "fin, rst, idle, evicted (the flow table was full), reopened (a new SYN on its ports) or shutdown.",
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
        where = {_ALL: "all", _PACKET: "all but capture_stats"}.get(spec.event_types) or ", ".join(
            spec.event_types
        )
        lines.append(f"| `{spec.name}` | {spec.kind} | {where} | {spec.help} |")
    return "\n".join(lines) + "\n"
