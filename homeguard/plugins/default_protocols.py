"""Shipped plugin: every protocol HomeGuard reads (homeguard/protocols/)."""

from __future__ import annotations

from homeguard.plugins.hookspecs import hookimpl
from homeguard.protocols.shipped import SHIPPED
from homeguard.protocols.spec import ProtocolSpec


@hookimpl
def homeguard_analyzers() -> list[ProtocolSpec]:
    return list(SHIPPED)
