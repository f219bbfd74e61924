"""Conditions: `field|modifier|...: value or [values]`, compiled once into predicates.

Semantics follow Sigma: a map of conditions means AND, a list of values means OR
(or AND with |all), strings compare case-insensitively unless |cased. A field that
holds a list (dns.answers) matches when any of its items does.
"""

from __future__ import annotations

import difflib
import ipaddress
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from homeguard.rules.lists import IndicatorList

OPERATORS = (
    "contains",
    "startswith",
    "endswith",
    "re",
    "cidr",
    "gt",
    "gte",
    "lt",
    "lte",
    "exists",
    "in",
    "domain",
)
FLAGS = ("all", "cased")
MODIFIERS = OPERATORS + FLAGS
Predicate = Callable[[Any], bool]


class ConditionError(ValueError):
    """A condition that cannot compile; the message says why and how to fix it."""


@dataclass(slots=True)
class Condition:
    text: str  # as written: "dns.query|endswith"
    field: str
    operator: str  # "eq" or one of OPERATORS
    values: tuple[Any, ...]
    all_values: bool
    tests: tuple[Predicate, ...]
    line: int = 0

    def matches(self, event: Mapping[str, Any]) -> bool:
        value = event.get(self.field)
        if self.operator == "exists":
            return (value is not None) is bool(self.values[0])
        if value is None:
            return False
        items = value if isinstance(value, list) else (value,)
        if self.all_values:
            return all(any(test(item) for item in items) for test in self.tests)
        return any(test(item) for test in self.tests for item in items)


def suggest(word: str, choices: Any) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def split_key(key: str, known_fields: frozenset[str]) -> tuple[str, str, bool, bool]:
    """'dns.query|endswith|cased' -> (field, operator, all, cased), or ConditionError."""
    field, *modifiers = key.split("|")
    if field not in known_fields:
        raise ConditionError(f"unknown field {field!r}{suggest(field, known_fields)}")
    operators = [m for m in modifiers if m in OPERATORS]
    for modifier in modifiers:
        if modifier not in MODIFIERS:
            raise ConditionError(f"unknown modifier {modifier!r}{suggest(modifier, MODIFIERS)}")
    if len(operators) > 1:
        raise ConditionError(f"{key!r} has two operators ({', '.join(operators)}); use one")
    return field, (operators[0] if operators else "eq"), "all" in modifiers, "cased" in modifiers


def compile_condition(
    key: str, raw: Any, known_fields: frozenset[str], lists: Mapping[str, IndicatorList], line: int = 0
) -> Condition:
    field, operator, all_values, cased = split_key(key, known_fields)
    values = tuple(raw) if isinstance(raw, list) else (raw,)
    if not values:
        raise ConditionError(f"{key!r} has an empty list of values")
    for value in values:
        if isinstance(value, dict | list) or value is None:
            raise ConditionError(f"{key!r}: {value!r} is not a single value")
    if operator == "exists":
        if len(values) != 1 or not isinstance(values[0], bool):
            raise ConditionError(f"{key!r} takes true or false")
        return Condition(key, field, operator, values, False, (), line)
    tests = tuple(_predicate(operator, value, cased, lists, key) for value in values)
    return Condition(key, field, operator, values, all_values, tests, line)


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value))
    except ValueError:
        return None


def _predicate(
    operator: str, value: Any, cased: bool, lists: Mapping[str, IndicatorList], key: str
) -> Predicate:
    if operator == "eq":
        return _equals(value, cased)
    if operator in ("gt", "gte", "lt", "lte"):
        return _compare(operator, value, key)
    text = str(value)
    if operator == "re":
        try:
            pattern = re.compile(text, 0 if cased else re.IGNORECASE)
        except re.error as exc:
            raise ConditionError(f"{key!r}: bad regular expression {text!r}: {exc}") from exc
        return lambda item: pattern.search(str(item)) is not None
    if operator == "cidr":
        return _in_network(text, key)
    if operator == "in":
        if text not in lists:
            raise ConditionError(f"{key!r}: unknown list {text!r}{suggest(text, lists)}")
        indicators = lists[text]
        return lambda item: indicators.contains(str(item))
    if operator == "domain":
        domain = text.lower().rstrip(".")
        dotted = "." + domain
        return lambda item: (name := str(item).lower().rstrip(".")) == domain or name.endswith(dotted)
    needle = text if cased else text.lower()
    fold: Callable[[Any], str] = str if cased else (lambda item: str(item).lower())
    if operator == "contains":
        return lambda item: needle in fold(item)
    if operator == "startswith":
        return lambda item: fold(item).startswith(needle)
    return lambda item: fold(item).endswith(needle)  # endswith


def _equals(value: Any, cased: bool) -> Predicate:
    if isinstance(value, bool):
        return lambda item: item is value or str(item).lower() == str(value).lower()
    if isinstance(value, int | float):
        target = float(value)
        return lambda item: _number(item) == target
    text = str(value)
    if cased:
        return lambda item: str(item) == text
    lowered = text.lower()
    return lambda item: str(item).lower() == lowered


def _compare(operator: str, value: Any, key: str) -> Predicate:
    target = _number(value)
    if target is None:
        raise ConditionError(f"{key!r} compares numbers, and {value!r} is not one")
    if operator == "gt":
        return lambda item: (n := _number(item)) is not None and n > target
    if operator == "gte":
        return lambda item: (n := _number(item)) is not None and n >= target
    if operator == "lt":
        return lambda item: (n := _number(item)) is not None and n < target
    return lambda item: (n := _number(item)) is not None and n <= target


def _in_network(text: str, key: str) -> Predicate:
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError as exc:
        raise ConditionError(f"{key!r}: {text!r} is not a network such as 192.168.0.0/16") from exc

    def test(item: Any) -> bool:
        try:
            return ipaddress.ip_address(str(item)) in network
        except ValueError:
            return False

    return test
