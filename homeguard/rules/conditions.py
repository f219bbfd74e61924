"""Conditions: `field|modifier|...: value or [values]`, compiled once into predicates.

Semantics follow Sigma: a map of conditions means AND, a list of values means OR
(or AND with |all), strings compare case-insensitively unless |cased. A field that
holds a list (dns.answers) matches when any of its items does.
"""

from __future__ import annotations

import dataclasses
import difflib
import ipaddress
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from homeguard.rules.lists import IndicatorList
from homeguard.rules.regex import PatternError, compile_pattern

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
    cased: bool = False
    # The event test, built once by compile_condition for the shape of this condition.
    matches: Callable[[Mapping[str, Any]], bool] = dataclasses.field(default=lambda event: False, repr=False)

    def suffix_keys(self) -> frozenset[str] | None:
        """For `domain` and for `endswith` a dotted name (.example.com): the domain names
        whose subdomains match, so rules can be found by walking a name's parents."""
        if self.all_values or self.cased:
            return None
        if self.operator == "domain":
            return frozenset(str(v).lower().rstrip(".") for v in self.values)
        if self.operator == "endswith" and all(
            str(v).startswith(".") and len(str(v)) > 1 for v in self.values
        ):
            return frozenset(str(v).lower()[1:].rstrip(".") for v in self.values)
        return None

    def network_keys(self) -> frozenset[tuple[int, int, int]] | None:
        """For `cidr`: each network as (address bits, prefix length, prefix), so rules can
        be found by an address's prefixes rather than tried one by one."""
        if self.operator != "cidr" or self.all_values:
            return None
        return frozenset(network_prefix(str(value), self.text) for value in self.values)

    def bound(self) -> tuple[str, float] | None:
        """For a comparison with one number (flow.bytes_out|gt: 1000000): the operator
        and the number, so rules can be found by where an event's value falls."""
        if self.operator not in ("gt", "gte", "lt", "lte") or self.all_values or len(self.values) != 1:
            return None
        number = number_of(self.values[0])
        return None if number is None else (self.operator, number)

    def equality_keys(self) -> frozenset[str] | None:
        """For a case-insensitive equality on texts or numbers: the values as the engine's
        index compares them (see index_key). None when the condition cannot be indexed."""
        if self.operator != "eq" or self.all_values or self.cased:
            return None
        if any(isinstance(v, bool) for v in self.values):
            return None
        return frozenset(index_key(v) for v in self.values)


