"""Shipped plugin: the sources besides the capture interface. With flow_export_listen,
a NetFlow v5/v9 and IPFIX collector for the router's flow export
(pipeline/flow_export.py); with dns_log_files, the resolver's query logs
(pipeline/resolver_log.py); with pihole_db, Pi-hole's query database
(pipeline/pihole.py); with eve_files, Suricata's EVE JSON (pipeline/eve.py)."""

from __future__ import annotations

from homeguard.pipeline.eve import EveLog
from homeguard.pipeline.flow_export import FlowCollector
from homeguard.pipeline.pihole import PiholeDatabase
from homeguard.pipeline.resolver_log import ResolverLog
from homeguard.plugins.hookspecs import SourceSpec, hookimpl
from homeguard.settings import Config


@hookimpl
def homeguard_sources(config: Config) -> list[SourceSpec]:
    specs = []
    listen = config.values["flow_export_listen"]
    if listen:
        specs.append(SourceSpec("flow-export", lambda: FlowCollector(listen)))
    logs = config.values["dns_log_files"]
    if logs:
        specs.append(SourceSpec("resolver-log", lambda: ResolverLog(logs)))
    pihole = config.values["pihole_db"]
    if pihole:
        specs.append(SourceSpec("pihole", lambda: PiholeDatabase(pihole)))
    eve = config.values["eve_files"]
    if eve:
        specs.append(SourceSpec("suricata-eve", lambda: EveLog(eve)))
    return specs
