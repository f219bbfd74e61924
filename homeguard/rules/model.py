"""A compiled rule: what it matches, what state it keeps, and what it says."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from homeguard.rules.conditions import Condition
from homeguard.rules.lists import IndicatorList

# Conditions in disjunctive form: a list of alternatives (OR), each a list of conditions (AND).
ConditionSets = list[list[Condition]]


@dataclass(slots=True)
class RuleError:
    """A problem in a rule or list file, where it is, and what to do about it."""

    path: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}: {self.message}"


@dataclass(slots=True, frozen=True)
class Threshold:
    group_by: tuple[str, ...]
    window: float
    gte: float
    distinct: str | None = None
    sum: str | None = None


@dataclass(slots=True, frozen=True)
class FirstSeen:
    key: tuple[str, ...]
    learn_for: float | None = None  # None: the household's learning period (learning_days)
    forget_after: float | None = None


@dataclass(slots=True, frozen=True)
class Suppress:
    key: tuple[str, ...]
    seconds: float


@dataclass(slots=True, frozen=True)
class Texts:
    title: str
    message: str
    remediation: str


@dataclass(slots=True)
class TestCase:
    line: int
    events: list[dict[str, Any]]
    expect: str | int  # "match", "no_match" or a number of findings
    message: str | None = None
    learning: bool = False
    name: str = ""


@dataclass(slots=True)
class Rule:
    id: str
    title: str
    severity: str
    category: str
    mode: str
    when: tuple[str, ...]
    match: ConditionSets
    unless: ConditionSets
    texts: dict[str, Texts]  # "en" and the translations
    path: str = ""
    line: int = 0
    threshold: Threshold | None = None
    first_seen: FirstSeen | None = None
    suppress: Suppress | None = None
    references: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    false_positives: list[str] = field(default_factory=list)
    tests: list[TestCase] = field(default_factory=list)
    test_lists: dict[str, list[str]] = field(default_factory=dict)
    # What match/unless said, as written, to compile again with test-only lists.
    raw_match: Any = None
    raw_unless: Any = None
    lists: Mapping[str, IndicatorList] = field(default_factory=dict)  # the lists it was compiled with

    def matches(self, event: Mapping[str, Any]) -> bool:
        if self.match and not any(all(c.matches(event) for c in conds) for conds in self.match):
            return False
        return not (self.unless and any(all(c.matches(event) for c in conds) for conds in self.unless))

    def conditions(self) -> list[Condition]:
        return [c for conds in (*self.match, *self.unless) for c in conds]

    @property
    def finding_key(self) -> tuple[str, ...]:
        """The fields that tell one finding of this rule from another, per device."""
        if self.suppress is not None:
            return self.suppress.key
        if self.threshold is not None:
            return self.threshold.group_by
        if self.first_seen is not None:
            return self.first_seen.key
        return ()
