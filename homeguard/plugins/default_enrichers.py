"""Shipped plugin: who is behind a server's name or address (registrable domain, company,
country, and for a flow that leaves the house the organisation its data went to) and
how random a DNS name looks (state/enrichment.py); and the share of a device's DNS
lookups that fail (state/lookup_failures.py)."""

from __future__ import annotations

from homeguard.plugins.hookspecs import EnricherSpec, hookimpl
from homeguard.rules.feeds import ADDRESS_OWNERS, lists_directory
from homeguard.settings import Config
from homeguard.state import enrichment, lookup_failures
from homeguard.state.address_owners import AddressOwners


@hookimpl
def homeguard_enrichers(config: Config) -> list[EnricherSpec]:
    owners = AddressOwners.load(lists_directory(config) / ADDRESS_OWNERS)
    return [
        EnricherSpec("server", enrichment.Enricher(owners), enrichment.FIELDS),
        EnricherSpec("lookup_failures", lookup_failures.LookupFailures(), lookup_failures.FIELDS),
    ]
