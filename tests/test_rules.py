"""The rule language and engine: shipped rules, the walkthrough, semantics and state."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from scapy.all import wrpcap

from homeguard.clock import ManualClock
from homeguard.findings.book import FindingsBook
from homeguard.findings.model import Finding
from homeguard.rules.engine import RuleEngine
from homeguard.rules.lists import IndicatorList, list_from_entries, load_list
from homeguard.rules.loader import RuleSet, load_ruleset, shipped_rules_dir
from homeguard.rules.parser import RuleParser
from homeguard.rules.testing import run_rule_tests
from homeguard.store.database import open_database
from homeguard.store.findings import DatabaseFirstSeenStore
from homeguard.store.queries import finding_listing
from homeguard.store.writer import BatchWriter
from tests.conftest import TS0, homeguard
from tests.household import LAPTOP, lookup

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = load_ruleset([shipped_rules_dir()])


def parse(text: str, lists: dict[str, IndicatorList] | None = None) -> Any:
    parser = RuleParser("<test>", lists or {})
    rules = parser.parse_text(text)
    assert parser.errors == [], [str(e) for e in parser.errors]
    return rules[0]


def rule_text(match: str, extra: str = "", when: str = "dns") -> str:
    return (
        f"format: 1\nid: test-rule\ntitle: T\nseverity: low\ncategory: privacy.tracker\nwhen: {when}\n"
        f"match:\n{match}\nmessage: m\nremediation: r\n{extra}"
    )


SHIPPED_RULES = sorted(SHIPPED.rules.values(), key=lambda r: r.id)


@pytest.mark.parametrize("rule", SHIPPED_RULES, ids=[r.id for r in SHIPPED_RULES])
def test_shipped_rule_passes_its_tests_and_has_both_kinds(rule: Any) -> None:
    results = run_rule_tests(rule)
    assert all(r.passed for r in results), [line for r in results for line in r.detail]
    expects = {
        "match" if (c.expect == "match" or (isinstance(c.expect, int) and c.expect > 0)) else "no_match"
        for c in rule.tests
    }
    assert expects == {"match", "no_match"}
    assert set(rule.texts) == {"en", "nl"}


def test_shipped_rules_load_without_errors() -> None:
    assert SHIPPED.errors == [] and len(SHIPPED.rules) >= 4


def test_walkthrough_rule_runs_exactly_as_printed(tmp_path: Path) -> None:
    doc = (ROOT / "docs" / "rules.md").read_text()
    block = re.search(
        r"<!-- walkthrough-rule:start -->\n```yaml\n(.*?)```\n<!-- walkthrough-rule:end -->", doc, re.S
    )
    assert block is not None
    path = tmp_path / "example-ads.yml"
    path.write_text(block.group(1))
    assert homeguard("rules", "check", str(path)).stdout == ""
    assert homeguard("rules", "test", str(path)).stdout.startswith(
        "ok   example-ads-lookup: 2/2 cases passed"
    )


def test_json_schema_accepts_shipped_rules_and_rejects_broken_ones() -> None:
    schema = json.loads((ROOT / "rules" / "rule.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    for path in shipped_rules_dir().rglob("*.yml"):
        for document in yaml.safe_load_all(path.read_text()):
            jsonschema.validate(document, schema)
    broken = yaml.safe_load((ROOT / "tests/samples/broken-rules/typos.yml").read_text())
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(broken))
    assert {e.path[0] if e.path else e.validator for e in errors} >= {"severity", "category", "when", "id"}


@pytest.mark.parametrize(
    ("condition", "event", "expected"),
    [
        ("  dns.query: Example.COM", {"dns.query": "example.com"}, True),
        ("  dns.query|cased: Example.COM", {"dns.query": "example.com"}, False),
        ("  dns.query: [a.example, b.example]", {"dns.query": "b.example"}, True),
        ("  dns.query|contains|all: [ads, track]", {"dns.query": "ads.track.example"}, True),
        ("  dns.query|contains|all: [ads, track]", {"dns.query": "ads.example"}, False),
        ("  dns.query|startswith: www.", {"dns.query": "WWW.example"}, True),
        ("  dns.query|endswith: .local", {"dns.query": "printer.local"}, True),
        ("  dns.query|re: '^[a-z0-9]{30,}\\.'", {"dns.query": "a" * 31 + ".example"}, True),
        ("  dns.query|domain: tracker.example", {"dns.query": "nottracker.example"}, False),
        ("  dns.query|domain: tracker.example", {"dns.query": "a.b.tracker.example."}, True),
        ("  dst.ip|cidr: 10.0.0.0/8", {"dst.ip": "10.1.2.3"}, True),
        ("  dst.ip|cidr: 10.0.0.0/8", {"dst.ip": "not an ip"}, False),
        ("  dst.port|gte: 1024", {"dst.port": 1024}, True),
        ("  dst.port|lt: 1024", {"dst.port": 1024}, False),
        ("  dst.port: 53", {"dst.port": 53}, True),
        ("  dns.answers: 1.2.3.4", {"dns.answers": ["5.6.7.8", "1.2.3.4"]}, True),
        ("  dns.rcode|exists: false", {"dns.query": "x"}, True),
        ("  dns.rcode|exists: true", {"dns.query": "x"}, False),
        ("  dns.is_response: false", {"dns.is_response": False}, True),
        ("  dns.query: x.example\n  dns.qtype: TXT", {"dns.query": "x.example", "dns.qtype": "A"}, False),
    ],
)
def test_condition_semantics(condition: str, event: dict[str, Any], expected: bool) -> None:
    when = "flow_start" if "dst." in condition else "dns"
    rule = parse(rule_text(condition, when=when))
    assert rule.matches({"type": when, **event}) is expected


def test_list_of_mappings_is_or_and_unless_vetoes() -> None:
    rule = parse(
        rule_text("  - dns.query: a.example\n  - dns.qtype: TXT", "unless:\n  device.name: trusted-box\n")
    )
    assert rule.matches({"dns.query": "a.example"})
    assert rule.matches({"dns.query": "other", "dns.qtype": "TXT"})
    assert not rule.matches({"dns.query": "a.example", "device.name": "Trusted-Box"})


def test_list_lines_of_every_format(tmp_path: Path) -> None:
    path = tmp_path / "mixed.txt"
    path.write_text(
        "# comment\n! adblock comment\n0.0.0.0 hosts.example\n||adblock.example^\n"
        "plain.example\n203.0.113.7\n198.51.100.0/24\n2001:db8::/32\nAA-BB-CC-DD-EE-FF\n"
    )
    lst = load_list(path)
    assert lst.skipped == []
    for value in [
        "x.hosts.example",
        "adblock.example",
        "deep.sub.plain.example",
        "203.0.113.7",
        "198.51.100.200",
        "2001:db8::1",
        "aa:bb:cc:dd:ee:ff",
    ]:
        assert lst.contains(value), value
    for value in ["plain.example.org", "xplain.example", "203.0.113.8", "198.51.101.1", "example"]:
        assert not lst.contains(value), value


def test_list_lookup_cost_does_not_depend_on_list_size() -> None:
    big = list_from_entries("big", [f"d{i}.example" for i in range(100_000)])
    assert big.contains("a.b.d99999.example") and not big.contains("d100000.example")


def engine_for(text: str, **kwargs: Any) -> tuple[RuleEngine, list[Finding]]:
    rule = parse(text)
    found: list[Finding] = []
    return RuleEngine(RuleSet(rules={rule.id: rule}), [found.append], **kwargs), found


THRESHOLD_RULE = rule_text(
    "  proto: tcp",
    "threshold:\n  group_by: [src.ip]\n  distinct: dst.port\n  window: 10s\n  gte: 3\n",
    when="flow_start",
)


def test_threshold_window_slides() -> None:
    engine, found = engine_for(THRESHOLD_RULE)
    base = {"type": "flow_start", "proto": "tcp", "src.ip": "192.168.1.5"}
    for ts, port in [(0, 1), (1, 2), (12, 3), (13, 3), (14, 4)]:  # port 1 and 2 slide out
        engine({**base, "ts": ts, "dst.port": port})
    assert found == []
    engine({**base, "ts": 15, "dst.port": 5})
    assert len(found) == 1 and found[0].evidence["threshold.distinct"] == 3
    assert json.loads(found[0].key) == ["192.168.1.5"]


FIRST_SEEN_RULE = (
    "format: 1\nid: fs\ntitle: T\nseverity: low\ncategory: network.new-device\nwhen: device_new\n"
    "first_seen:\n  key: [device.mac]\n  learn_for: 1h\nmessage: m\nremediation: r\n"
)


def test_first_seen_learns_then_fires_once_and_survives_a_restart(tmp_path: Path) -> None:
    db = open_database(tmp_path / "hg.db")
    writer = BatchWriter(db, 1000)
    engine, found = engine_for(FIRST_SEEN_RULE, store=DatabaseFirstSeenStore(writer))
    engine({"type": "device_new", "ts": 0.0, "device.mac": "aa:00:00:00:00:01"})  # learning
    engine({"type": "device_new", "ts": 7200.0, "device.mac": "aa:00:00:00:00:02"})  # after learning
    engine({"type": "device_new", "ts": 7300.0, "device.mac": "aa:00:00:00:00:02"})  # known now
    assert [f.device_mac for f in found] == ["aa:00:00:00:00:02"]
    writer.flush()
    restarted, found_again = engine_for(FIRST_SEEN_RULE, store=DatabaseFirstSeenStore(writer))
    restarted({"type": "device_new", "ts": 7400.0, "device.mac": "aa:00:00:00:00:01"})  # learned before
    restarted({"type": "device_new", "ts": 7500.0, "device.mac": "aa:00:00:00:00:03"})  # new
    assert [f.device_mac for f in found_again] == ["aa:00:00:00:00:03"]
    db.close()


def test_the_household_learning_period_governs_rules_without_their_own(tmp_path: Path) -> None:
    from homeguard.rules.configured import load_rules_for
    from homeguard.settings import load_config

    def device(ts: float, n: int) -> dict[str, Any]:
        mac = f"00:1b:a9:00:00:{n:02x}"
        return {"type": "device_new", "ts": ts, "device.mac": mac, "device.identity": mac}

    week = load_rules_for(load_config(None, {"db_path": str(tmp_path / "hg.db")}))
    assert week.learning_period == 7 * 86400.0
    found: list[Finding] = []
    engine = RuleEngine(week, [found.append])
    engine(device(TS0, 1))  # starts learning
    engine(device(TS0 + 3 * 86400, 2))  # day 3 of 7: learned, not reported
    two_days = load_rules_for(load_config(None, {"db_path": str(tmp_path / "hg.db"), "learning_days": 2}))
    engine.set_rules(two_days)  # the household chose 2 days in the dashboard; the daemon reloads
    engine(device(TS0 + 3 * 86400, 2))  # known from learning
    engine(device(TS0 + 3 * 86400, 3))  # new, and learning is over
    assert [f.device_mac for f in found if f.rule == "new-device"] == ["00:1b:a9:00:00:03"]
    own = parse(FIRST_SEEN_RULE)  # learn_for: 1h of its own, whatever the household chose
    state = RuleEngine(RuleSet(rules={own.id: own}, learning_period=0.0)).runtimes["fs"].first_seen
    assert state is not None and state.learn_for == 3600.0


def test_repeats_update_one_finding_row_with_a_count(tmp_path: Path) -> None:
    db = open_database(tmp_path / "hg.db")
    writer = BatchWriter(db, 1000)
    rule = parse(rule_text("  dns.query|endswith: .example", "suppress:\n  key: [dns.query]\n  for: 1h\n"))
    found: list[Finding] = []
    engine = RuleEngine(
        RuleSet(rules={rule.id: rule}), [FindingsBook(writer, ManualClock(TS0)), found.append]
    )
    for ts in range(5):
        engine(
            {
                "type": "dns",
                "ts": float(ts),
                "dns.query": "a.example",
                "device.mac": "aa:00:00:00:00:01",
                "src.ip": "192.168.1.9",
            }
        )
    engine({"type": "dns", "ts": 9.0, "dns.query": "b.example", "device.mac": "aa:00:00:00:00:01"})
    writer.flush()
    rows = {r["key"][0]: r for r in finding_listing(db)}
    assert rows["a.example"]["count"] == 5 and rows["b.example"]["count"] == 1
    assert (rows["a.example"]["first_seen"], rows["a.example"]["last_seen"]) == (0.0, 4.0)
    assert rows["a.example"]["device_ip"] == "192.168.1.9"
    assert [f.alert for f in found] == [True, False, False, False, False, True]  # suppress: one alert per key
    db.close()


def test_evidence_keeps_matched_fields_and_never_a_password() -> None:
    rule = parse(rule_text("  dns.query: a.example"))
    from homeguard.rules.engine import evidence

    got = evidence(rule, {"dns.query": "a.example", "dns.qtype": "A", "auth.password": "hunter2"})
    assert got == {"dns.query": "a.example"}


def test_user_rules_replace_shipped_ones_and_config_disables(tmp_path: Path) -> None:
    user = tmp_path / "rules.d"
    user.mkdir()
    original = (shipped_rules_dir() / "insecure" / "telnet-in-use.yml").read_text()
    (user / "mine.yml").write_text(original.replace("severity: high", "severity: critical"))
    ruleset = load_ruleset([shipped_rules_dir(), user])
    assert ruleset.rules["telnet-in-use"].severity == "critical"
    assert ruleset.rules["telnet-in-use"].path == str(user / "mine.yml")
    assert "new-device" not in load_ruleset([shipped_rules_dir()], frozenset({"new-device"})).rules


def test_a_broken_edit_keeps_the_last_good_rules(tmp_path: Path) -> None:
    path = tmp_path / "r.yml"
    path.write_text(rule_text("  dns.query: good.example"))
    first = load_ruleset([tmp_path])
    path.write_text(rule_text("  dns.qery: oops.example"))
    second = load_ruleset([tmp_path], previous=first)
    assert [str(e).split(": ", 1)[1] for e in second.errors] == [
        "match: unknown field 'dns.qery'; did you mean 'dns.query'?"
    ]
    assert second.rules["test-rule"].matches({"dns.query": "good.example"})


def test_failing_case_says_what_was_expected_and_which_condition_failed(tmp_path: Path) -> None:
    path = tmp_path / "wrong.yml"
    path.write_text(
        rule_text(
            "  dns.query|endswith: .example",
            "tests:\n  - event: {dns.query: a.example.org}\n    expect: match\n",
        )
    )
    done = homeguard("rules", "test", str(path), check=False)
    assert done.returncode == 1
    assert done.stdout.splitlines()[1:] == [
        f"     case at {path}:12",
        "       event: type=dns, dns.query=a.example.org",
        "       expected: match",
        "       happened: 0 finding(s)",
        "       failed: NO   dns.query|endswith: '.example'  <- event has 'a.example.org'",
    ]


def test_explain_an_event() -> None:
    event = json.dumps({"type": "flow_established", "proto": "tcp", "dst.port": 23, "dst.ip": "10.0.0.5"})
    out = homeguard("rules", "explain", "telnet-in-use", "--event", event).stdout
    assert "yes  proto: 'tcp'  <- event has 'tcp'" in out and "=> MATCH: telnet-in-use" in out
    miss = json.dumps({"type": "flow_established", "proto": "tcp", "dst.port": 22})
    out = homeguard("rules", "explain", "telnet-in-use", "--event", miss).stdout
    assert "NO   dst.port: [23, 2323]  <- event has 22" in out and "=> no match" in out


def test_explain_the_events_of_a_capture(write_pcap: Any) -> None:
    """`rules explain --capture` replays the capture and explains each event of the
    rule's types (its sink asks for those types only)."""
    from scapy.all import IP, TCP, Ether  # type: ignore[attr-defined]

    up = Ether(src="3c:22:fb:00:00:01", dst="02:00:00:00:00:fe") / IP(src="192.168.1.20", dst="192.168.1.50")
    down = Ether(src="02:00:00:00:00:fe", dst="3c:22:fb:00:00:01") / IP(
        src="192.168.1.50", dst="192.168.1.20"
    )
    telnet = [up / TCP(sport=40000, dport=23, flags="S"), down / TCP(sport=23, dport=40000, flags="SA")]
    ssh = [up / TCP(sport=40001, dport=22, flags="S"), down / TCP(sport=22, dport=40001, flags="SA")]
    capture = write_pcap([*lookup(LAPTOP, "a.example.org", "192.0.2.7"), *telnet, *ssh])
    out = homeguard("rules", "explain", "telnet-in-use", "--capture", str(capture), "--all")
    assert out.stderr.strip() == "2 of 2 flow_established events shown"
    assert out.stdout.count("=> MATCH: telnet-in-use") == 1 and "<- event has 22" in out.stdout


