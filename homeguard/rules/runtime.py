"""The state rules keep between events: sliding threshold windows, first-seen keys and
suppression timers. All of it is bounded; the oldest entries go first."""

from __future__ import annotations

import json
from collections import Counter, deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from homeguard.bounded import make_room
from homeguard.rules.model import FirstSeen, Rule, Threshold

MAX_GROUPS = 10_000  # threshold groups per rule
MAX_WINDOW_EVENTS = 10_000  # events remembered per group
MAX_KEYS = 100_000  # first-seen keys and suppression timers per rule
KEY_SAVE_INTERVAL = 3600.0  # seconds between database updates of a key seen again
Key = tuple[Any, ...]


def key_of(event: Mapping[str, Any], fields: tuple[str, ...]) -> Key:
    return tuple(_hashable(event.get(name)) for name in fields)


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def key_text(key: Key) -> str:
    return json.dumps(list(key), default=str, separators=(",", ":")) if key else ""


class FirstSeenStore(Protocol):
    """Where first-seen keys and learning periods outlive a restart (the database)."""

    def load(self, rule_id: str) -> tuple[float | None, dict[str, float]]: ...

    def save_learning(self, rule_id: str, started: float) -> None: ...

    def save_key(self, rule_id: str, key: str, ts: float) -> None: ...


@dataclass(slots=True)
class _Window:
    events: deque[tuple[float, Any]] = field(default_factory=deque)
    distinct: Counter[Any] = field(default_factory=Counter)
    total: float = 0.0


class Windows:
    """Sliding windows of counted events, one per group (threshold.group_by)."""

    def __init__(self, threshold: Threshold) -> None:
        self.threshold = threshold
        self.groups: dict[Key, _Window] = {}

    def window(self, group: Key) -> _Window:
        window = self.groups.get(group)
        if window is None:
            make_room(self.groups, MAX_GROUPS)
            window = self.groups[group] = _Window()
        return window

    def add(self, window: _Window, ts: float, value: Any) -> None:
        window.events.append((ts, value))
        if self.threshold.distinct and value is not None:
            window.distinct[_hashable(value)] += 1
        if self.threshold.sum and isinstance(value, int | float):
            window.total += value
        self.expire(window, ts)

    def expire(self, window: _Window, ts: float) -> None:
        t = self.threshold
        events = window.events
        while events and (events[0][0] <= ts - t.window or len(events) > MAX_WINDOW_EVENTS):
            _ts, value = events.popleft()
            if t.distinct and value is not None:
                hashable = _hashable(value)
                window.distinct[hashable] -= 1
                if window.distinct[hashable] <= 0:
                    del window.distinct[hashable]
            if t.sum and isinstance(value, int | float):
                window.total -= value

    def measure(self, window: _Window) -> float:
        t = self.threshold
        if t.distinct:
            return float(len(window.distinct))
        if t.sum:
            return window.total
        return float(len(window.events))


class SharedWindows(Windows):
    """The windows of threshold rules that count the same events the same way and differ
    only in how many they need (the same scan at three severities, or a thousand rules
    generated from one template): each event is counted once for all of them."""

    def __init__(self, threshold: Threshold) -> None:
        super().__init__(threshold)
        self._last: tuple[Mapping[str, Any] | None, Key, _Window | None] = (None, (), None)

    def count(self, event: Mapping[str, Any], ts: float) -> tuple[Key, _Window]:
        """The event's group and its window, with the event in it (once, however many
        rules ask)."""
        last_event, last_group, last_window = self._last
        if event is last_event and last_window is not None:
            return last_group, last_window
        t = self.threshold
        group = key_of(event, t.group_by)
        window = self.window(group)
        self.add(window, ts, event.get(t.distinct or t.sum or ""))
        self._last = (event, group, window)
        return group, window


