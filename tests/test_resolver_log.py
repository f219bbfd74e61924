"""The household resolver's query log as a source: dnsmasq with log-queries on the lab's
router, HomeGuard on a plain switch port's view (no DNS packets at all), and the laptop's
lookup of a tracker still becomes the laptop's tracker finding. Then the log formats,
and a log that is rotated and truncated under the reader."""

from __future__ import annotations

import base64
import json
import logging
import random
import sqlite3
import subprocess
import unicodedata
from pathlib import Path

import pytest
from scapy.all import DNS, DNSQR, DNSRR  # type: ignore[attr-defined]
from sqlite_utils import Database

from homeguard.clock import ManualClock
from homeguard.decode.resolver_log import parse_line
from homeguard.decode.text import ESCAPED_CATEGORIES
from homeguard.events import Event
from homeguard.pipeline.core import Pipeline
from homeguard.pipeline.followed import FollowedFile, FollowedFiles
from homeguard.pipeline.pihole import PiholeDatabase
from homeguard.settings import Config
from tests.conftest import TS0
from tests.conftest import homeguard as cli
from tests.netns_lab import MACS, Lab, start_homeguard, stop, wait_for

NAMES = {"printer.home.test": "192.168.77.13", "ads.doubleclick.net": "192.168.77.99"}


UNBOUND = """server:
  interface: 192.168.77.13
  do-daemonize: no
  username: ""
  chroot: ""
  directory: "{dir}"
  logfile: "{dir}/unbound.log"
  log-queries: yes
  log-replies: yes
  use-syslog: no
  access-control: 192.168.77.0/24 allow
  pidfile: "{dir}/unbound.pid"
  do-ip6: no
  module-config: "iterator"
  local-zone: "home.test." static
  local-data: "printer.home.test. A 192.168.77.13"
  local-zone: "doubleclick.net." static
  local-data: "ads.doubleclick.net. A 192.168.77.99"
remote-control:
  control-enable: no
"""


@pytest.mark.parametrize("resolver", ["dnsmasq", "unbound"])
def test_a_lookup_in_the_resolvers_log_is_the_devices_own(lab: Lab, resolver: str) -> None:
    db_path = lab.workdir / "hg.db"
    log_file = lab.workdir / f"{resolver}.log"
    resolver_ip = "192.168.77.1" if resolver == "dnsmasq" else "192.168.77.13"
    homeguard = start_homeguard(
        lab,
        db_path,
        ["--filter", "arp or udp port 67 or udp port 68"],  # what a plain switch port shows
        config_extra=f"dns_log_files: [{log_file}]\nlearning_days: 0\n",
    )
    if resolver == "dnsmasq":
        lab.start_router(NAMES, ["--log-queries", "--local=/doubleclick.net/"])
    else:
        lab.start_router({})  # DHCP only
        (lab.workdir / "unbound.conf").write_text(UNBOUND.format(dir=lab.workdir))
        lab.spawn("printer", ["unbound", "-d", "-c", str(lab.workdir / "unbound.conf")], "unbound.out")
        wait_for(lambda: "start of service" in (log_file.read_text() if log_file.exists() else ""), "unbound")
    laptop_ip = lab.dhcp_lease("laptop", "anna-laptop")
    for name in NAMES:
        assert NAMES[name] in lab.run("laptop", "busybox", "nslookup", name, resolver_ip).stdout
    missing = [
        "ip",
        "netns",
        "exec",
        lab.ns("laptop"),
        "busybox",
        "nslookup",
        "missing.home.test",
        resolver_ip,
    ]
    assert subprocess.run(missing, capture_output=True, timeout=30).returncode != 0  # NXDOMAIN
    wait_for(lambda: "missing.home.test" in log_file.read_text(), "the resolver to log the lookups")

    def logged() -> list[dict[str, object]]:
        return list(Database(db_path)["dns_log"].rows_where("transport = 'log'"))

    wait_for(lambda: len(logged()) >= 3, "the lookups read from the log")
    stop(homeguard, lab)
    rows = logged()
    assert {r["query"] for r in rows} >= {*NAMES, "missing.home.test"}
    assert all(r["device_mac"] == MACS["laptop"] and r["client_ip"] == laptop_ip for r in rows)
    printer = next(r for r in rows if r["query"] == "printer.home.test" and r["qtype"] == "A")
    # dnsmasq logs the answer; unbound's reply line has only the rcode
    assert printer["rcode"] == "NOERROR"
    assert printer["answers"] == ("192.168.77.13" if resolver == "dnsmasq" else "")
    assert next(r for r in rows if r["query"] == "missing.home.test")["rcode"] == "NXDOMAIN"
    findings = json.loads(cli("findings", "--db", str(db_path), "--json").stdout)
    trackers = [f for f in findings if f["rule"] == "tracker-contact"]
    assert [f["device_mac"] for f in trackers] == [MACS["laptop"]]