def test_replay_produces_findings_that_the_findings_command_lists(write_pcap: Any, tmp_path: Path) -> None:
    from scapy.all import IP, TCP, Ether  # type: ignore[attr-defined]

    up = Ether(src="3c:22:fb:00:00:01", dst="02:00:00:00:00:fe") / IP(src="192.168.1.20", dst="192.168.1.50")
    down = Ether(src="02:00:00:00:00:fe", dst="3c:22:fb:00:00:01") / IP(
        src="192.168.1.50", dst="192.168.1.20"
    )
    telnet = []
    for i in range(3):  # three telnet connections the camera accepts
        telnet += [
            up / TCP(sport=40000 + i, dport=23, flags="S"),
            down / TCP(sport=23, dport=40000 + i, flags="SA"),
        ]
    scan = Ether(src="3c:22:fb:00:00:01", dst="02:00:00:00:00:fe") / IP(
        src="192.168.1.20", dst="192.168.1.51"
    )
    for i in range(3):  # and three bare SYNs to a host that refuses: a scan, not telnet in use
        telnet += [scan / TCP(sport=41000 + i, dport=23, flags="S")]
    capture = write_pcap(telnet)
    out = homeguard("replay", str(capture), "--db", str(tmp_path / "hg.db"))
    assert "3 findings" in out.stderr
    rows = json.loads(homeguard("findings", "--db", str(tmp_path / "hg.db"), "--json").stdout)
    assert len(rows) == 1
    row = rows[0]
    assert {k: row[k] for k in ("rule", "category", "severity", "device_mac", "device_ip", "count")} == {
        "rule": "telnet-in-use",
        "category": "insecure.cleartext-protocol",
        "severity": "high",
        "device_mac": "3c:22:fb:00:00:01",
        "device_ip": "192.168.1.20",
        "count": 3,
    }
    assert row["message"].endswith(
        "opened a telnet connection to 192.168.1.50. Telnet sends passwords "
        "and everything typed without encryption."
    )
    assert row["evidence"] == {"dst.ip": "192.168.1.50", "dst.port": 23, "proto": "tcp"}
    assert set(row) >= {"first_seen", "last_seen", "message_nl", "remediation"}
    text = homeguard("findings", "--db", str(tmp_path / "hg.db"), "--severity", "critical").stdout
    assert text == ""
    assert "Telnet" in homeguard("findings", "--db", str(tmp_path / "hg.db"), "--category", "insecure").stdout


