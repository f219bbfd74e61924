"""`homeguard rules check` on deliberately broken rules: every error, at its file:line:col.
The samples live in tests/samples/broken-rules/, one kind of mistake each."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import homeguard

SAMPLES = Path(__file__).parent / "samples" / "broken-rules"
EXPECTED = [
    "not-yaml.yml:3:8: not valid YAML: while scanning a quoted scalar that starts here: "
    "found unexpected end of stream (at line 5)",
    "slow-regex.yml:8:3: match: 'dns.query|re': '^(a+)+$': a repetition inside a repetition, such as (a+)+, "
    "can take exponential time on a name a device chooses; write it without the outer one, such as a+",
    "slow-regex.yml:10:3: unless: 'dns.query|re': '(ab)\\\\1': backreferences are not supported "
    "(patterns run in linear time)",
    "two-rules.yml:22:3: match: 'dns.query|in': unknown list 'trakers'; did you mean 'trackers'?",
    "two-rules.yml:23:3: match: 'dst.port|gt' compares numbers, and 'many' is not one",
    "two-rules.yml:25:3: threshold needs gte: a number of at least 1",
    "two-rules.yml:25:11: threshold.window: '1 fortnight' is not a duration; "
    "write it like 30s, 10m, 1h, 7d or 2w",
    "two-rules.yml:30:13: expect must be match, no_match or {findings: N}",
    "typos.yml:2:5: id 'Bad_ID' must be a slug: lower-case letters, digits and dashes",
    "typos.yml:4:11: severity 'urgent' is not one of: info, low, medium, high, critical",
    "typos.yml:5:11: category 'privacy.trackers' is unknown; did you mean 'privacy.tracker'? "
    "(all of them: docs/rules.md)",
    "typos.yml:6:7: when: unknown event type 'dnss'; did you mean 'dns'?",
    "typos.yml:8:3: match: unknown field 'dns.qeury'; did you mean 'dns.query'?",
    "typos.yml:9:3: match: unknown modifier 'contians'; did you mean 'contains'?",
    "typos.yml:10:10: {dns.qurey} is not a field; did you mean 'dns.query'?",
    "typos.yml:12:1: unknown key 'colour' in a rule",
]
SKIPPED_LIST_LINES = [
    "lists/trackers.txt:4: skipped '@@||allowed.example^': adblock exceptions are not supported",
    "lists/trackers.txt:5: skipped '||ads.example^$third-party': adblock $options are not supported",
    "lists/trackers.txt:6: skipped '*.wild.example': wildcards are not supported",
    "lists/trackers.txt:7: skipped 'com': a bare top-level domain would match too much",
    "lists/trackers.txt:8: skipped '<html>': HTML, not a list entry",
]


def test_every_error_is_reported_at_once_with_its_place() -> None:
    done = homeguard("rules", "check", str(SAMPLES), check=False)
    assert done.returncode == 1
    errors = [
        line.removeprefix(f"{SAMPLES}/")
        for line in done.stdout.splitlines()
        if not line.startswith("warning")
    ]
    assert errors == EXPECTED


def test_unusable_list_lines_are_reported_with_file_and_line() -> None:
    done = homeguard("rules", "check", str(SAMPLES), check=False)
    warnings = [
        line.removeprefix(f"warning: {SAMPLES}/")
        for line in done.stdout.splitlines()
        if line.startswith("warning")
    ]
    assert warnings == SKIPPED_LIST_LINES


def test_the_good_rule_beside_a_broken_one_still_loads() -> None:
    done = homeguard("rules", "test", str(SAMPLES / "two-rules.yml"), check=False)
    assert done.returncode == 1  # the file has errors
    results = [line for line in done.stdout.splitlines() if not line.startswith(str(SAMPLES))]
    assert results == [f"ok   first-fine: 1/1 cases passed ({SAMPLES / 'two-rules.yml'})"]


def test_shipped_rules_check_clean() -> None:
    done = homeguard("rules", "check")
    assert done.stdout.strip() == ""  # no errors, no skipped list lines
