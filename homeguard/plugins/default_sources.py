"""Shipped plugin: the sources besides the capture interface. With flow_export_listen,
a NetFlow v5/v9 and IPFIX collector for the router's flow export
(pipeline/flow_export.py)."""

from __future__ import annotations

from homeguard.pipeline.flow_export import FlowCollector
from homeguard.plugins.hookspecs import SourceSpec, hookimpl
from homeguard.settings import Config


@hookimpl
def homeguard_sources(config: Config) -> list[SourceSpec]:
    listen = config.values["flow_export_listen"]
    if not listen:
        return []
    return [SourceSpec("flow-export", lambda: FlowCollector(listen))]
