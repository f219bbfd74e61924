"""Running the test cases embedded in rules (`tests:`), as `homeguard rules test` does."""

from __future__ import annotations

from dataclasses import dataclass

from homeguard.findings.model import Finding
from homeguard.rules.engine import RuleEngine
from homeguard.rules.explain import event_text, failing_conditions
from homeguard.rules.loader import RuleSet
from homeguard.rules.model import Rule, TestCase


@dataclass(slots=True)
class CaseResult:
    rule: Rule
    case: TestCase
    passed: bool
    detail: list[str]


def expected_text(case: TestCase) -> str:
    return f"{{findings: {case.expect}}}" if isinstance(case.expect, int) else str(case.expect)


def with_test_lists(rule: Rule) -> Rule:
    """The rule with its tests' list contents in place of the real lists of those names."""
    if not rule.test_lists:
        return rule
    from homeguard.rules.lists import list_from_entries
    from homeguard.rules.parser import RuleParser

    test_lists = {name: list_from_entries(name, entries) for name, entries in rule.test_lists.items()}
    parser = RuleParser(rule.path, {})
    return parser.compile_with_lists(rule, {**rule.lists, **test_lists})


def run_case(rule: Rule, case: TestCase) -> CaseResult:
    rule = with_test_lists(rule)
    findings: list[Finding] = []
    engine = RuleEngine(RuleSet(rules={rule.id: rule}), [findings.append], learning=case.learning)
    for event in case.events:
        engine(event)
    rows = {(f.device_mac, f.key) for f in findings}
    if case.expect == "match":
        passed, got = bool(findings), f"{len(findings)} finding(s)"
    elif case.expect == "no_match":
        passed, got = not findings, f"{len(findings)} finding(s)"
    else:
        passed, got = len(rows) == case.expect, f"{len(rows)} finding(s)"
    detail: list[str] = []
    if passed and case.message is not None:
        message = findings[0].messages["en"] if findings else "(no finding)"
        if message != case.message:
            passed = False
            detail += [f"expected message: {case.message}", f"rendered message: {message}"]
    if not passed and not detail:
        first = case.events[0]
        detail = [
            f"event: {event_text(first)}"
            + (f" (and {len(case.events) - 1} more)" if len(case.events) > 1 else ""),
            f"expected: {expected_text(case)}",
            f"happened: {got}",
        ]
        if case.expect != "no_match":
            detail += [f"failed: {line}" for line in failing_conditions(rule, first)]
    return CaseResult(rule, case, passed, detail)


def run_rule_tests(rule: Rule) -> list[CaseResult]:
    return [run_case(rule, case) for case in rule.tests]
