"""Messages with {field} placeholders, rendered from an event for a person to read."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

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


def text_of(value: Any) -> str:
    if value is None or value == "" or value == []:
        return UNKNOWN
    if isinstance(value, list):
        return ", ".join(map(str, value[:5])) + (f" (+{len(value) - 5} more)" if len(value) > 5 else "")
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


UNNAMED = {"en": "an unnamed device", "nl": "een apparaat zonder naam"}


def render(text: str, event: Mapping[str, Any], lang: str = "en") -> str:
    """Fill in every {field}; a field the event lacks reads 'unknown'. A device without a
    name reads as its maker and MAC, which is what a person can find on a label; when
    the text shows the maker and MAC itself, just as an unnamed device."""
    says_maker_and_mac = "{device.vendor}" in text and "{device.mac}" in text

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "device.name" and not event.get(name):
            vendor = event.get("device.vendor")
            mac = event.get("device.mac") or event.get("src.mac")
            if says_maker_and_mac:
                return UNNAMED.get(lang, UNNAMED["en"])
            return f"{vendor} device {mac}" if vendor else f"device {mac or UNKNOWN}"
        return text_of(event.get(name))

    return PLACEHOLDER.sub(fill, text)
