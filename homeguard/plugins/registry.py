"""What the plugins registered, gathered once: the protocol dispatch, the enrichers, the
field catalog, the commands; and, for a running household, its outputs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pluggy

from homeguard.errors import PluginError
from homeguard.events import Event
from homeguard.events.catalog import Catalog
from homeguard.findings.model import Finding
from homeguard.plugins.hookspecs import EnricherSpec, EventSinkSpec, OutputContext, SourceSpec
from homeguard.protocols.dispatch import ProtocolDispatch
from homeguard.protocols.shipped import catalog_of
from homeguard.protocols.spec import ProtocolSpec
from homeguard.settings import Config


@dataclass
class Registry:
    manager: pluggy.PluginManager
    analyzers: list[ProtocolSpec]
    enrichers: list[EnricherSpec]
    catalog: Catalog
    config: Config

    @classmethod
    def gather(cls, manager: pluggy.PluginManager, config: Config, *, enrich: bool = True) -> Registry:
        """Everything the plugins registered; without `enrich`, no enricher is built (a
        capture worker's: the household enriches, and the enrichers' data is large)."""
        hook = manager.hook
        analyzers: list[ProtocolSpec] = _in_order(hook.homeguard_analyzers())
        names = [spec.name for spec in analyzers]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise PluginError(f"protocol(s) registered twice: {', '.join(twice)}")
        enrichers: list[EnricherSpec] = _in_order(hook.homeguard_enrichers(config=config)) if enrich else []
        try:
            catalog = catalog_of(tuple(analyzers), tuple(f for e in enrichers for f in e.fields))
        except ValueError as exc:
            raise PluginError(f"the plugins' fields clash: {exc}") from exc
        return cls(manager, analyzers, enrichers, catalog, config)

    def dispatch(self) -> ProtocolDispatch:
        return ProtocolDispatch(self.analyzers)

    def enrich_functions(self) -> list[Callable[[Event], None]]:
        return [spec.enrich for spec in self.enrichers]

    def sources(self) -> list[SourceSpec]:
        return _in_order(self.manager.hook.homeguard_sources(config=self.config))

    def event_sinks(self, context: OutputContext) -> list[EventSinkSpec]:
        return _in_order(self.manager.hook.homeguard_event_sinks(context=context))

    def finding_sinks(self, context: OutputContext) -> list[Callable[[Finding], None]]:
        return _in_order(self.manager.hook.homeguard_finding_sinks(context=context))

    def describe(self) -> list[dict[str, Any]]:
        """Every plugin and what it provides, for `homeguard plugins`."""
        out = []
        for name, plugin_object in self.manager.list_name_plugin():
            plugin: Any = plugin_object  # a module or object with hook functions
            callers = self.manager.get_hookcallers(plugin_object) or []
            hooks = sorted(caller.name for caller in callers)
            entry: dict[str, Any] = {"name": name, "hooks": hooks}
            dist = dict(self.manager.list_plugin_distinfo()).get(plugin)
            entry["package"] = f"{dist.project_name} {dist.version}" if dist is not None else "shipped"
            provides: dict[str, Any] = {}
            if "homeguard_analyzers" in hooks:
                provides["protocols"] = [spec.describe() for spec in plugin.homeguard_analyzers()]
            if "homeguard_enrichers" in hooks:
                provides["enrichers"] = [
                    {"name": e.name, "fields": [f.name for f in e.fields]}
                    for e in plugin.homeguard_enrichers(config=self.config)
                ]
            if "homeguard_sources" in hooks:
                provides["sources"] = [s.name for s in plugin.homeguard_sources(config=self.config)]
            for hook, what in (
                ("homeguard_event_sinks", "event outputs"),
                ("homeguard_finding_sinks", "finding outputs"),
            ):
                if hook in hooks:
                    provides[what] = True
            if "homeguard_commands" in hooks:
                provides["commands"] = [c.name for c in plugin.homeguard_commands()]
            entry["provides"] = provides
            out.append(entry)
        return out


def _in_order(results: list[list[Any]]) -> list[Any]:
    """pluggy returns one list per plugin, the plugin registered last first: flattened
    in registration order, so the shipped parts come before a plugin's."""
    return [item for items in reversed(results) for item in items]
