"""Threshold rules that count the same events share one window per group
(rules/runtime.py SharedWindows), yet each fires exactly as if it counted alone: one
finding per burst, counting afresh after each. Checked against a plain model of one
rule's window on random streams."""

from __future__ import annotations

import random
from typing import Any

import pytest

from homeguard.rules.model import Rule, Threshold
from homeguard.rules.runtime import RuleRuntime, SharedWindows, ThresholdState, threshold_screen


class AloneModel:
    """One rule's window as the rule language defines it, the slow and obvious way."""

    def __init__(self, threshold: Threshold) -> None:
        self.t = threshold
        self.groups: dict[Any, list[tuple[float, Any]]] = {}

    def hit(self, event: dict[str, Any], ts: float) -> tuple[int, int, float] | None:
        t = self.t
        group = tuple(event.get(name) for name in t.group_by)
        window = self.groups.setdefault(group, [])
        window.append((ts, event.get(t.distinct or t.sum or "")))
        window[:] = [(when, value) for when, value in window if when > ts - t.window]
        distinct = len({value for _, value in window if value is not None})
        total = float(sum(value for _, value in window if isinstance(value, int | float))) if t.sum else 0.0
        measure = distinct if t.distinct else total if t.sum else len(window)
        if measure < t.gte:
            return None
        del self.groups[group]
        return len(window), distinct, total


@pytest.mark.parametrize("screened", [False, True])
@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("kind", ["distinct", "sum", "count"])
def test_rules_sharing_a_window_fire_as_if_each_counted_alone(seed: int, kind: str, screened: bool) -> None:
    """Screened: only the rules the engine's screen picks are asked (rules/engine.py), and
    the findings are still exactly those of each rule counting alone."""
    rng = random.Random(seed)
    window = rng.choice([5.0, 20.0])
    thresholds = [
        Threshold(
            group_by=("src.ip",),
            window=window,
            gte=gte,
            distinct="dst.port" if kind == "distinct" else None,
            sum="bytes" if kind == "sum" else None,
        )
        for gte in (3, 5, 8, 13)
    ]
    shared = SharedWindows(thresholds[0])
    rules = [ThresholdState(t, shared) for t in thresholds]
    models = [AloneModel(t) for t in thresholds]
    definitions = [
        Rule(f"r{n}", "", "low", "scan", "alert", ("flow_start",), [], [], {}, threshold=t)
        for n, t in enumerate(thresholds)
    ]
    screen = threshold_screen(
        definitions, {r.id: RuleRuntime(r, threshold=s) for r, s in zip(definitions, rules, strict=True)}
    )
    assert screen is not None
    ts = 0.0
    fired = 0
    for _ in range(3000):
        ts += rng.choice([0.0, 0.1, 0.5, 1.0, 3.0, 12.0])  # bursts, pauses, equal times
        event = {
            "src.ip": f"10.0.0.{rng.randint(1, 3)}",
            "dst.port": rng.randint(1, 12),
            "bytes": rng.randint(0, 4),
        }
        asked = {id(r) for r in screen.due(event, ts)} if screened else {id(r) for r in definitions}
        for definition, rule, model in zip(definitions, rules, models, strict=True):
            got = rule.hit(event, ts) if id(definition) in asked else None
            expected = model.hit(event, ts)
            assert (got is None) == (expected is None), (ts, event, rule.threshold.gte)
            if got is not None and expected is not None:
                fired += 1
                figures = (got["threshold.count"], got["threshold.distinct"], got["threshold.sum"])
                assert figures[0] == expected[0] and figures[2] == expected[2]
                if kind == "distinct":
                    assert figures[1] == expected[1]
    assert fired > 20  # the streams do reach the thresholds, again and again
