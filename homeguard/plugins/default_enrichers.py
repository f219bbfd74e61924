"""Shipped plugin: who is behind a server's name or address (registrable domain, company,
country) and how random a DNS name looks (state/enrichment.py)."""

from __future__ import annotations

from homeguard.plugins.hookspecs import EnricherSpec, hookimpl
from homeguard.settings import Config
from homeguard.state import enrichment


@hookimpl
def homeguard_enrichers(config: Config) -> list[EnricherSpec]:
    return [EnricherSpec("server", enrichment.Enricher(), enrichment.FIELDS)]
