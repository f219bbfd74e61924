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


class ThresholdState:
    def __init__(self, threshold: Threshold) -> None:
        self.threshold = threshold
        self.groups: dict[Key, _Window] = {}

    def hit(self, event: Mapping[str, Any], ts: float) -> dict[str, Any] | None:
        """Count an event; return the threshold's figures when it is reached."""
        t = self.threshold
        group = key_of(event, t.group_by)
        window = self.groups.get(group)
        if window is None:
            make_room(self.groups, MAX_GROUPS)
            window = self.groups[group] = _Window()
        value = event.get(t.distinct or t.sum or "")
        self._add(window, ts, value)
        while window.events and (
            window.events[0][0] <= ts - t.window or len(window.events) > MAX_WINDOW_EVENTS
        ):
            self._remove(window)
        if t.distinct:
            measure = float(len(window.distinct))
        elif t.sum:
            measure = window.total
        else:
            measure = float(len(window.events))
        if measure < t.gte:
            return None
        del self.groups[group]  # start counting afresh: one finding per burst
        return {
            "threshold.count": len(window.events),
            "threshold.distinct": len(window.distinct),
            "threshold.sum": window.total,
            "threshold.window": f"{t.window:g} seconds",
        }

    def _add(self, window: _Window, ts: float, value: Any) -> None:
        window.events.append((ts, value))
        if self.threshold.distinct and value is not None:
            window.distinct[_hashable(value)] += 1
        if self.threshold.sum and isinstance(value, int | float):
            window.total += value

    def _remove(self, window: _Window) -> None:
        _ts, value = window.events.popleft()
        if self.threshold.distinct and value is not None:
            hashable = _hashable(value)
            window.distinct[hashable] -= 1
            if window.distinct[hashable] <= 0:
                del window.distinct[hashable]
        if self.threshold.sum and isinstance(value, int | float):
            window.total -= value


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
