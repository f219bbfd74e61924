"""The JSON Schema of rule files, derived from the parser's own declarations, so that
editors check rules as they are typed. `python -m homeguard.docs` writes it to
rules/rule.schema.json; a test keeps it current and runs it over the shipped rules."""

from __future__ import annotations

from typing import Any

from homeguard.events.catalog import Catalog
from homeguard.rules.conditions import MODIFIERS
from homeguard.rules.taxonomy import CATEGORIES, LANGUAGES, MODES, SEVERITIES

DURATION = {
    "oneOf": [{"type": "number", "minimum": 0}, {"type": "string", "pattern": r"^\d+(\.\d+)?[smhdw]?$"}]
}
SCALAR = {"type": ["string", "number", "boolean"]}
CONDITION_KEY = r"^[a-z0-9_.]+(\|(" + "|".join(MODIFIERS) + "))*$"


def _strict(properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": list(required),
        "additionalProperties": False,
    }


def rule_json_schema(catalog: Catalog) -> dict[str, Any]:
    field = {"type": "string", "enum": sorted(catalog.names)}
    fields = {"oneOf": [field, {"type": "array", "items": field, "minItems": 1}]}
    event_types = list(catalog.event_types)
    conditions = {
        "type": "object",
        "propertyNames": {"pattern": CONDITION_KEY},
        "additionalProperties": {"oneOf": [SCALAR, {"type": "array", "items": SCALAR, "minItems": 1}]},
    }
    condition_sets = {"oneOf": [conditions, {"type": "array", "items": conditions, "minItems": 1}]}
    event = {"type": "object", "propertyNames": {"enum": sorted(catalog.names)}}
    case = _strict(
        {
            "name": {"type": "string"},
            "event": event,
            "events": {"type": "array", "items": event, "minItems": 1},
            "repeat": {"type": "integer", "minimum": 1},
            "every": DURATION,
            "vary": {
                "type": "object",
                "additionalProperties": {
                    "oneOf": [{"type": "array", "minItems": 1}, {"type": "string", "pattern": "\\{n\\}"}]
                },
            },
            "expect": {
                "oneOf": [
                    {"enum": ["match", "no_match"]},
                    _strict({"findings": {"type": "integer", "minimum": 0}}, ("findings",)),
                ]
            },
            "message": {"type": "string"},
            "learning": {"type": "boolean"},
        },
        ("expect",),
    )
    texts = _strict({k: {"type": "string", "minLength": 1} for k in ("title", "message", "remediation")})
    texts_list = {"type": "array", "items": {"type": "string"}}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "HomeGuard rule (format 1)",
        "description": "One detection rule. docs/rules.md explains every key.",
        **_strict(
            {
                "format": {"const": 1},
                "id": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]{1,63}$"},
                "title": {"type": "string", "minLength": 1},
                "severity": {"enum": list(SEVERITIES)},
                "category": {"enum": list(CATEGORIES)},
                "mode": {"enum": list(MODES)},
                "when": {
                    "oneOf": [
                        {"enum": event_types},
                        {"type": "array", "items": {"enum": event_types}, "minItems": 1},
                    ]
                },
                "match": condition_sets,
                "unless": condition_sets,
                "threshold": _strict(
                    {
                        "group_by": fields,
                        "window": DURATION,
                        "gte": {"type": "number", "minimum": 1},
                        "distinct": field,
                        "sum": field,
                    },
                    ("window", "gte"),
                ),
                "first_seen": _strict(
                    {"key": fields, "learn_for": DURATION, "forget_after": DURATION}, ("key",)
                ),
                # an empty suppress key means once per device
                "suppress": _strict(
                    {"key": {"oneOf": [field, {"type": "array", "items": field}]}, "for": DURATION}, ("for",)
                ),
                "message": {"type": "string", "minLength": 1},
                "remediation": {"type": "string", "minLength": 1},
                "i18n": _strict({lang: texts for lang in LANGUAGES}),
                "references": texts_list,
                "tags": texts_list,
                "false_positives": texts_list,
                "tests": {
                    "oneOf": [
                        {"type": "array", "items": case},
                        _strict(
                            {
                                "lists": {"type": "object", "additionalProperties": texts_list},
                                "cases": {"type": "array", "items": case},
                            },
                            ("cases",),
                        ),
                    ]
                },
            },
            ("format", "id", "title", "severity", "category", "when", "message", "remediation"),
        ),
    }
