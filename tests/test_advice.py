"""Every shipped rule tells the household what happened and what to do, in English and
Dutch, in words that fit a phone notification, with every {field} filled in."""

from __future__ import annotations

from typing import Any

import pytest

from homeguard.protocols.shipped import shipped_catalog
from homeguard.rules.loader import load_ruleset, shipped_rules_dir
from homeguard.rules.model import Rule
from homeguard.rules.templates import MESSAGE_LIMIT, TITLE_LIMIT, UNKNOWN, placeholders, render

RULES = load_ruleset([shipped_rules_dir()]).rules
# Typical values of each kind, on the long side, for the placeholders a test case lacks.
TYPICAL = {
    "str": "living-room-tv-2",
    "ip": "192.168.178.123",
    "mac": "3c:22:fb:12:34:56",
    "int": 65535,
    "float": 0.125,
    "bool": True,
    "list[str]": ["192.168.178.1", "192.168.178.2"],
    "list[int]": [1, 3, 6],
}
KINDS = {f.name: f.kind for f in shipped_catalog().fields}
THRESHOLD = {
    "threshold.count": 120,
    "threshold.distinct": 120,
    "threshold.sum": 123456,
    "threshold.window": "10m",
}


def typical_event(rule: Rule) -> dict[str, Any]:
    """The rule's first matching test event, with typical values for anything else it says."""
    event: dict[str, Any] = {}
    for text in rule.texts.values():
        for name in placeholders(text.message) + placeholders(text.remediation):
            event[name] = THRESHOLD.get(name, TYPICAL.get(KINDS.get(name, ""), "x"))
    matching = [case for case in rule.tests if case.expect != "no_match"]
    if matching:
        event.update({k: v for k, v in matching[0].events[0].items() if v not in (None, "")})
    return event


@pytest.mark.parametrize("rule", RULES.values(), ids=list(RULES))
def test_every_rule_speaks_english_and_dutch(rule: Rule) -> None:
    assert set(rule.texts) == {"en", "nl"}
    for lang, text in rule.texts.items():
        assert text.title and text.message and text.remediation, f"{lang} texts are incomplete"
    en, nl = rule.texts["en"], rule.texts["nl"]
    assert (en.title, en.message, en.remediation) != (nl.title, nl.message, nl.remediation)
    assert en.title != nl.title and en.message != nl.message and en.remediation != nl.remediation
    assert sorted(placeholders(en.message)) == sorted(placeholders(nl.message)), "both say the same facts"


@pytest.mark.parametrize("rule", RULES.values(), ids=list(RULES))
def test_every_placeholder_renders(rule: Rule) -> None:
    event = typical_event(rule)
    for lang, text in rule.texts.items():
        for part in (text.message, text.remediation):
            rendered = render(part, event)
            assert "{" not in rendered and UNKNOWN not in rendered, f"{lang}: {rendered}"
            for name in placeholders(part):
                assert name in KINDS or name in THRESHOLD, f"{name} is no event field"


@pytest.mark.parametrize("rule", RULES.values(), ids=list(RULES))
def test_every_message_fits_a_phone_notification(rule: Rule) -> None:
    event = typical_event(rule)
    for lang, text in rule.texts.items():
        assert len(text.title) <= TITLE_LIMIT, f"{lang} title: {len(text.title)} characters"
        message = render(text.message, event)
        assert len(message) <= MESSAGE_LIMIT, f"{lang} message: {len(message)} characters: {message}"


def test_the_limits_are_documented() -> None:
    from pathlib import Path

    doc = (Path(__file__).parent.parent / "docs" / "rules.md").read_text()
    assert f"{TITLE_LIMIT} characters" in doc and f"{MESSAGE_LIMIT} characters" in doc
