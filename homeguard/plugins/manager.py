"""The plugin manager: the hooks, the shipped plugins, then every plugin installed under
the entry-point group `homeguard`."""

from __future__ import annotations

import pluggy

from homeguard.errors import PluginError
from homeguard.plugins import default_protocols
from homeguard.plugins.hookspecs import PROJECT, HookSpecs


def plugin_manager(entry_points: bool = True, *, protocols_only: bool = False) -> pluggy.PluginManager:
    """A fresh manager (no module-level state): the shipped plugins, and with
    `entry_points` the installed ones. A plugin that fails to load is an error that
    names it: HomeGuard does not run half-extended. With `protocols_only` (a capture
    worker, which only decodes), the shipped outputs, sources and enrichers are left
    out, and their modules never loaded."""
    manager = pluggy.PluginManager(PROJECT)
    manager.add_hookspecs(HookSpecs)
    manager.register(default_protocols, name="homeguard.default_protocols")
    if not protocols_only:
        register_household_plugins(manager)
    if entry_points:
        try:
            manager.load_setuptools_entrypoints(PROJECT)
        except Exception as exc:  # an import error or a bad hook in someone else's code
            raise PluginError(
                f"a plugin in the entry-point group {PROJECT!r} failed to load: {type(exc).__name__}: {exc}; "
                "uninstall it or fix it (pip uninstall NAME)"
            ) from exc
    return manager


def register_household_plugins(manager: pluggy.PluginManager) -> None:
    """The shipped plugins beside the protocols, imported here rather than at the top: a
    capture worker never calls them, and their modules (the outputs, SQLite, TLS, HTTP)
    would cost every worker some 3 MiB."""
    from homeguard.plugins import default_enrichers, default_outputs, default_sources
    from homeguard.plugins.default_exports import ExportPlugin
    from homeguard.plugins.default_home_assistant import HomeAssistantPlugin

    for plugin in (default_enrichers, default_outputs, default_sources):
        manager.register(plugin, name=f"homeguard.{plugin.__name__.rsplit('.', 1)[1]}")
    manager.register(ExportPlugin(), name="homeguard.default_exports")  # one per manager: it holds state
    manager.register(HomeAssistantPlugin(), name="homeguard.default_home_assistant")  # the same
