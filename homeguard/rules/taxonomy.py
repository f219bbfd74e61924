"""The fixed category taxonomy and severities. Other tools map onto these names, so they
are stable: add, never rename."""

CATEGORIES: dict[str, str] = {
    "privacy.tracker": "A device talks to a tracking or telemetry service.",
    "privacy.cleartext-credentials": "A login crossed the network unencrypted.",
    "privacy.pii-cleartext": "Personal data crossed the network unencrypted.",
    "privacy.dns-bypass": "A device bypasses the household's DNS (foreign resolver, DoH, DoT).",
    "privacy.data-flow": "A device sends data to a company or a country it did not before.",
    "insecure.cleartext-protocol": "An unencrypted protocol is in use (telnet, FTP, POP3, ...).",
    "insecure.default-credentials": "A device accepts a known factory-default password.",
    "insecure.old-tls": "A connection uses an outdated TLS version or a weak cipher.",
    "insecure.invalid-certificate": "A server presents a certificate that is expired or not yet valid.",
    "insecure.upnp-port-mapping": "A device opened a port in the router over UPnP or NAT-PMP.",
    "insecure.exposed-service": "A service inside the home is reachable from the internet.",
    "insecure.vulnerable-software": "A device announces software with known vulnerabilities.",
    "network.new-device": "A device joined the network for the first time.",
    "network.arp-spoofing": "A device claims an address that belongs to another (ARP spoofing).",
    "network.rogue-dhcp": "An unknown DHCP server hands out addresses.",
    "network.rogue-router-advertisement": "An unknown IPv6 router advertises itself.",
    "network.port-scan": "A device probes many ports or hosts.",
    "network.mac-flood": "Something floods the network with made-up device addresses.",
    "network.dns-tunnel": "DNS lookups that look like data being smuggled out.",
    "threat.known-bad": "A device talks to a destination on a threat list.",
    "health.capture-loss": "HomeGuard itself missed packets.",
    "health.storage": "HomeGuard cannot write its database: a full disk, a lock, a damaged or failing file.",
    "health.source": "A source besides the capture interface (flow export, a resolver's or Suricata's log) "
    "went missing or quiet.",
}
SEVERITIES: tuple[str, ...] = ("info", "low", "medium", "high", "critical")
MODES: tuple[str, ...] = ("alert", "record", "off")
LANGUAGES: tuple[str, ...] = ("nl",)  # translations besides English, the default
