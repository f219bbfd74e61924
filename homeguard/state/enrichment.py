"""Who is behind a name or an address: the registrable domain (publicsuffixlist), the
company (homeguard/data/entities.yaml) and the country of a server's IP (iptocc).
All offline; each answer is cached, so the work is done once per name or address."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from importlib import resources
from types import MappingProxyType
from typing import Any

import yaml

from homeguard.errors import HomeGuardError
from homeguard.events import Event

MAX_CACHED = 65536
# Which event field holds a server name, and the fields the answers go to.
NAME_FIELDS = {
    "dns": ("dns.query", "dns.domain", "dns.company"),
    "tls_client_hello": ("tls.sni", "tls.domain", "tls.company"),
    "http": ("http.host", "http.domain", "http.company"),
    "flow_start": ("flow.server_name", "flow.server_domain", "flow.company"),
    "flow_end": ("flow.server_name", "flow.server_domain", "flow.company"),
}
FLOW_TYPES = ("flow_start", "flow_end")


@functools.cache  # the shipped file does not change while we run: parse it once
def load_entities() -> Mapping[str, tuple[str, str]]:
    """domain -> (company, country), from the shipped entities data (read-only)."""
    text = resources.files("homeguard").joinpath("data/entities.yaml").read_text("utf-8")
    index: dict[str, tuple[str, str]] = {}
    for company, entry in (yaml.safe_load(text) or {}).items():
        if not isinstance(entry, dict) or "domains" not in entry:
            raise HomeGuardError(f"entities.yaml: {company!r} needs country: and domains:")
        for domain in entry["domains"]:
            index[str(domain).lower()] = (str(company), str(entry.get("country", "")))
    return MappingProxyType(index)


@functools.cache  # parsing the list takes 70 ms: once per process, shared read-only
def public_suffix_list() -> Any:
    from publicsuffixlist import PublicSuffixList

    return PublicSuffixList()


class Enricher:
    def __init__(self) -> None:
        self._psl: Any = None  # loaded at the first name
        self._entities = load_entities()
        self._domains: dict[str, tuple[str | None, str | None]] = {}
        self._countries: dict[str, str | None] = {}

    def __call__(self, event: Event) -> None:
        fields = NAME_FIELDS.get(event["type"])
        if fields is None:
            return
        source, domain_field, company_field = fields
        name = event.get(source)
        if name and isinstance(name, str):
            domain, company = self.domain_and_company(name)
            if domain:
                event[domain_field] = domain
            if company:
                event[company_field] = company
        if event["type"] in FLOW_TYPES:
            country = self.country(event.get("dst.ip"))
            if country:
                event["flow.country"] = country

    def domain_and_company(self, name: str) -> tuple[str | None, str | None]:
        cached = self._domains.get(name)
        if cached is not None:
            return cached
        host = name.lower().rstrip(".").split(":", 1)[0]
        if self._psl is None:
            self._psl = public_suffix_list()
        domain = self._psl.privatesuffix(host) if "." in host else None
        company = None
        probe = host
        while probe:  # the entity of the name or of its nearest listed parent
            if probe in self._entities:
                company = self._entities[probe][0]
                break
            probe = probe.partition(".")[2]
        if len(self._domains) >= MAX_CACHED:
            self._domains.clear()
        self._domains[name] = (domain, company)
        return domain, company

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
