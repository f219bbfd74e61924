"""The rule engine: rules compiled into dispatch by event type, run on every event,
producing findings. Rule state survives a reload for every rule id that stays."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from homeguard.events import Event
from homeguard.findings.model import ENDPOINT_FIELDS, Finding
from homeguard.rules.dispatch import TypeDispatch, signature
from homeguard.rules.loader import RuleSet
from homeguard.rules.model import Rule
from homeguard.rules.runtime import (
    FirstSeenState,
    FirstSeenStore,
    RuleRuntime,
    SharedWindows,
    SuppressState,
    ThresholdScreen,
    ThresholdState,
    key_of,
    key_text,
    threshold_screen,
)
from homeguard.rules.templates import render

FindingSink = Callable[[Finding], None]
MAX_EVIDENCE_ITEMS = 10


class RuleEngine:
    def __init__(
        self,
        ruleset: RuleSet,
        sinks: list[FindingSink] | None = None,
        store: FirstSeenStore | None = None,
        *,
        learning: bool = True,
    ) -> None:
        self.evaluation_seconds = 0.0  # time spent matching events against rules
        self.sinks: list[FindingSink] = sinks or []
        self.store = store
        self.learning = learning  # tests switch first-seen learning off
        self.runtimes: dict[str, RuleRuntime] = {}
        self.by_type: dict[str, TypeDispatch] = {}
        self.findings = 0
        # id of a dispatch entry's rule list -> its screen, or None (built when first used)
        self.screens: dict[int, ThresholdScreen | None] = {}
        self.on_rules: list[Callable[[], None]] = []  # told after the rules change (what is wanted)
        self.set_rules(ruleset)

    def set_rules(self, ruleset: RuleSet) -> None:
        """Swap in a new rule set; rules whose id and state settings stay keep their state."""
        runtimes: dict[str, RuleRuntime] = {}
        rules_by_type: dict[str, list[Rule]] = {}
        shared: dict[tuple[Any, ...], SharedWindows] = {}
        for rule in ruleset.rules.values():
            old = self.runtimes.get(rule.id)
            runtimes[rule.id] = self._runtime(rule, old, ruleset.learning_period, shared)
            for event_type in rule.when:
                rules_by_type.setdefault(event_type, []).append(rule)
        self.runtimes = runtimes
        self.by_type = {t: TypeDispatch.of(rules) for t, rules in rules_by_type.items()}
        self.screens = {}
        for follower in self.on_rules:
            follower()

    @property
    def event_types(self) -> frozenset[str]:
        """The event types some rule is about: the only ones the rules want built."""
        return frozenset(self.by_type)

    def _runtime(
        self,
        rule: Rule,
        old: RuleRuntime | None,
        learning_period: float,
        shared: dict[tuple[Any, ...], SharedWindows],
    ) -> RuleRuntime:
        runtime = RuleRuntime(rule)
        if rule.threshold is not None:
            same = old is not None and old.threshold is not None and old.rule.threshold == rule.threshold
            if same and old and old.threshold is not None:
                runtime.threshold = old.threshold
            else:  # rules that count the same events the same way share their windows
                t = rule.threshold
                counts = (rule.when, signature(rule), t.group_by, t.window, t.distinct, t.sum)
                windows = shared.setdefault(counts, SharedWindows(t))
                runtime.threshold = ThresholdState(t, windows)
        if rule.first_seen is not None:
            same = old is not None and old.first_seen is not None and old.rule.first_seen == rule.first_seen
            learn_for = rule.first_seen.learn_for
            learn_for = learning_period if learn_for is None else learn_for
            if same and old and old.first_seen is not None:
                runtime.first_seen = old.first_seen
                runtime.first_seen.learn_for = learn_for  # the household's period may have changed
            else:
                runtime.first_seen = FirstSeenState(
                    rule.id, rule.first_seen, self.store, learn_for, self.learning
                )
        if rule.suppress is not None:
            same = old is not None and old.suppress is not None and old.rule.suppress == rule.suppress
            runtime.suppress = old.suppress if same and old else SuppressState(rule.suppress.seconds)
        return runtime

    def __call__(self, event: Event) -> None:
        dispatch = self.by_type.get(event["type"])
        if dispatch is not None:
            started = time.perf_counter()  # a duration of work for the metrics, not a time of day
            for rules, matches in dispatch.candidates(event):
                if matches(event):
                    for rule in self._screened(rules, event) if len(rules) > 1 else rules:
                        self._matched(rule, event)
            self.evaluation_seconds += time.perf_counter() - started

    def _screened(self, rules: list[Rule], event: Event) -> list[Rule]:
        """Of rules that test the same conditions, those worth asking: all of them, unless
        they are threshold rules sharing a window that most of them have not reached."""
        key = id(rules)  # the list lives in self.by_type, as long as this cache
        if key not in self.screens:
            self.screens[key] = threshold_screen(rules, self.runtimes)
        screen = self.screens[key]
        return rules if screen is None else screen.due(event, float(event.get("ts", 0.0)))

    def _matched(self, rule: Rule, event: Event) -> None:
        runtime = self.runtimes[rule.id]
        ts = float(event.get("ts", 0.0))
        context: Mapping[str, Any] = event
        if runtime.threshold is not None:
            figures = runtime.threshold.hit(event, ts)
            if figures is None:
                return
            context = {**event, **figures}
        if runtime.first_seen is not None and not runtime.first_seen.is_new(event, ts):
            return
        finding = make_finding(rule, context, ts)
        if rule.mode != "alert" or (
            runtime.suppress is not None
            and not runtime.suppress.allows(f"{finding.device_mac}|{finding.key}", ts)
        ):
            finding.alert = False
        self.findings += 1
        for sink in self.sinks:
            sink(finding)


def make_finding(rule: Rule, event: Mapping[str, Any], ts: float) -> Finding:
    return Finding(
        rule=rule.id,
        title=rule.texts["en"].title,
        titles={lang: t.title for lang, t in rule.texts.items()},
        tags=tuple(rule.tags),
        device=render("{device.name}", event),
        suppress_for=rule.suppress.seconds if rule.suppress is not None else 0.0,
        category=rule.category,
        severity=rule.severity,
        ts=ts,
        device_mac=str(event.get("device.mac") or event.get("src.mac") or ""),
        device_ip=event.get("src.ip"),
        key=key_text(key_of(event, rule.finding_key)),
        messages={lang: render(t.message, event, lang) for lang, t in rule.texts.items()},
        remediations={lang: render(t.remediation, event, lang) for lang, t in rule.texts.items()},
        evidence=evidence(rule, event),
        endpoints={name: event[name] for name in ENDPOINT_FIELDS if event.get(name) is not None},
    )


def evidence(rule: Rule, event: Mapping[str, Any]) -> dict[str, Any]:
    """The fields the rule looked at: never a payload, never a password."""
    names = {c.field for c in rule.conditions()} | set(rule.finding_key)
    if rule.threshold is not None:
        names |= {n for n in (rule.threshold.distinct, rule.threshold.sum) if n}
        names |= {n for n in event if n.startswith("threshold.")}
    out: dict[str, Any] = {}
    for name in sorted(names):
        value = event.get(name)
        if value is None or ("password" in name and not isinstance(value, bool)):
            continue
        out[name] = value[:MAX_EVIDENCE_ITEMS] if isinstance(value, list) else value
    return out