class ThresholdState:
    """One rule's threshold. Until the rule fires for a group it reads the shared window;
    then it counts afresh in a window of its own (one finding per burst), and goes back to
    the shared one when that holds nothing from before the firing any more and its own
    window is empty, so both would count the same."""

    def __init__(self, threshold: Threshold, shared: SharedWindows | None = None) -> None:
        self.threshold = threshold
        self.shared = shared or SharedWindows(threshold)
        self.own = Windows(threshold)  # the windows counted afresh after a firing
        self.fired: dict[Key, float] = {}  # group -> when the rule last fired for it

    def hit(self, event: Mapping[str, Any], ts: float) -> dict[str, Any] | None:
        """Count an event; return the threshold's figures when it is reached."""
        t = self.threshold
        group, window = self.shared.count(event, ts)
        counting: Windows = self.shared
        fired = self.fired.get(group)
        if fired is not None:
            own = self.own.window(group)
            self.own.expire(own, ts)
            if own.events or fired > ts - t.window:  # the shared window may hold older events
                self.own.add(own, ts, event.get(t.distinct or t.sum or ""))
                counting, window = self.own, own
            else:
                del self.fired[group], self.own.groups[group]
        if counting.measure(window) < t.gte:
            return None
        figures = {
            "threshold.count": len(window.events),
            "threshold.distinct": len(window.distinct),
            "threshold.sum": window.total,
            "threshold.window": f"{t.window:g} seconds",
        }
        make_room(self.fired, MAX_GROUPS)
        self.fired[group] = ts
        self.own.groups.pop(group, None)  # start counting afresh: one finding per burst
        self.own.window(group)
        return figures


class ThresholdScreen:
    """Threshold rules that test the same conditions and read one shared window (a
    thousand rules generated from one template, say): the event is counted once and
    measured once, and only the rules that the measure reaches, or that are counting
    afresh for this group after firing, are asked. The others would count nothing and
    return nothing, so skipping them changes nothing but the cost."""

    def __init__(self, shared: SharedWindows, members: list[tuple[Rule, ThresholdState]]) -> None:
        self.shared = shared
        self.members = [(rule, state.threshold.gte, state.fired) for rule, state in members]

    def due(self, event: Mapping[str, Any], ts: float) -> list[Rule]:
        """The rules to ask, in their order."""
        group, window = self.shared.count(event, ts)
        measure = self.shared.measure(window)
        return [rule for rule, gte, fired in self.members if gte <= measure or group in fired]


def threshold_screen(rules: list[Rule], runtimes: Mapping[str, RuleRuntime]) -> ThresholdScreen | None:
    """A screen for rules that all count in one shared window, else None."""
    members: list[tuple[Rule, ThresholdState]] = []
    for rule in rules:
        state = runtimes[rule.id].threshold
        if state is None or (members and state.shared is not members[0][1].shared):
            return None
        members.append((rule, state))
    return ThresholdScreen(members[0][1].shared, members) if len(members) > 1 else None


class FirstSeenState:
    def __init__(
        self,
        rule_id: str,
        first_seen: FirstSeen,
        store: FirstSeenStore | None,
        learn_for: float,
        learning: bool = True,
    ) -> None:
        self.rule_id = rule_id
        self.first_seen = first_seen
        self.learn_for = learn_for  # the rule's own, else the household's learning period
        self.store = store
        self.learning = learning
        started, keys = store.load(rule_id) if store is not None else (None, {})
        self.learning_started = started
        self.keys: dict[str, float] = keys

    def is_new(self, event: Mapping[str, Any], ts: float) -> bool:
        """Remember the event's key; True when it is new and learning is over."""
        fs = self.first_seen
        if self.learning_started is None:
            self.learning_started = ts
            if self.store is not None:
                self.store.save_learning(self.rule_id, ts)
        key = key_text(key_of(event, fs.key))
        last = self.keys.pop(key, None)
        new = last is None or (fs.forget_after is not None and ts - last > fs.forget_after)
        make_room(self.keys, MAX_KEYS)
        self.keys[key] = ts
        if self.store is not None and (last is None or ts - last > KEY_SAVE_INTERVAL):
            self.store.save_key(self.rule_id, key, ts)  # not on every sighting: spare the disk
        still_learning = self.learning and ts < self.learning_started + self.learn_for
        return new and not still_learning


class SuppressState:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.until: dict[str, float] = {}

    def allows(self, key: str, ts: float) -> bool:
        """True when an alert for key may go out now (and starts the quiet period)."""
        if self.until.get(key, 0.0) > ts:
            return False
        make_room(self.until, MAX_KEYS)
        self.until[key] = ts + self.seconds
        return True


@dataclass(slots=True)
class RuleRuntime:
    rule: Rule
    threshold: ThresholdState | None = None
    first_seen: FirstSeenState | None = None
    suppress: SuppressState | None = None