def test_patterns_run_in_linear_time_on_a_name_a_device_chose(tmp_path: Path) -> None:
    """`(a|aa)+` is allowed (no repetition inside a repetition) but backtracks
    exponentially in Python's re; RE2 answers at once. Any device can send the query."""
    import platform

    from homeguard.rules.regex import ENGINE, MAX_INPUT, compile_pattern

    if platform.machine() in ("x86_64", "aarch64"):
        assert ENGINE == "re2"  # google-re2 has wheels here: it must be the one in use
    else:
        pytest.skip(f"no google-re2 wheel for {platform.machine()}: Python's re with the same limits")
    hostile = "a" * 60 + "!"  # a backtracking engine tries about 10**12 ways
    assert compile_pattern("^(a|aa)+$", ignore_case=True)(hostile) is False
    assert compile_pattern("b$", ignore_case=False)("a" * MAX_INPUT + "b") is False  # past the cap
    assert compile_pattern("^A+b", ignore_case=True)("aaab")  # case folding still works

    rules = tmp_path / "rules.d"
    rules.mkdir()
    (rules / "aaa.yml").write_text(
        rule_text('  dns.query|re: "^(a|aa)+$"').replace("id: test-rule", "id: many-as")
    )
    capture = tmp_path / "hostile.pcap"
    wrpcap(str(capture), lookup(LAPTOP, "a" * 60 + "!", None) + lookup(LAPTOP, "a" * 60, None, qid=2))
    db = tmp_path / "hg.db"
    homeguard("replay", str(capture), "--db", str(db), "--rules-dir", str(rules), timeout=60)  # not minutes
    found = json.loads(homeguard("findings", "--db", str(db), "--json").stdout)
    assert [f["evidence"]["dns.query"] for f in found if f["rule"] == "many-as"] == ["a" * 60]