def test_dnsmasq_and_unbound_lines_become_lookups_and_answers() -> None:
    askers: dict[str, str] = {}
    query = parse_line("Dec  1 09:40:00 dnsmasq[88]: query[AAAA] Tracker.Example from 192.168.1.20", askers)
    assert query is not None and (query.client, query.name, query.qtype, query.rcode) == (
        "192.168.1.20", "Tracker.Example", "AAAA", None,
    )  # fmt: skip
    reply = parse_line("dnsmasq[88]: reply tracker.example is 2001:db8::1", askers)
    assert reply is not None and (reply.client, reply.rcode, reply.answers) == (
        "192.168.1.20",
        "NOERROR",
        ("2001:db8::1",),
    )
    parse_line("dnsmasq[88]: query[A] gone.example from 192.168.1.21", askers)
    failed = parse_line("dnsmasq[88]: reply gone.example is NXDOMAIN", askers)
    assert failed is not None and (failed.client, failed.rcode, failed.answers) == (
        "192.168.1.21",
        "NXDOMAIN",
        (),
    )
    assert parse_line("dnsmasq[88]: forwarded tracker.example to 1.1.1.1", askers) is None
    assert parse_line("dnsmasq[88]: reply never-asked.example is 1.2.3.4", askers) is None
    asked = parse_line("[1764582000] unbound[12:0] info: 192.168.1.30 cdn.example. A IN", askers)
    assert asked is not None and (asked.client, asked.name, asked.qtype, asked.rcode) == (
        "192.168.1.30", "cdn.example", "A", None,
    )  # fmt: skip
    answered = parse_line(
        "[1764582000] unbound[12:0] info: 192.168.1.30 cdn.example. A IN NXDOMAIN 0.000 0 45", askers
    )
    assert answered is not None and answered.rcode == "NXDOMAIN"
    assert parse_line("\x1b[31m" + "x" * 5000, askers) is None


def test_a_logged_line_waits_until_the_capture_has_caught_up_with_it(tmp_path: Path) -> None:
    """With capture workers the packets reach the household a moment late: a lookup the
    resolver logged meanwhile waits for them, so the device that asked is known by then."""
    path = tmp_path / "dnsmasq.log"
    path.write_bytes(b"")
    followed = FollowedFiles([str(path)], "the resolver log", logging.getLogger("test"))
    with path.open("ab") as log:
        log.write(b"query one\n")
    assert list(followed.lines(read_at=100.0, due=99.7)) == []  # the capture is at 99.7
    with path.open("ab") as log:
        log.write(b"query two\n")
    assert [line for _, line in followed.lines(read_at=100.5, due=100.2)] == [b"query one"]
    assert [line for _, line in followed.lines(read_at=101.0, due=float("inf"))] == [b"query two"]
    followed.close()


def test_a_followed_log_is_read_across_rotation_and_truncation(tmp_path: Path) -> None:
    path = tmp_path / "dnsmasq.log"
    path.write_bytes(b"old line, written before HomeGuard started\n")
    followed = FollowedFile(path)
    assert followed.lines() == []  # only what is new
    with path.open("ab") as log:
        log.write(b"one\ntw")
    assert followed.lines() == [b"one"]
    with path.open("ab") as log:
        log.write(b"o\n")
    assert followed.lines() == [b"two"]
    path.rename(tmp_path / "dnsmasq.log.1")  # logrotate moves it away ...
    assert followed.lines() == []  # ... and until the new one exists, nothing
    path.write_bytes(b"three\n")
    assert followed.lines() == [b"three"] and followed.rotated == 1
    path.write_bytes(b"")  # copytruncate
    with path.open("ab") as log:
        log.write(b"four\n")
    assert followed.lines() == [b"four"] and followed.rotated == 2
    followed.close()


def test_mutated_log_lines_never_raise_and_names_come_out_safe() -> None:
    rng = random.Random(53)
    seeds = [
        "dnsmasq[88]: query[A] tracker.example from 192.168.1.20",
        "dnsmasq[88]: reply tracker.example is 1.2.3.4",
        "[1764582000] unbound[12:0] info: 192.168.1.30 cdn.example. A IN NOERROR 0.000 0 45",
    ]
    askers: dict[str, str] = {}
    parsed = 0
    for _ in range(20_000):
        line = list(rng.choice(seeds))
        for _ in range(rng.randint(1, 4)):
            line[rng.randrange(len(line))] = chr(rng.choice([0, 7, 27, 0x202E, rng.randrange(32, 0x3000)]))
        lookup = parse_line("".join(line), askers)
        if lookup is not None:
            parsed += 1
            # escapes, never the raw control or reordering characters
            assert not any(unicodedata.category(c) in ESCAPED_CATEGORIES for c in lookup.name)
    assert parsed > 1000 and len(askers) <= 4096


