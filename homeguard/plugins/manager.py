"""The plugin manager: the hooks, the shipped plugins, then every plugin installed under
the entry-point group `homeguard`."""

from __future__ import annotations

import pluggy

from homeguard.errors import PluginError
from homeguard.plugins import default_enrichers, default_outputs, default_protocols, default_sources
from homeguard.plugins.default_exports import ExportPlugin
from homeguard.plugins.default_home_assistant import HomeAssistantPlugin
from homeguard.plugins.hookspecs import PROJECT, HookSpecs

SHIPPED_PLUGINS = (default_protocols, default_enrichers, default_outputs, default_sources)


def plugin_manager(entry_points: bool = True) -> pluggy.PluginManager:
    """A fresh manager (no module-level state): the shipped plugins, and with
    `entry_points` the installed ones. A plugin that fails to load is an error that
    names it: HomeGuard does not run half-extended."""
    manager = pluggy.PluginManager(PROJECT)
    manager.add_hookspecs(HookSpecs)
    for plugin in SHIPPED_PLUGINS:
        manager.register(plugin, name=f"homeguard.{plugin.__name__.rsplit('.', 1)[1]}")
    manager.register(ExportPlugin(), name="homeguard.default_exports")  # one per manager: it holds state
    manager.register(HomeAssistantPlugin(), name="homeguard.default_home_assistant")  # the same
    if entry_points:
        try:
            manager.load_setuptools_entrypoints(PROJECT)
        except Exception as exc:  # an import error or a bad hook in someone else's code
            raise PluginError(
                f"a plugin in the entry-point group {PROJECT!r} failed to load: {type(exc).__name__}: {exc}; "
                "uninstall it or fix it (pip uninstall NAME)"
            ) from exc
    return manager
