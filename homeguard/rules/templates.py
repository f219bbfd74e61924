"""Messages with {field} placeholders, rendered from an event for a person to read.

A field a device chose (kind text in the catalog: its name, a DNS name, a banner...)
is shown in quotes, “like this”, so that a name can never read as HomeGuard's own
sentence; it was made safe where it entered (decode/text.py)."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

from homeguard.protocols.shipped import shipped_catalog

PLACEHOLDER = re.compile(r"\{([a-z0-9_.]+)\}")
THRESHOLD_FIELDS = frozenset({"threshold.count", "threshold.distinct", "threshold.sum", "threshold.window"})
UNKNOWN = "unknown"
# A push notification shows its title and about five lines of text on a phone before
# it cuts them off; shipped rules stay within these, rendered with typical values
# (tests/test_advice.py checks it; docs/rules.md says it).
TITLE_LIMIT = 60
MESSAGE_LIMIT = 250


def placeholders(text: str) -> list[str]:
    return PLACEHOLDER.findall(text)


QUOTE_OPEN, QUOTE_CLOSE = "\u201c", "\u201d"  # “ ”
NETWORK_KINDS = frozenset({"text", "list[text]"})


@functools.cache
def shipped_network_fields() -> frozenset[str]:
    """The fields whose values a device on the network chose."""
    return frozenset(f.name for f in shipped_catalog().fields if f.kind in NETWORK_KINDS)


def quoted(value: object) -> str:
    return f"{QUOTE_OPEN}{value}{QUOTE_CLOSE}"


def text_of(value: Any, from_network: bool = False) -> str:
    if value is None or value == "" or value == []:
        return UNKNOWN
    if isinstance(value, list):
        items = [quoted(v) if from_network else str(v) for v in value[:5]]
        return ", ".join(items) + (f" (+{len(value) - 5} more)" if len(value) > 5 else "")
    if from_network:
        return quoted(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


UNNAMED = {"en": "an unnamed device", "nl": "een apparaat zonder naam"}


def render(
    text: str, event: Mapping[str, Any], lang: str = "en", network_fields: frozenset[str] | None = None
) -> str:
    """Fill in every {field}; a field the event lacks reads 'unknown'. A device without a
    name reads as its maker and MAC, which is what a person can find on a label; when
    the text shows the maker and MAC itself, just as an unnamed device."""
    says_maker_and_mac = "{device.vendor}" in text and "{device.mac}" in text
    chosen = shipped_network_fields() if network_fields is None else network_fields

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "device.name" and not event.get(name):
            vendor = event.get("device.vendor")
            mac = event.get("device.mac") or event.get("src.mac")
            if says_maker_and_mac:
                return UNNAMED.get(lang, UNNAMED["en"])
            return f"{vendor} device {mac}" if vendor else f"device {mac or UNKNOWN}"
        return text_of(event.get(name), name in chosen)

    return PLACEHOLDER.sub(fill, text)