def test_a_log_missing_for_ten_minutes_is_a_health_problem(tmp_path: Path) -> None:
    followed = FollowedFile(tmp_path / "dnsmasq.log")  # not there when HomeGuard starts
    assert followed.problem(1000.0) is None
    assert followed.problem(1599.0) is None
    assert followed.problem(1600.0) == f"the file {tmp_path / 'dnsmasq.log'} has been missing for 10 minutes"
    (tmp_path / "dnsmasq.log").write_text("query[A] x.example from 192.168.1.20\n")
    followed.lines()
    assert followed.problem(1601.0) is None  # back
    followed.close()


def adguard_line(client: str, name: str, rcode: int, address: str | None) -> str:
    """An entry of AdGuard Home's querylog.json, its Answer the DNS response in base64."""
    answer = DNS(id=1, qr=1, rcode=rcode, qd=DNSQR(qname=name))
    if address:
        answer.an = DNSRR(rrname=name, rdata=address)
    wire = base64.b64encode(bytes(answer)).decode()
    return json.dumps({"T": "2026-01-09T10:00:00.1+01:00", "QH": name, "QT": "A", "QC": "IN", "CP": "",
                       "Upstream": "https://dns.example/dns-query", "Answer": wire, "IP": client,
                       "Result": {}, "Elapsed": 1200})  # fmt: skip


def test_adguard_entries_give_the_client_the_code_and_the_addresses() -> None:
    found = parse_line(adguard_line("192.168.1.40", "tracker.example", 0, "203.0.113.5"), {})
    assert found is not None
    assert (found.client, found.name, found.qtype, found.rcode, found.answers) == (
        "192.168.1.40", "tracker.example", "A", "NOERROR", ("203.0.113.5",),
    )  # fmt: skip
    missing = parse_line(adguard_line("192.168.1.40", "nope.example", 3, None), {})
    assert missing is not None and missing.rcode == "NXDOMAIN" and missing.answers == ()
    assert parse_line('{"QH": 5, "IP": []}', {}) is None
    broken = parse_line('{"QH": "x.example", "IP": "192.168.1.40", "Answer": "!!not base64"}', {})
    assert broken is not None and broken.rcode == "NOERROR" and broken.answers == ()


PIHOLE_SCHEMA = """CREATE TABLE queries (id INTEGER PRIMARY KEY AUTOINCREMENT, timestamp INTEGER NOT NULL,
type INTEGER NOT NULL, status INTEGER NOT NULL, domain TEXT NOT NULL, client TEXT NOT NULL, forward TEXT,
additional_info BLOB, reply_type INTEGER, reply_time REAL, dnssec INTEGER)"""


def test_new_rows_of_pihole_s_database_are_lookups_of_the_device_that_asked(tmp_path: Path) -> None:
    db_path = tmp_path / "pihole-FTL.db"
    db = sqlite3.connect(db_path)
    db.execute(PIHOLE_SCHEMA)
    insert = (
        "INSERT INTO queries (timestamp, type, status, domain, client, reply_type) VALUES (?, ?, ?, ?, ?, ?)"
    )
    db.execute(insert, (TS0 - 60, 1, 2, "before.example", "192.168.1.20", 4))
    db.commit()
    events: list[Event] = []
    pipeline = Pipeline(Config(), None, [events.append], clock=ManualClock(TS0))
    pihole = PiholeDatabase(str(db_path))
    assert pihole.drain(pipeline, TS0) == 0  # what was there before HomeGuard started is not read
    db.execute(insert, (TS0, 2, 1, "ads.doubleclick.net", "192.168.1.20", 4))  # blocked, still asked
    db.execute(insert, (TS0 + 1, 1, 2, "gone.example", "192.168.1.21", 2))
    db.commit()
    assert pihole.drain(pipeline, TS0 + 3) == 4
    asked = [(e["dns.query"], e["dns.qtype"], e["dns.is_response"], e.get("dns.rcode")) for e in events]
    assert asked == [
        ("ads.doubleclick.net", "AAAA", False, None),
        ("ads.doubleclick.net", "AAAA", True, "NOERROR"),
        ("gone.example", "A", False, None),
        ("gone.example", "A", True, "NXDOMAIN"),
    ]
    assert events[0]["src.ip"] == "192.168.1.20" and events[0]["ts"] == TS0
    db.close()
    db_path.unlink()
    pihole.drain(pipeline, TS0 + 6)
    assert pihole.problem(TS0 + 6 + 599) is None
    problem = pihole.problem(TS0 + 6 + 600)
    assert problem is not None and "has been unreadable for 10 minutes" in problem
    pihole.close()


def test_a_name_in_an_answer_or_a_type_is_made_safe_too() -> None:
    askers: dict[str, str] = {}
    parse_line("dnsmasq[88]: query[PTR] 5.1.168.192.in-addr.arpa from 192.168.1.20", askers)
    reply = parse_line("dnsmasq[88]: reply 5.1.168.192.in-addr.arpa is evil\x1b[2Jhost", askers)
    assert reply is not None and reply.answers == ("evil\\x1b[2Jhost",)
    entry = parse_line('{"QH": "x.example", "QT": "A\\u202eB", "IP": "192.168.1.40"}', {})
    assert entry is not None and entry.qtype == "A\\u202eB"