def index_key(value: Any) -> str:
    """How an indexed equality compares: numbers by value, text case-insensitively."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return repr(float(value))
    number = number_of(value) if isinstance(value, str) and value[:1].isdigit() else None
    return repr(number) if number is not None else str(value).lower()


def _event_test(condition: Condition) -> Callable[[Mapping[str, Any]], bool]:
    name = condition.field
    if condition.operator == "exists":
        wanted = bool(condition.values[0])
        return lambda event: (event.get(name) is not None) is wanted
    tests = condition.tests
    if condition.all_values:

        def all_of(event: Mapping[str, Any]) -> bool:
            value = event.get(name)
            if value is None:
                return False
            items = value if isinstance(value, list) else (value,)
            return all(any(test(item) for item in items) for test in tests)

        return all_of
    keys = condition.equality_keys()
    if keys is not None:  # equality: one set lookup instead of a test per value

        def equals(event: Mapping[str, Any]) -> bool:
            value = event.get(name)
            if value is None:
                return False
            if isinstance(value, list):
                return any(index_key(item) in keys for item in value)
            return index_key(value) in keys

        return equals
    if len(tests) == 1:
        test = tests[0]

        def one(event: Mapping[str, Any]) -> bool:
            value = event.get(name)
            if value is None:
                return False
            if isinstance(value, list):
                return any(test(item) for item in value)
            return test(value)

        return one

    def any_of(event: Mapping[str, Any]) -> bool:
        value = event.get(name)
        if value is None:
            return False
        items = value if isinstance(value, list) else (value,)
        return any(test(item) for test in tests for item in items)

    return any_of


def suggest(word: str, choices: Any) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def split_key(key: str, known_fields: frozenset[str]) -> tuple[str, str, bool, bool]:
    """'dns.query|endswith|cased' -> (field, operator, all, cased), or ConditionError."""
    name, *modifiers = key.split("|")
    if name not in known_fields:
        raise ConditionError(f"unknown field {name!r}{suggest(name, known_fields)}")
    operators = [m for m in modifiers if m in OPERATORS]
    for modifier in modifiers:
        if modifier not in MODIFIERS:
            raise ConditionError(f"unknown modifier {modifier!r}{suggest(modifier, MODIFIERS)}")
    if len(operators) > 1:
        raise ConditionError(f"{key!r} has two operators ({', '.join(operators)}); use one")
    return name, (operators[0] if operators else "eq"), "all" in modifiers, "cased" in modifiers


def compile_condition(
    key: str, raw: Any, known_fields: frozenset[str], lists: Mapping[str, IndicatorList], line: int = 0
) -> Condition:
    name, operator, all_values, cased = split_key(key, known_fields)
    values = tuple(raw) if isinstance(raw, list) else (raw,)
    if not values:
        raise ConditionError(f"{key!r} has an empty list of values")
    for value in values:
        if isinstance(value, dict | list) or value is None:
            raise ConditionError(f"{key!r}: {value!r} is not a single value")
    if operator == "exists":
        if len(values) != 1 or not isinstance(values[0], bool):
            raise ConditionError(f"{key!r} takes true or false")
        tests: tuple[Predicate, ...] = ()
    else:
        tests = tuple(_predicate(operator, value, cased, lists, key) for value in values)
    condition = Condition(key, name, operator, values, all_values, tests, line, cased)
    condition.matches = _event_test(condition)
    return condition


def number_of(value: Any) -> float | None:
    """A value as a number, as the comparisons read it; None for what is not one."""
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
            matches = compile_pattern(text, ignore_case=not cased)
        except PatternError as exc:
            raise ConditionError(f"{key!r}: {exc}") from exc
        return lambda item: matches(str(item))
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
        return lambda item: number_of(item) == target
    text = str(value)
    if cased:
        return lambda item: str(item) == text
    lowered = text.lower()
    return lambda item: str(item).lower() == lowered


def _compare(operator: str, value: Any, key: str) -> Predicate:
    target = number_of(value)
    if target is None:
        raise ConditionError(f"{key!r} compares numbers, and {value!r} is not one")
    if operator == "gt":
        return lambda item: (n := number_of(item)) is not None and n > target
    if operator == "gte":
        return lambda item: (n := number_of(item)) is not None and n >= target
    if operator == "lt":
        return lambda item: (n := number_of(item)) is not None and n < target
    return lambda item: (n := number_of(item)) is not None and n <= target


def network_prefix(text: str, key: str) -> tuple[int, int, int]:
    """A network as (address bits, prefix length, prefix): an address is in it when its
    number, shifted right by bits - length, equals the prefix."""
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError as exc:
        raise ConditionError(f"{key!r}: {text!r} is not a network such as 192.168.0.0/16") from exc
    shift = network.max_prefixlen - network.prefixlen
    return network.max_prefixlen, network.prefixlen, int(network.network_address) >> shift


def _in_network(text: str, key: str) -> Predicate:
    bits, length, prefix = network_prefix(text, key)
    family = socket.AF_INET if bits == 32 else socket.AF_INET6
    shift = bits - length

    def test(item: Any) -> bool:  # inet_pton: a C call, where ipaddress parses in Python
        try:
            packed = socket.inet_pton(family, str(item))
        except OSError:
            return False
        return int.from_bytes(packed, "big") >> shift == prefix

    return test
