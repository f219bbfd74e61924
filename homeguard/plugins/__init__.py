"""Extending HomeGuard without editing it: pluggy hooks (hookspecs.py), found through
the entry-point group `homeguard`. What HomeGuard ships registers through the same
hooks (default_*.py). docs/plugins.md walks through a complete plugin."""

from homeguard.plugins.hookspecs import (
    EnricherSpec,
    EventSinkSpec,
    OutputContext,
    hookimpl,
)

__all__ = ["EnricherSpec", "EventSinkSpec", "OutputContext", "hookimpl"]
