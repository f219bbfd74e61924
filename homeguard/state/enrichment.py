"""Who is behind a name or an address: the registrable domain (publicsuffixlist), the
company (homeguard/data/entities.yaml) and the country of a server's IP (iptocc); and,
for DNS names, how random the part left of the registrable domain looks.
All offline; each answer is cached, so the work is done once per name or address."""

from __future__ import annotations

import functools
import math
from collections import Counter
from dataclasses import dataclass
from typing import Any

from homeguard.events import Event
from homeguard.events.builders import set_if
from homeguard.events.catalog import FLOW_TYPES, field
from homeguard.state.address_owners import AddressOwners
from homeguard.state.organisations import EEA, attribute, load_entities, organisation_of

MAX_CACHED = 65536
OUTSIDE = ("outbound", "inbound")  # flows between a device at home and the internet
# Which event field holds the name of the server an event is about.
NAME_FIELDS = {
    "dns": "dns.query",
    "tls_client_hello": "tls.sni",
    "http": "http.host",
    "flow_start": "flow.server_name",
    "flow_established": "flow.server_name",
    "flow_end": "flow.server_name",
}
NAMED_TYPES = tuple(NAME_FIELDS)  # the events that name a server

# The fields the enricher provides (gathered into the catalog by the registry).
FIELDS = (
    field(
        "server.name",
        "text",
        NAMED_TYPES,
        "The server's name, lower case: the DNS name asked for, the TLS SNI, the HTTP Host (without port), or the flow's server name.",
    ),
    field(
        "server.domain",
        "text",
        NAMED_TYPES,
        "The registrable domain (public suffix list) of the server's name: the DNS name asked for, the TLS SNI, the HTTP Host, or the flow's server name. Such as bbc.co.uk.",
    ),
    field(
        "server.company",
        "str",
        NAMED_TYPES,
        "The company behind that name (homeguard/data/entities.yaml), such as Google.",
    ),
    field(
        "server.country",
        "str",
        (*FLOW_TYPES, "data_first"),
        "The country of the server's IP address (iptocc, offline), such as US.",
    ),
    field(
        "server.eu",
        "bool",
        (*FLOW_TYPES, "data_first"),
        "Whether server.country is in the EU or the EEA, where the GDPR applies.",
    ),
    field(
        "org.name",
        "str",
        ("flow_end", "data_first"),
        "The organisation the flow's data went to, on the best evidence: its name (SNI, Host, DNS) and CNAME chain, else the owner of the address block (docs/report.md).",
    ),
    field(
        "org.country", "str", "flow_end", "The organisation's home country: whose law applies, such as KR."
    ),
    field(
        "org.purpose",
        "str",
        "flow_end",
        "What the organisation does, where one purpose describes it: advertising, analytics, telemetry, cloud, cdn, content…",
    ),
    field("org.via", "str", "flow_end", "The CDN that served the organisation's name, such as Akamai."),
    field(
        "org.source",
        "str",
        "flow_end",
        "The evidence: tls (SNI), http (Host), dns, cname (a tracker behind a first-party CNAME) or address (the address block's owner).",
    ),
    field(
        "dns.zone",
        "text",
        "dns",
        "The zone the name's labels hang under: its registrable domain, or, under a top-level domain no registry knows (as DNS tunnels make up), that TLD. Tunnel rules group by it.",
    ),
    field(
        "dns.subdomain_length",
        "int",
        "dns",
        "Characters of the name left of its zone (long in DNS tunnels).",
    ),
    field(
        "dns.subdomain_entropy",
        "float",
        "dns",
        "How random those characters are, in bits per character (Shannon; above 4 looks like encoded data).",
    ),
    field(
        "dns.domain_label_entropy",
        "float",
        "dns",
        "The same for the registrable domain's own label (random-looking in DGA malware names).",
    ),
)


@dataclass(frozen=True, slots=True)
class NameFacts:
    host: str  # the name, lower case, without a trailing dot or a port
    domain: str | None  # the registrable domain
    company: str | None
    subdomain_length: int  # characters left of the zone
    subdomain_entropy: float  # bits per character of those, dots left out
    domain_label_entropy: float  # of the registrable domain's own label ("example")
    zone: str | None = None  # the registrable domain; under a made-up top-level domain, that TLD


def shannon_entropy(text: str) -> float:
    if not text:
        return 0.0
    n = len(text)
    return -sum(c / n * math.log2(c / n) for c in Counter(text).values())


