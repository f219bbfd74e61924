"""Big lists: kept compact, capped with a clear message, and loaded beside capture."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from homeguard.rules import lists as lists_module
from homeguard.rules.engine import RuleEngine
from homeguard.rules.lists import list_from_entries, load_list
from homeguard.rules.loader import RuleSet
from homeguard.rules.nameset import SMALL, NameSet
from homeguard.service.daemon import RuleReloader


def test_a_big_set_of_hashes_answers_as_a_set_of_names_does() -> None:
    names = [f"host{i}.zone{i % 97}.example" for i in range(SMALL * 2)]
    big, small = NameSet(names), NameSet(names[:1000])
    assert len(big) == SMALL * 2 and len(NameSet([*names[:10], *names[:10]])) == 10  # duplicates once
    for name in ("host5.zone5.example", f"host{SMALL * 2 - 1}.zone{(SMALL * 2 - 1) % 97}.example"):
        assert name in big and big.has_domain_of(f"a.b.{name}")
    for absent in ("host5.zone6.example", "zone5.example", "example", f"host{SMALL * 2}.zone0.example"):
        assert absent not in big and not big.has_domain_of(absent)
    assert small.has_domain_of("www.host3.zone3.example") and not small.has_domain_of("zone3.example")
    big.add("late.example")  # added after lookups: sorted in before the next one
    assert big.has_domain_of("www.late.example")


def test_a_list_past_the_cap_says_where_it_stopped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lists_module, "MAX_ENTRIES", 100)
    path = tmp_path / "huge.txt"
    path.write_text("# a comment\n" + "".join(f"d{i}.example\n" for i in range(150)))
    loaded = load_list(path)
    assert len(loaded) == 100 and loaded.contains("d99.example") and not loaded.contains("d100.example")
    assert [str(s).split(": skipped")[0] for s in loaded.skipped] == [f"{path}:102"]  # the 101st entry
    assert "more than 100 entries (the cap)" in loaded.skipped[0].why


LINES_OF_EVERY_KIND = [
    "tracker.example",
    "Tracker.Example",  # upper case: lowered
    "  spaced.example  ",
    "dotted.example.",
    "0.0.0.0 hosts.example",
    "||adblock.example^",
    "192.0.2.1",  # an address, though it looks like a name
    "1.2.3.45",
    "host.name1",  # ends in a digit, yet a name
    "198.51.100.0/24",
    "aa:bb:cc:dd:ee:ff",
    "# comment",
    "",
    "not a line",
    "-bad-.example",
    "*.wild.example",
    "x" * 250 + ".example",  # too long
    "under_score.example",
    "crlf.example\r",
]


def test_a_list_file_reads_each_line_as_the_general_parser_does(tmp_path: Path) -> None:
    """Plain domain lines take a short way in load_list; every kind of line must end up
    exactly where entry_of_line and add put it, skipped lines included."""
    path = tmp_path / "mixed.txt"
    path.write_text("\n".join(LINES_OF_EVERY_KIND) + "\n", newline="")
    loaded = load_list(path)
    expected = lists_module.IndicatorList("mixed")
    skipped_lines = []
    for number, line in enumerate(LINES_OF_EVERY_KIND, 1):
        entry, why = lists_module.entry_of_line(line)
        why = expected.add(entry) if entry is not None else why
        if why is not None:
            skipped_lines.append(number)
    # the same names: every word of every line, as written and as the list keeps names,
    # is in both or in neither, and those words cover every name kept
    words = {w for line in LINES_OF_EVERY_KIND for w in line.replace("||", " ").replace("^", " ").split()}
    probes = sorted(words | {w.lower().rstrip(".") for w in words})
    assert [p in loaded.domains for p in probes] == [p in expected.domains for p in probes]
    assert sum(p in expected.domains for p in probes) == len(expected.domains) == len(loaded.domains) > 5
    assert (loaded.ips, loaded.networks, loaded.macs) == (expected.ips, expected.networks, expected.macs)
    assert [s.line for s in loaded.skipped] == skipped_lines
    assert loaded.contains("crlf.example") and loaded.contains("a.tracker.example")
    assert loaded.contains("1.2.3.45") and not loaded.contains("x.1.2.3.45")


def test_a_big_list_in_the_big_form_still_matches_every_format() -> None:
    entries = [f"d{i}.example" for i in range(SMALL + 10)] + ["203.0.113.7", "198.51.100.0/24"]
    loaded = list_from_entries("big", entries)
    assert (
        loaded.contains("x.d7.example") and loaded.contains("198.51.100.9") and loaded.contains("203.0.113.7")
    )
    assert not loaded.contains("example") and not loaded.contains("d7.example.org")


def test_rules_load_beside_capture_and_are_swapped_in_when_ready() -> None:
    """The capture loop calls poll(); a slow load (a million-line list) must not hold it."""
    release, started = threading.Event(), threading.Event()
    fresh = RuleSet()

    def slow_load(_previous: RuleSet | None) -> RuleSet:
        started.set()
        assert release.wait(10)
        return fresh

    engine = RuleEngine(RuleSet(), [])
    reloader = RuleReloader(engine, RuleSet(), slow_load)
    reloader.requested.set()
    reloader.poll(0.0)  # starts the load and returns
    assert started.wait(5)
    for tick in range(1, 50):  # the capture loop goes on meanwhile
        reloader.poll(float(tick))
    assert reloader.current is not fresh
    release.set()
    for tick in range(50, 500):
        reloader.poll(float(tick))
        if reloader.current is fresh:
            break
        threading.Event().wait(0.01)
    assert reloader.current is fresh


def test_a_file_of_garbage_is_reported_a_thousand_lines_at_most(tmp_path: Path) -> None:
    path = tmp_path / "garbage.txt"
    path.write_text("".join(f"not a domain {i}\n" for i in range(5000)) + "ok.example\n")
    loaded = load_list(path)
    assert len(loaded) == 1 and len(loaded.skipped) == lists_module.MAX_SKIPPED_SHOWN + 1
    assert str(loaded.skipped[-1]).startswith(f"{path}:5001: skipped ''")
    assert loaded.skipped[-1].why == "and 4,000 more lines skipped (not shown)"
