"""Why a rule did or did not match an event, condition by condition."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeguard.rules.conditions import Condition
from homeguard.rules.model import Rule
from homeguard.rules.templates import text_of


def condition_line(condition: Condition, event: Mapping[str, Any]) -> str:
    ok = condition.matches(event)
    wanted = condition.values[0] if len(condition.values) == 1 else list(condition.values)
    have = event.get(condition.field)
    have_text = "(absent)" if have is None else repr(have)
    return f"{'yes' if ok else 'NO '}  {condition.text}: {wanted!r}  <- event has {have_text}"


def explain(rule: Rule, event: Mapping[str, Any]) -> list[str]:
    lines = []
    type_ok = event.get("type") in rule.when
    lines.append(
        f"{'yes' if type_ok else 'NO '}  when: {', '.join(rule.when)}  <- event type {event.get('type')!r}"
    )
    for label, sets in (("match", rule.match), ("unless", rule.unless)):
        for number, conditions in enumerate(sets, 1):
            heading = label if len(sets) == 1 else f"{label} (alternative {number} of {len(sets)})"
            lines.append(f"     {heading}: all of")
            lines += ["       " + condition_line(c, event) for c in conditions]
    matched = type_ok and rule.matches(event)
    if rule.threshold is not None:
        t = rule.threshold
        lines.append(
            f"     then threshold: {t.gte:g} within {t.window:g} s, grouped by "
            f"{', '.join(t.group_by) or 'nothing'}" + (f", distinct {t.distinct}" if t.distinct else "")
        )
    if rule.first_seen is not None:
        lines.append(f"     then first_seen: only new values of {', '.join(rule.first_seen.key)}")
    lines.append(f"=> {'MATCH' if matched else 'no match'}: {rule.id}")
    return lines


def failing_conditions(rule: Rule, event: Mapping[str, Any]) -> list[str]:
    """The conditions that kept the event from matching (or made `unless` veto it)."""
    if event.get("type") not in rule.when:
        return [f"when: {', '.join(rule.when)} (event type {event.get('type')!r})"]
    failed = [condition_line(c, event) for conds in rule.match for c in conds if not c.matches(event)]
    vetoes = [
        condition_line(c, event)
        for conds in rule.unless
        if all(c.matches(event) for c in conds)
        for c in conds
    ]
    return failed + [f"unless: {line}" for line in vetoes]


def event_text(event: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={text_of(v)}" for k, v in event.items() if k != "ts")