INDEXED_SHAPES = [
    "  dst.port: {port}",
    "  dst.port: [{port}, 8443]\n  proto: tcp",
    "  dns.query|domain: host{n}.example",
    "  dns.query|endswith: .svc{n}.example",
    "  dns.answer_ips|cidr: 10.{n}.0.0/16",
    "  dns.answer_ips|cidr: ['2001:db8:{n}::/48', 192.168.{n}.0/24]",
    "  flow.bytes_out|gt: {big}",
    "  flow.bytes_out|gte: {big}",
    "  flow.bytes_out|lt: {small}",
    "  flow.bytes_out|lte: {small}\n  proto: udp",
    "  proto: tcp",  # the same conditions as other rules: tested once for all of them
    "  dns.query|contains: svc",  # no index: tried for every event
    "  - dst.port: {port}\n  - flow.bytes_out|gt: {big}",  # either
]


def test_the_indexes_find_exactly_the_rules_that_match_one_by_one() -> None:
    """Whatever index a rule is found by (equality, domain, network, number), the engine
    reports exactly the rules that match when every rule is tried on every event."""
    rules = {}
    for n in range(40):
        shape = INDEXED_SHAPES[n % len(INDEXED_SHAPES)]
        match = shape.format(n=n % 7, port=1000 + n % 9, big=500 + 50 * (n % 7), small=300 + 40 * (n % 5))
        when = "dns" if "dns." in shape else "flow_end" if "flow." in shape else "[dns, flow_end]"
        unless = "unless:\n  dst.port: 8443\n" if n % 4 == 0 else ""
        text = rule_text(match, unless, when=when).replace("id: test-rule", f"id: r{n}")
        rule = parse(text)
        rules[rule.id] = rule
    found: list[Finding] = []
    engine = RuleEngine(RuleSet(rules=rules), [found.append])
    rng = random.Random(7)
    for number in range(600):
        kind = rng.choice(["dns", "flow_end"])
        event: dict[str, Any] = {"ts": TS0 + number, "type": kind, "proto": rng.choice(["tcp", "udp"])}
        event["dst.port"] = rng.choice([1000 + rng.randint(0, 9), 8443, "1003"])
        event["flow.bytes_out"] = rng.choice([rng.randint(0, 900), str(rng.randint(0, 900)), "n/a"])
        event["dns.query"] = rng.choice(
            [f"a.host{rng.randint(0, 7)}.example", f"x.svc{rng.randint(0, 7)}.example.", "HOST3.EXAMPLE"]
        )
        event["dns.answer_ips"] = rng.sample(
            [f"10.{rng.randint(0, 7)}.1.2", f"2001:db8:{rng.randint(0, 7)}::1", "192.168.3.9", "not-an-ip"], 2
        )
        expected = sorted(r.id for r in rules.values() if kind in r.when and r.matches(event))
        found.clear()
        engine(event)
        assert sorted(f.rule for f in found) == expected, event
