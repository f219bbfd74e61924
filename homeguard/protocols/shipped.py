"""The protocols HomeGuard ships, and the catalog they make with the core and enricher
fields. The app registers these through the default plugin (plugins/defaults.py); code
that builds a pipeline or parses rules without the plugin registry (tests, one-off
tools) uses them directly."""

from __future__ import annotations

import functools

from homeguard.events.catalog import CORE_EVENT_TYPES, CORE_FIELDS, Catalog, FieldSpec
from homeguard.protocols import (
    arp,
    dhcp,
    dns,
    ftp,
    http,
    imap,
    mdns,
    mqtt,
    ndp,
    pop3,
    portmap,
    smb,
    smtp,
    snmp,
    ssdp,
    ssh,
    telnet,
    tls,
)
from homeguard.protocols.spec import ProtocolSpec
from homeguard.state import enrichment, lookup_failures

SHIPPED: tuple[ProtocolSpec, ...] = tuple(
    module.SPEC
    for module in (
        arp, dhcp, dns, mdns, ssdp, ndp, portmap, snmp, tls, http, ssh, mqtt, ftp, smtp, pop3, imap, telnet, smb,
    )
)  # fmt: skip


def catalog_of(protocols: tuple[ProtocolSpec, ...], more_fields: tuple[FieldSpec, ...] = ()) -> Catalog:
    """The core event types and fields, then each protocol's, then `more_fields`
    (the enrichers' and the plugins')."""
    types = dict(CORE_EVENT_TYPES)
    fields = list(CORE_FIELDS)
    for spec in protocols:
        for name, text in spec.event_types.items():
            types.setdefault(name, text)
        fields += spec.fields
    return Catalog(types, [*fields, *more_fields])


@functools.cache
def shipped_catalog() -> Catalog:
    return catalog_of(SHIPPED, (*enrichment.FIELDS, *lookup_failures.FIELDS))
