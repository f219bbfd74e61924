"""Which rules an event must be tried against, found without trying them all.

Per event type, rules are indexed by one condition each: an equality (dst.port: 23,
dns.qtype: TXT), a domain (dns.query|domain: example.com), a network
(dns.answer_ips|cidr: 10.0.0.0/8) or a comparison with a number (flow.bytes_out|gt:
1000000). An event looks up its own values in the indexes, and only the rules found
there, plus the rules that have no such condition, are evaluated, so the cost grows
with the rules that can match, not with all rules. The choice prefers fields with many
possible values, where the index saves the most. Rules that test the same conditions
(the same list at three severities, say) are tested once for all of them.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from homeguard.decode.addresses import ip_bytes
from homeguard.rules.conditions import Condition, index_key, number_of
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


def all_of(checks: list[Matcher]) -> Matcher:
    if len(checks) == 1:
        return checks[0]

    def every(event: Mapping[str, Any]) -> bool:
        for check in checks:  # noqa: SIM110 - a loop beats all() with a generator here
            if not check(event):
                return False
        return True

    return every


def any_of(alternatives: list[Matcher]) -> Matcher:
    if len(alternatives) == 1:
        return alternatives[0]

    def some(event: Mapping[str, Any]) -> bool:
        for alternative in alternatives:  # noqa: SIM110 - as in all_of
            if alternative(event):
                return True
        return False

    return some


def matcher(rule: Rule, tests: dict[tuple[Any, ...], Matcher]) -> Matcher:
    """The rule's match and unless as one callable of the shared tests (Rule.matches,
    without its generators)."""

    def group(conditions: list[Condition]) -> Matcher:
        return all_of([tests[condition_identity(c)] for c in conditions])

    match = any_of([group(conds) for conds in rule.match]) if rule.match else None
    if not rule.unless:
        return match or (lambda event: True)
    unless = any_of([group(conds) for conds in rule.unless])
    if match is None:
        return lambda event: not unless(event)
    return lambda event: match(event) and not unless(event)


HOW_ORDER = {"eq": 0, "suffix": 1, "network": 2, "bound": 3}  # the narrower first


def index_condition(rule: Rule) -> tuple[Condition, str] | None:
    """The condition to index the rule by, and how: "eq" (its values), "suffix"
    (domains), "network" (cidr) or "bound" (a comparison with one number)."""
    if len(rule.match) != 1:
        return None
    conditions = rule.match[0]
    candidates = [(c, "eq") for c in conditions if c.equality_keys() is not None]
    candidates += [(c, "suffix") for c in conditions if c.suffix_keys() is not None]
    candidates += [(c, "network") for c in conditions if c.network_keys() is not None]
    candidates += [(c, "bound") for c in conditions if c.bound() is not None]
    candidates.sort(key=lambda pair: (pair[0].field in FEW_VALUES, HOW_ORDER[pair[1]]))
    return candidates[0] if candidates else None


def parent_names(value: Any) -> list[str]:
    """a.b.example.com -> [a.b.example.com, b.example.com, example.com, com]"""
    name = str(value).lower().rstrip(".")
    names = [name]
    while "." in name:
        name = name.split(".", 1)[1]
        names.append(name)
    return names


def address_of(value: Any) -> tuple[int, int] | None:
    """An address as (bits, number), or None for anything that is not one."""
    raw = ip_bytes(value)
    return None if raw is None else (len(raw) * 8, int.from_bytes(raw, "big"))


def signature(rule: Rule) -> tuple[Any, ...]:
    """What a rule tests, whatever its id: rules with the same signature match the same
    events, so they are tested once for all of them."""
    return tuple(
        tuple(frozenset(condition_identity(c) for c in conds) for conds in groups)
        for groups in (rule.match, rule.unless)
    )


# Rules that test the same conditions, and that test.
Entry = tuple[list[Rule], Matcher]


@dataclass(slots=True)
class Bounds:
    """Entries by the number they compare with, sorted: an event's value finds the ones
    it passes by bisection (gt and gte above their number, lt and lte below it)."""

    above: dict[bool, tuple[list[float], list[Entry]]] = field(default_factory=dict)  # strict?
    below: dict[bool, tuple[list[float], list[Entry]]] = field(default_factory=dict)

    def add(self, operator: str, number: float, entry: Entry) -> None:
        table = self.above if operator in ("gt", "gte") else self.below
        numbers, entries = table.setdefault(operator in ("gt", "lt"), ([], []))
        at = bisect.bisect_left(numbers, number)
        numbers.insert(at, number)
        entries.insert(at, entry)

    def passed(self, number: float) -> list[Entry]:
        hits: list[Entry] = []
        for strict, (numbers, entries) in self.above.items():  # number > n (gt), >= n (gte)
            cut = (bisect.bisect_left if strict else bisect.bisect_right)(numbers, number)
            hits += entries[:cut]
        for strict, (numbers, entries) in self.below.items():  # number < n (lt), <= n (lte)
            cut = (bisect.bisect_right if strict else bisect.bisect_left)(numbers, number)
            hits += entries[cut:]
        return hits


@dataclass(slots=True)
class TypeDispatch:
    """The rules of one event type, as entries found through indexes on their fields."""

    always: list[Entry] = field(default_factory=list)
    index: dict[str, dict[str, list[Entry]]] = field(default_factory=dict)
    suffixes: dict[str, dict[str, list[Entry]]] = field(default_factory=dict)
    # field -> (address bits, prefix length) -> prefix -> entries
    networks: dict[str, dict[tuple[int, int], dict[int, list[Entry]]]] = field(default_factory=dict)
    bounds: dict[str, Bounds] = field(default_factory=dict)

    @classmethod
    def of(cls, rules: list[Rule]) -> TypeDispatch:
        dispatch = cls()
        tests = shared_tests(rules)
        alike: dict[tuple[Any, ...], list[Rule]] = {}
        for rule in rules:
            alike.setdefault(signature(rule), []).append(rule)
        for same in alike.values():
            dispatch.add((same, matcher(same[0], tests)))
        return dispatch

    def add(self, entry: Entry) -> None:
        chosen = index_condition(entry[0][0])
        if chosen is None:
            self.always.append(entry)
            return
        condition, how = chosen
        name = condition.field
        if how == "network":
            by_length = self.networks.setdefault(name, {})
            for bits, length, prefix in condition.network_keys() or ():
                by_length.setdefault((bits, length), {}).setdefault(prefix, []).append(entry)
            return
        if how == "bound":
            operator, number = condition.bound() or ("gt", 0.0)
            self.bounds.setdefault(name, Bounds()).add(operator, number, entry)
            return
        keys = condition.equality_keys() if how == "eq" else condition.suffix_keys()
        by_value = (self.index if how == "eq" else self.suffixes).setdefault(name, {})
        for key in keys or ():
            by_value.setdefault(key, []).append(entry)

    def candidates(self, event: Mapping[str, Any]) -> list[Entry]:
        """The entries that may match: those without an index, and those an index finds
        for the event's values (each once)."""
        hits: list[Entry] = []
        for name, by_value in self.index.items():
            value = event.get(name)
            if value is not None:
                for item in value if isinstance(value, list) else (value,):
                    hits += by_value.get(index_key(item), ())
        for name, by_suffix in self.suffixes.items():
            value = event.get(name)
            if value is not None:
                for item in value if isinstance(value, list) else (value,):
                    for parent in parent_names(item):
                        hits += by_suffix.get(parent, ())
        if self.networks:
            hits += self._by_network(event)
        for name, bounds in self.bounds.items():
            value = event.get(name)
            if value is not None:
                for item in value if isinstance(value, list) else (value,):
                    number = number_of(item)
                    if number is not None:
                        hits += bounds.passed(number)
        if not hits:
            return self.always
        if len(hits) > 1:
            # By the rules' list, not the tuple: compiled with mypyc, a tuple is boxed
            # anew each time it is read, so its id() does not name the entry.
            hits = list({id(entry[0]): entry for entry in hits}.values())
        return [*self.always, *hits]

    def _by_network(self, event: Mapping[str, Any]) -> list[Entry]:
        hits: list[Entry] = []
        for name, by_length in self.networks.items():
            value = event.get(name)
            if value is None:
                continue
            for item in value if isinstance(value, list) else (value,):
                address = address_of(item)
                if address is None:
                    continue
                bits, number = address
                for (family_bits, length), by_prefix in by_length.items():
                    if family_bits == bits:
                        hits += by_prefix.get(number >> (bits - length), ())
        return hits
