"""Reading rule files (format 1) strictly: every error is reported at once, each with
file:line:col, a plain reason, and a did-you-mean where one helps."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import yaml

from homeguard.events.catalog import Catalog
from homeguard.protocols.shipped import shipped_catalog
from homeguard.rules.conditions import ConditionError, compile_condition, suggest
from homeguard.rules.durations import parse_duration
from homeguard.rules.lists import IndicatorList
from homeguard.rules.model import (
    ConditionSets,
    FirstSeen,
    Rule,
    RuleError,
    Suppress,
    TestCase,
    Texts,
    Threshold,
)
from homeguard.rules.taxonomy import CATEGORIES, LANGUAGES, MODES, SEVERITIES
from homeguard.rules.templates import THRESHOLD_FIELDS, placeholders
from homeguard.safe_yaml import SAFE_LOADER

FORMAT = 1
RULE_KEYS = (
    "format",
    "id",
    "title",
    "severity",
    "category",
    "mode",
    "when",
    "match",
    "unless",
    "threshold",
    "first_seen",
    "suppress",
    "message",
    "remediation",
    "i18n",
    "references",
    "tags",
    "false_positives",
    "tests",
)
REQUIRED = ("format", "id", "title", "severity", "category", "when", "message", "remediation")
THRESHOLD_KEYS = ("group_by", "window", "gte", "distinct", "sum")
FIRST_SEEN_KEYS = ("key", "learn_for", "forget_after")
SUPPRESS_KEYS = ("key", "for")
I18N_KEYS = ("title", "message", "remediation")
TESTS_KEYS = ("lists", "cases")
CASE_KEYS = ("name", "event", "events", "repeat", "every", "vary", "expect", "message", "learning")
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{1,63}$")
TEST_START = 1_700_000_000.0
MAX_CASE_EVENTS = 100_000


Entry = tuple[yaml.Node, yaml.Node]  # a key's node and its value's node


def node_value(node: yaml.Node) -> Any:
    constructor: Any = yaml.constructor.SafeConstructor()
    return constructor.construct_object(node, deep=True)


class RuleParser:
    """Parses the rules of one file. Errors collect in `errors`; good rules are returned."""

    def __init__(self, path: str, lists: Mapping[str, IndicatorList], catalog: Catalog | None = None) -> None:
        self.path = path
        self.lists = lists
        self.catalog = catalog or shipped_catalog()  # with the plugins' fields, when the app passes it
        self.known_fields = self.catalog.names
        self.errors: list[RuleError] = []

    def error(self, node: yaml.Node | None, message: str) -> None:
        line, column = (node.start_mark.line + 1, node.start_mark.column + 1) if node else (1, 1)
        self.errors.append(RuleError(self.path, line, column, message))

    def parse_text(self, text: str) -> list[Rule]:
        try:  # libyaml's parser, several times faster: a thousand rules load in a moment
            documents = list(yaml.compose_all(text, Loader=SAFE_LOADER))
        except yaml.YAMLError:
            try:  # the Python parser's words and places for what is wrong, as the docs show
                documents = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
            except yaml.YAMLError as exc:
                self.errors.append(self.yaml_error(exc))
                return []
        rules = []
        for document in documents:
            if document is None:
                continue
            rule = self.parse_rule(document)
            if rule is not None:
                rules.append(rule)
        return rules

    def yaml_error(self, exc: yaml.YAMLError) -> RuleError:
        """Point at where the broken construct starts (an unclosed quote's first line),
        not where the parser gave up, which may be the end of the file."""
        problem_mark = getattr(exc, "problem_mark", None)
        context_mark = getattr(exc, "context_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        mark = context_mark or problem_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        message = f"not valid YAML: {problem}"
        context = getattr(exc, "context", None)
        if context_mark is not None and context:
            message = f"not valid YAML: {context} that starts here: {problem}"
            if problem_mark is not None:
                message += f" (at line {problem_mark.line + 1})"
        return RuleError(self.path, line, col, message)

    # -- helpers ---------------------------------------------------------------

    def mapping(self, node: yaml.Node, allowed: tuple[str, ...], what: str) -> dict[str, Entry]:
        if not isinstance(node, yaml.MappingNode):
            self.error(node, f"{what} must be a mapping of 'key: value' lines")
            return {}
        out: dict[str, Entry] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key not in allowed:
                self.error(key_node, f"unknown key {key!r} in {what}{suggest(key, allowed)}")
            elif key in out:
                self.error(key_node, f"{key!r} appears twice in {what}")
            else:
                out[key] = (key_node, value_node)
        return out

    def text(self, entry: Entry | None, what: str) -> str:
        if entry is None:
            return ""
        value = node_value(entry[1])
        if not isinstance(value, str) or not value.strip():
            self.error(entry[1], f"{what} must be a non-empty text")
            return ""
        return value.strip()

    def choice(self, entry: Entry | None, choices: Any, what: str) -> str:
        if entry is None:
            return ""
        value = node_value(entry[1])
        if value not in choices:
            hint = suggest(str(value), choices)
            if len(choices) > 6:
                self.error(entry[1], f"{what} {value!r} is unknown{hint} (all of them: docs/rules.md)")
            else:
                self.error(entry[1], f"{what} {value!r} is not one of: {', '.join(choices)}{hint}")
            return ""
        return str(value)

    def duration(self, entry: Entry | None, what: str) -> float | None:
        if entry is None:
            return None
        try:
            return parse_duration(node_value(entry[1]))
        except ValueError as exc:
            self.error(entry[1], f"{what}: {exc}")
            return None

    def fields(self, entry: Entry | None, what: str) -> tuple[str, ...]:
        if entry is None:
            return ()
        value = node_value(entry[1])
        names = value if isinstance(value, list) else [value]
        for name in names:
            if not isinstance(name, str) or name not in self.known_fields:
                self.error(entry[1], f"{what}: unknown field {name!r}{suggest(str(name), self.known_fields)}")
                return ()
        return tuple(names)

    def string_list(self, entry: Entry | None, what: str) -> list[str]:
        if entry is None:
            return []
        value = node_value(entry[1])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.error(entry[1], f"{what} must be a list of texts")
            return []
        return value

    # -- the rule ---------------------------------------------------------------

    def parse_rule(self, node: yaml.Node) -> Rule | None:
        before = len(self.errors)
        keys = self.mapping(node, RULE_KEYS, "a rule")
        for name in REQUIRED:
            if name not in keys and isinstance(node, yaml.MappingNode):
                self.error(node, f"the rule has no {name!r}")
        if "format" in keys and node_value(keys["format"][1]) != FORMAT:
            self.error(keys["format"][1], f"format must be {FORMAT} (the only version there is)")
        rule_id = self.text(keys.get("id"), "id")
        if rule_id and not ID_PATTERN.match(rule_id):
            self.error(keys["id"][1], f"id {rule_id!r} must be a slug: lower-case letters, digits and dashes")
        when = self.event_types(keys.get("when"))
        test_lists = self.test_lists(keys.get("tests"))
        lists = self.lists
        rule = Rule(
            id=rule_id,
            title=self.text(keys.get("title"), "title"),
            severity=self.choice(keys.get("severity"), SEVERITIES, "severity"),
            category=self.choice(keys.get("category"), CATEGORIES, "category"),
            mode=self.choice(keys.get("mode"), MODES, "mode") if "mode" in keys else "alert",
            when=when,
            match=self.condition_sets(keys.get("match"), "match", when, lists),
            unless=self.condition_sets(keys.get("unless"), "unless", when, lists),
            texts=self.texts(keys),
            path=self.path,
            line=node.start_mark.line + 1,
            threshold=self.threshold(keys.get("threshold")),
            first_seen=self.first_seen(keys.get("first_seen")),
            suppress=self.suppress(keys.get("suppress")),
            references=self.string_list(keys.get("references"), "references"),
            tags=self.string_list(keys.get("tags"), "tags"),
            false_positives=self.string_list(keys.get("false_positives"), "false_positives"),
            test_lists=test_lists,
            raw_match=node_value(keys["match"][1]) if "match" in keys else None,
            raw_unless=node_value(keys["unless"][1]) if "unless" in keys else None,
            lists=self.lists,
        )
        rule.tests = self.test_cases(keys.get("tests"), rule)
        return rule if len(self.errors) == before else None

    def event_types(self, entry: Entry | None) -> tuple[str, ...]:
        if entry is None:
            return ()
        value = node_value(entry[1])
        names = value if isinstance(value, list) else [value]
        for name in names:
            if name not in self.catalog.event_types:
                hint = suggest(str(name), self.catalog.event_types)
                self.error(entry[1], f"when: unknown event type {name!r}{hint}")
                return ()
        return tuple(names)

    def compile_with_lists(self, rule: Rule, lists: Mapping[str, IndicatorList]) -> Rule:
        """A copy of the rule whose conditions use these lists (a rule's test-only lists)."""
        from dataclasses import replace

        return replace(
            rule,
            match=self.sets_from_values(rule.raw_match, lists),
            unless=self.sets_from_values(rule.raw_unless, lists),
        )

    def sets_from_values(self, raw: Any, lists: Mapping[str, IndicatorList]) -> ConditionSets:
        if raw is None:
            return []
        alternatives = raw if isinstance(raw, list) else [raw]
        return [
            [compile_condition(str(k), v, self.known_fields, lists) for k, v in alt.items()]
            for alt in alternatives
        ]

    def condition_sets(
        self, entry: Entry | None, what: str, when: tuple[str, ...], lists: Mapping[str, IndicatorList]
    ) -> ConditionSets:
        if entry is None:
            return []
        node = entry[1]
        alternatives = node.value if isinstance(node, yaml.SequenceNode) else [node]
        sets: ConditionSets = []
        for alternative in alternatives:
            if not isinstance(alternative, yaml.MappingNode):
                self.error(
                    alternative,
                    f"{what} must be a mapping of 'field|modifier: value' lines, or a list of such mappings",
                )
                continue
            conditions = []
            # One mapping must fit every event type of `when`; in a list of alternatives,
            # each must fit at least one (DNS names in one, TLS names in another).
            fit_types = when if len(alternatives) == 1 else self.types_of(alternative, when)
            for key_node, value_node in alternative.value:
                try:
                    condition = compile_condition(
                        str(key_node.value),
                        node_value(value_node),
                        self.known_fields,
                        lists,
                        key_node.start_mark.line + 1,
                    )
                except ConditionError as exc:
                    self.error(key_node, f"{what}: {exc}")
                    continue
                self.check_field_in_types(key_node, condition.field, fit_types)
                conditions.append(condition)
            sets.append(conditions)
        return sets

    def types_of(self, alternative: yaml.MappingNode, when: tuple[str, ...]) -> tuple[str, ...]:
        """The `when` types an alternative's fields can all appear in (all of `when`
        when there is none: the per-field errors then say which field is the misfit)."""
        types = set(when)
        for key_node, _ in alternative.value:
            name = str(key_node.value).split("|", 1)[0]
            spec = self.catalog.by_name.get(name)
            if spec is not None:
                types &= set(spec.event_types)
        return tuple(t for t in when if t in types) or when

    def check_field_in_types(self, node: yaml.Node, name: str, when: tuple[str, ...]) -> None:
        spec = self.catalog.by_name.get(name)
        if spec is None or not when:
            return
        missing = [t for t in when if t not in spec.event_types]
        if missing:
            self.error(
                node,
                f"field {name!r} never appears in {', '.join(missing)} events "
                f"(it is in: {', '.join(spec.event_types)})",
            )

    def texts(self, keys: dict[str, Entry]) -> dict[str, Texts]:
        english = Texts(
            self.text(keys.get("title"), "title"),
            self.text(keys.get("message"), "message"),
            self.text(keys.get("remediation"), "remediation"),
        )
        texts = {"en": english}
        self.check_placeholders(keys.get("message"))
        self.check_placeholders(keys.get("remediation"))
        entry = keys.get("i18n")
        if entry is None:
            return texts
        languages = self.mapping(entry[1], LANGUAGES, "i18n")
        for language, (_key, node) in languages.items():
            parts = self.mapping(node, I18N_KEYS, f"i18n.{language}")
            for part in parts.values():
                self.check_placeholders(part)
            texts[language] = Texts(
                *(
                    self.text(parts.get(part), f"i18n.{language}.{part}") if part in parts else fallback
                    for part, fallback in zip(
                        I18N_KEYS, (english.title, english.message, english.remediation), strict=True
                    )
                )
            )
        return texts

    def check_placeholders(self, entry: Entry | None) -> None:
        if entry is None or not isinstance(entry[1].value, str):
            return
        for name in placeholders(entry[1].value):
            if name not in self.known_fields and name not in THRESHOLD_FIELDS:
                hint = suggest(name, self.known_fields | THRESHOLD_FIELDS)
                self.error(entry[1], f"{{{name}}} is not a field{hint}")

    def threshold(self, entry: Entry | None) -> Threshold | None:
        if entry is None:
            return None
        keys = self.mapping(entry[1], THRESHOLD_KEYS, "threshold")
        window = self.duration(keys.get("window"), "threshold.window")
        gte = node_value(keys["gte"][1]) if "gte" in keys else None
        if not isinstance(gte, int | float) or isinstance(gte, bool) or gte < 1:
            self.error(entry[1], "threshold needs gte: a number of at least 1")
            return None
        if window is None or window <= 0:
            self.error(entry[1], "threshold needs a window, such as 60s or 10m")
            return None
        distinct = self.fields(keys.get("distinct"), "threshold.distinct")
        summed = self.fields(keys.get("sum"), "threshold.sum")
        if distinct and summed:
            self.error(entry[1], "threshold takes distinct or sum, not both")
        return Threshold(
            self.fields(keys.get("group_by"), "threshold.group_by"),
            window,
            float(gte),
            distinct[0] if distinct else None,
            summed[0] if summed else None,
        )

    def first_seen(self, entry: Entry | None) -> FirstSeen | None:
        if entry is None:
            return None
        keys = self.mapping(entry[1], FIRST_SEEN_KEYS, "first_seen")
        key = self.fields(keys.get("key"), "first_seen.key")
        if not key:
            self.error(entry[1], "first_seen needs a key: the field(s) whose new values count")
            return None
        learn_for = self.duration(keys.get("learn_for"), "first_seen.learn_for")
        forget_after = self.duration(keys.get("forget_after"), "first_seen.forget_after")
        return FirstSeen(key, learn_for, forget_after)

    def suppress(self, entry: Entry | None) -> Suppress | None:
        if entry is None:
            return None
        keys = self.mapping(entry[1], SUPPRESS_KEYS, "suppress")
        seconds = self.duration(keys.get("for"), "suppress.for")
        if seconds is None:
            self.error(entry[1], "suppress needs for: how long, such as 1h or 1d")
            return None
        return Suppress(self.fields(keys.get("key"), "suppress.key"), seconds)

    # -- embedded tests ----------------------------------------------------------

    def test_lists(self, entry: Entry | None) -> dict[str, list[str]]:
        if entry is None or not isinstance(entry[1], yaml.MappingNode):
            return {}
        keys = self.mapping(entry[1], TESTS_KEYS, "tests")
        if "lists" not in keys:
            return {}
        value = node_value(keys["lists"][1])
        if not isinstance(value, dict) or not all(isinstance(v, list) for v in value.values()):
            self.error(keys["lists"][1], "tests.lists must map list names to lists of entries")
            return {}
        return {str(name): [str(e) for e in entries] for name, entries in value.items()}

    def test_cases(self, entry: Entry | None, rule: Rule) -> list[TestCase]:
        if entry is None:
            return []
        node = entry[1]
        if isinstance(node, yaml.MappingNode):
            keys = {str(k.value): v for k, v in node.value}
            cases = keys.get("cases")
            if cases is None:
                self.error(entry[1], "tests has no cases")
                return []
            node = cases
        if not isinstance(node, yaml.SequenceNode):
            self.error(node, "tests must be a list of cases (or lists: and cases:)")
            return []
        return [case for case_node in node.value if (case := self.test_case(case_node, rule)) is not None]

    def test_case(self, node: yaml.Node, rule: Rule) -> TestCase | None:
        before = len(self.errors)
        keys = self.mapping(node, CASE_KEYS, "a test case")
        if ("event" in keys) == ("events" in keys):
            self.error(node, "a test case needs either event: or events:")
            return None
        raw = node_value(keys["event"][1]) if "event" in keys else node_value(keys["events"][1])
        base = raw if isinstance(raw, list) else [raw]
        if not all(isinstance(e, dict) for e in base):
            self.error(node, "test events must be mappings of field: value")
            return None
        for event in base:
            for name in event:
                if name not in self.known_fields:
                    hint = suggest(str(name), self.known_fields)
                    self.error(node, f"test event: unknown field {name!r}{hint}")
        expect = node_value(keys["expect"][1]) if "expect" in keys else None
        if isinstance(expect, dict) and set(expect) == {"findings"} and isinstance(expect["findings"], int):
            expect = expect["findings"]
        elif expect not in ("match", "no_match"):
            self.error(
                keys["expect"][1] if "expect" in keys else node,
                "expect must be match, no_match or {findings: N}",
            )
            return None
        events = self.expand_events(keys, base, rule)
        message = node_value(keys["message"][1]) if "message" in keys else None
        learning = bool(node_value(keys["learning"][1])) if "learning" in keys else False
        name = str(node_value(keys["name"][1])) if "name" in keys else ""
        if len(self.errors) != before:
            return None
        return TestCase(node.start_mark.line + 1, events, expect, message, learning, name)

    def expand_events(
        self, keys: dict[str, Entry], base: list[dict[str, Any]], rule: Rule
    ) -> list[dict[str, Any]]:
        repeat = node_value(keys["repeat"][1]) if "repeat" in keys else 1
        if not isinstance(repeat, int) or not 1 <= repeat <= MAX_CASE_EVENTS:
            self.error(keys["repeat"][1], f"repeat must be a whole number from 1 to {MAX_CASE_EVENTS}")
            repeat = 1
        every = self.duration(keys.get("every"), "every") if "every" in keys else 1.0
        vary = node_value(keys["vary"][1]) if "vary" in keys else {}
        if not isinstance(vary, dict) or not all(
            (isinstance(v, list) and v) or (isinstance(v, str) and "{n}" in v) for v in vary.values()
        ):
            self.error(
                keys["vary"][1],
                "vary must map fields to non-empty lists of values, or to a text with {n} "
                "(the repeat's number, from 1), such as '192.168.1.{n}'",
            )
            vary = {}
        events: list[dict[str, Any]] = []
        for i in range(repeat):
            for event in base:
                made = {"type": rule.when[0] if rule.when else "", **event}
                for name, values in vary.items():
                    made[name] = varied(values, i)
                made.setdefault("ts", TEST_START + len(events) * (every or 1.0))
                events.append(made)
        return events


def varied(values: list[Any] | str, i: int) -> Any:
    """The value of a `vary` field in repeat i (from 0): the list's items in turn, or the
    text with {n} replaced by i + 1 (a number when the text is only "{n}")."""
    if isinstance(values, str):
        return i + 1 if values == "{n}" else values.replace("{n}", str(i + 1))
    return values[i % len(values)]