@functools.cache  # parsing the list takes 70 ms: once per process, shared read-only
def public_suffix_list() -> Any:
    from publicsuffixlist import PublicSuffixList

    return PublicSuffixList()


class Enricher:
    def __init__(self, address_owners: AddressOwners | None = None) -> None:
        self._psl: Any = None  # loaded at the first name
        self._entities = load_entities()
        self._address_owners = address_owners or AddressOwners()
        self._names: dict[str, NameFacts] = {}
        self._countries: dict[str, str | None] = {}

    def __call__(self, event: Event) -> None:
        event_type = event["type"]
        source = NAME_FIELDS.get(event_type)
        if source is None:
            return
        name = event.get(source)
        if name and isinstance(name, str):
            facts = self.name_facts(name)
            event["server.name"] = facts.host
            if facts.domain:
                event["server.domain"] = facts.domain
            if facts.company:
                event["server.company"] = facts.company
            if event_type == "dns":
                event["dns.subdomain_length"] = facts.subdomain_length
                event["dns.subdomain_entropy"] = facts.subdomain_entropy
                event["dns.domain_label_entropy"] = facts.domain_label_entropy
                if facts.zone:
                    event["dns.zone"] = facts.zone
        if event_type in FLOW_TYPES:
            # the server is the side outside the home: the initiator of an inbound flow
            remote = event.get("src.ip") if event.get("flow.direction") == "inbound" else event.get("dst.ip")
            country = self.country(remote)
            if country:
                event["server.country"] = country
                event["server.eu"] = country in EEA
            if event_type == "flow_end" and event.get("flow.direction") in OUTSIDE:
                self._attribute(event, remote)

    def _attribute(self, event: Event, remote: Any) -> None:
        """The organisation the flow's data went to (state/organisations.py)."""
        cnames = event.get("flow.cnames")
        found = attribute(
            event.get("flow.server_name"),
            tuple(cnames) if cnames else (),
            event.get("flow.name_source", ""),
            self._entities.by_domain,
        )
        if found is not None:
            org = found.organisation
            event["org.name"], event["org.source"] = org.name, found.source
            set_if(event, "org.country", org.country or None)
            set_if(event, "org.purpose", org.purpose)
            set_if(event, "org.via", found.via)
            return
        owner = self._address_owners.owner_of(remote) if remote else None
        if owner is not None:
            known = self._entities.by_asn.get(owner.asn)
            event["org.name"] = known.name if known is not None else owner.name
            event["org.source"] = "address"
            set_if(event, "org.country", (known.country if known is not None else owner.country) or None)
            set_if(event, "org.purpose", known.purpose if known is not None else None)

    def domain_and_company(self, name: str) -> tuple[str | None, str | None]:
        facts = self.name_facts(name)
        return facts.domain, facts.company

    def name_facts(self, name: str) -> NameFacts:
        cached = self._names.get(name)
        if cached is not None:
            return cached
        host = name.lower().rstrip(".").split(":", 1)[0]
        if self._psl is None:
            self._psl = public_suffix_list()
        domain = self._psl.privatesuffix(host) if "." in host else None
        org = organisation_of(host, self._entities.by_domain)
        company = org.name if org is not None else None
        zone = domain
        if domain and self._psl.publicsuffix(host, accept_unknown=False) is None:
            # A top-level domain nobody registered (dnscat-style tunnels make one up): the
            # random label left of it is no domain of anyone's, so the zone is the TLD.
            zone = host.rsplit(".", 1)[1]
        sub = host[: -len(zone) - 1] if zone and host != zone else ""
        label = domain.split(".", 1)[0] if domain else ""
        facts = NameFacts(
            host,
            domain,
            company,
            len(sub),
            round(shannon_entropy(sub.replace(".", "")), 3),
            round(shannon_entropy(label), 3),
            zone,
        )
        if len(self._names) >= MAX_CACHED:
            self._names.clear()
        self._names[name] = facts
        return facts

    def country(self, ip: Any) -> str | None:
        if not ip:
            return None
        if ip not in self._countries:
            import iptocc

            if len(self._countries) >= MAX_CACHED:
                self._countries.clear()
            try:
                self._countries[ip] = iptocc.country_code(ip)
            except ValueError:
                self._countries[ip] = None
        return self._countries[ip]
