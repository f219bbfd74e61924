"""Who a flow's data goes to: the organisation, on the best evidence there is.

The evidence, best first:
1. the name the client gave or looked up (TLS SNI, HTTP Host, DNS), and the CNAME chain
   its DNS answer went through: a tracker behind a first-party CNAME ("CNAME cloaking",
   metrics.bank.example -> bank.eulerian.net) is named for the tracker; a company served
   by a CDN (www.samsung.com -> …edgekey.net) reads as that company, via the CDN;
2. for a flow with no name, the owner of the address block (address_owners.py).

Organisations, their domains, home country (whose law applies) and purpose come from
homeguard/data/entities.yaml. EEA lists the countries where the GDPR applies.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from types import MappingProxyType

import yaml

from homeguard.errors import HomeGuardError
from homeguard.safe_yaml import SAFE_LOADER

# The EU's 27 and the EEA's three others (Iceland, Liechtenstein, Norway): the GDPR's reach.
EEA = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "HR",
        "CY",
        "CZ",
        "DK",
        "EE",
        "FI",
        "FR",
        "DE",
        "GR",
        "HU",
        "IE",
        "IT",
        "LV",
        "LT",
        "LU",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SK",
        "SI",
        "ES",
        "SE",
        "IS",
        "LI",
        "NO",
    ]
)
PURPOSES = (
    "advertising",
    "analytics",
    "telemetry",
    "cloud",
    "cdn",
    "content",
    "messaging",
    "social",
    "search",
    "shopping",
    "software",
    "smart-home",
    "payments",
    "security",
)
TRACKING_PURPOSES = frozenset({"advertising", "analytics", "telemetry"})


@dataclass(frozen=True, slots=True)
class Organisation:
    name: str
    country: str  # ISO code of its home country: whose law applies
    purpose: str | None = None  # one of PURPOSES, where one purpose describes it


@dataclass(frozen=True, slots=True)
class Entities:
    by_domain: Mapping[str, Organisation]  # a domain matches itself and its subdomains
    by_name: Mapping[str, Organisation]
    by_asn: Mapping[int, Organisation]  # its autonomous systems, for flows known by address only


@functools.cache  # the shipped file does not change while we run: parse it once
def load_entities() -> Entities:
    text = resources.files("homeguard").joinpath("data/entities.yaml").read_text("utf-8")
    by_domain: dict[str, Organisation] = {}
    by_name: dict[str, Organisation] = {}
    by_asn: dict[int, Organisation] = {}
    for company, entry in (yaml.load(text, Loader=SAFE_LOADER) or {}).items():  # libyaml: 0.1 s less a start
        if not isinstance(entry, dict) or "domains" not in entry:
            raise HomeGuardError(f"entities.yaml: {company!r} needs country: and domains:")
        purpose = entry.get("purpose")
        if purpose is not None and purpose not in PURPOSES:
            raise HomeGuardError(f"entities.yaml: {company!r}: purpose {purpose!r} is not one of {PURPOSES}")
        org = Organisation(str(company), str(entry.get("country", "")), purpose)
        by_name[org.name] = org
        for domain in entry["domains"]:
            by_domain[str(domain).lower()] = org
        for asn in entry.get("asns", ()):
            by_asn[int(asn)] = org
    return Entities(MappingProxyType(by_domain), MappingProxyType(by_name), MappingProxyType(by_asn))


def organisation_of(host: str, by_domain: Mapping[str, Organisation]) -> Organisation | None:
    """The organisation of a name or of its nearest listed parent domain."""
    probe = host.lower().rstrip(".")
    while probe:
        org = by_domain.get(probe)
        if org is not None:
            return org
        probe = probe.partition(".")[2]
    return None


@dataclass(frozen=True, slots=True)
class Attribution:
    organisation: Organisation
    via: str | None  # the CDN that served it, when it was not the organisation itself
    source: str  # tls, http, dns, cname (cloaked tracker) or address


def attribute(
    name: str | None, cnames: tuple[str, ...], name_source: str, by_domain: Mapping[str, Organisation]
) -> Attribution | None:
    """The organisation behind a flow's name and its CNAME chain (see the module's docstring)."""
    if not name:
        return None
    first = organisation_of(name, by_domain)
    behind = [org for org in (organisation_of(c, by_domain) for c in cnames) if org is not None]
    for org in behind:  # a tracker behind a name that is not its own: CNAME cloaking
        if org.purpose in TRACKING_PURPOSES and (first is None or org.name != first.name):
            return Attribution(org, None, "cname")
    cdn = next((org for org in behind if org.purpose == "cdn"), None)
    if first is not None:
        via = cdn.name if cdn is not None and cdn.name != first.name else None
        return Attribution(first, via, name_source or "dns")
    if behind:  # a name of its own nobody lists, on someone's servers
        served = next((org for org in behind if org.purpose != "cdn"), behind[0])
        return Attribution(served, None, "cname")
    return None
