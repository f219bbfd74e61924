"""Which rules an event must be tried against, found without trying them all.

Per event type, rules are indexed by one equality condition each (dst.port: 23,
dns.qtype: TXT): an event looks up its own values in the index, and only the rules
found there, plus the rules that have no such condition, are evaluated. The choice
prefers fields with many possible values, where the index saves the most.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from homeguard.rules.conditions import Condition, index_key
from homeguard.rules.model import Rule

Matcher = Callable[[Mapping[str, Any]], bool]
# Fields with few values: indexing on them narrows little, so any other field goes first.
FEW_VALUES = frozenset(
    {
        "proto",
        "type",
        "dns.is_response",
        "dns.qtype",
        "dns.transport",
        "dns.rcode",
        "arp.op",
        "dhcp.message_type",
        "mdns.is_response",
        "ssdp.method",
        "flow.end_reason",
        "device.randomized",
    }
)


def condition_identity(condition: Condition) -> tuple[Any, ...]:
    return (condition.field, condition.operator, condition.values, condition.all_values, condition.cased)


def memoised(test: Matcher) -> Matcher:
    """A test that remembers its answer for the last event it saw: a condition several
    rules share is then evaluated once per event."""
    last: list[Any] = [None, False]

    def check(event: Mapping[str, Any]) -> bool:
        if event is last[0]:
            return bool(last[1])
        result = test(event)
        last[0], last[1] = event, result
        return result

    return check


def shared_tests(rules: list[Rule]) -> dict[tuple[Any, ...], Matcher]:
    """One test per distinct condition; memoised where more than one rule uses it."""
    uses: dict[tuple[Any, ...], list[Condition]] = {}
    for rule in rules:
        for condition in rule.conditions():
            uses.setdefault(condition_identity(condition), []).append(condition)
    return {
        identity: memoised(conds[0].matches) if len(conds) > 1 else conds[0].matches
        for identity, conds in uses.items()
    }


def matcher(rule: Rule, tests: dict[tuple[Any, ...], Matcher]) -> Matcher:
    """The rule's match/unless as one fast callable."""
    if len(rule.match) == 1 and not rule.unless:
        checks = [tests[condition_identity(c)] for c in rule.match[0]]

        def all_of(event: Mapping[str, Any]) -> bool:
            for check in checks:  # noqa: SIM110 - a loop beats all() with a generator here
                if not check(event):
                    return False
            return True

        return all_of
    return rule.matches


def index_condition(rule: Rule) -> tuple[Condition, str] | None:
    """The condition to index the rule by, and how: "eq" (its values) or "suffix" (domains)."""
    if len(rule.match) != 1:
        return None
    candidates = [(c, "eq") for c in rule.match[0] if c.equality_keys() is not None]
    candidates += [(c, "suffix") for c in rule.match[0] if c.suffix_keys() is not None]
    candidates.sort(key=lambda pair: (pair[0].field in FEW_VALUES, pair[1] == "suffix"))
    return candidates[0] if candidates else None


def parent_names(value: Any) -> list[str]:
    """a.b.example.com -> [a.b.example.com, b.example.com, example.com, com]"""
    name = str(value).lower().rstrip(".")
    names = [name]
    while "." in name:
        name = name.split(".", 1)[1]
        names.append(name)
    return names


@dataclass(slots=True)
class TypeDispatch:
    """The rules of one event type."""

    always: list[tuple[Rule, Matcher]] = field(default_factory=list)
    index: dict[str, dict[str, list[tuple[Rule, Matcher]]]] = field(default_factory=dict)
    suffixes: dict[str, dict[str, list[tuple[Rule, Matcher]]]] = field(default_factory=dict)

    @classmethod
    def of(cls, rules: list[Rule]) -> TypeDispatch:
        dispatch = cls()
        tests = shared_tests(rules)
        for rule in rules:
            dispatch.add(rule, matcher(rule, tests))
        return dispatch

    def add(self, rule: Rule, matches: Matcher) -> None:
        entry = (rule, matches)
        chosen = index_condition(rule)
        if chosen is None:
            self.always.append(entry)
            return
        condition, how = chosen
        keys = condition.equality_keys() if how == "eq" else condition.suffix_keys()
        table = self.index if how == "eq" else self.suffixes
        by_value = table.setdefault(condition.field, {})
        for key in keys or ():
            by_value.setdefault(key, []).append(entry)

    def candidates(self, event: Mapping[str, Any]) -> list[tuple[Rule, Matcher]]:
        found = self.always
        for name, by_value in self.index.items():
            value = event.get(name)
            if value is None:
                continue
            if isinstance(value, list):
                hits = [e for item in value for e in by_value.get(index_key(item), ())]
                hits = list({id(e[0]): e for e in hits}.values())
            else:
                hits = by_value.get(index_key(value), [])
            if hits:
                found = [*found, *hits]
        for name, by_suffix in self.suffixes.items():
            value = event.get(name)
            if value is None:
                continue
            items = value if isinstance(value, list) else (value,)
            hits = [e for item in items for parent in parent_names(item) for e in by_suffix.get(parent, ())]
            if hits:
                found = [*found, *{id(e[0]): e for e in hits}.values()]
        return found
