"""Suricata's EVE JSON as a source, with records written here as the EVE format's
documentation shows them (Suricata itself cannot be installed here): through a real
pipeline and, end to end, through `homeguard run`, whose findings are read back."""

from __future__ import annotations

import json
import random
import time
from pathlib import Path
from typing import Any

from homeguard.clock import ManualClock
from homeguard.decode.eve import read_eve
from homeguard.errors import DecodeError
from homeguard.events import Event
from homeguard.pipeline.core import Pipeline
from homeguard.pipeline.eve import EveLog
from homeguard.settings import Config
from tests.conftest import TS0, homeguard
from tests.test_service_lifecycle import daemon_running, wait_for_text

LAPTOP_IP, RESOLVER, SERVER = "192.168.1.20", "192.168.1.1", "93.184.216.34"
WHEN = "2026-01-09T10:00:00.000000+0000"  # packet times, as Suricata stamps them


def record(
    event_type: str, body: dict[str, Any], src: str = LAPTOP_IP, dst: str = SERVER, **more: Any
) -> str:
    return json.dumps(
        {
            "timestamp": WHEN,
            "flow_id": 1234,
            "in_iface": "igb0",
            "event_type": event_type,
            "src_ip": src,
            "src_port": more.get("sport", 50000),
            "dest_ip": dst,
            "dest_port": more.get("dport", 443),
            "proto": more.get("proto", "TCP"),
            event_type: body,
        }
    )


DNS_QUERY = record("dns", {"type": "query", "id": 7, "rrname": "www.example.com", "rrtype": "A", "tx_id": 0},
                   dst=RESOLVER, proto="UDP", dport=53)  # fmt: skip
DNS_ANSWER = record(
    "dns",
    {"version": 2, "type": "answer", "id": 7, "rrname": "www.example.com", "rrtype": "A", "rcode": "NOERROR",
     "answers": [{"rrname": "www.example.com", "rrtype": "A", "ttl": 300, "rdata": SERVER}]},
    src=RESOLVER, dst=LAPTOP_IP, proto="UDP", sport=53, dport=50001,
)  # fmt: skip
FLOW = record(
    "flow",
    {"pkts_toserver": 12, "pkts_toclient": 20, "bytes_toserver": 1800, "bytes_toclient": 24000,
     "start": "2026-01-09T09:59:58.000000+0000", "end": WHEN, "age": 2, "state": "closed",
     "reason": "timeout"},
)  # fmt: skip
TLS = record(
    "tls",
    {"subject": "CN=www.example.com", "issuerdn": "CN=Example CA", "sni": "www.example.com",
     "version": "TLS 1.3", "notbefore": "2025-01-01T00:00:00", "notafter": "2025-12-31T00:00:00",
     "ja3": {"hash": "e7d705a3286e19ea42f587b344ee6865"}, "ja4": "t13d1516h2_8daaf6152771_02713d6af862"},
)  # fmt: skip
HTTP = record(
    "http",
    {"hostname": "tracker.example", "url": "/collect?email=anna@example.org",
     "http_user_agent": "SmartTV/1.0", "http_method": "GET", "protocol": "HTTP/1.1", "status": 200},
    dport=80,
)  # fmt: skip
DHCP = record(
    "dhcp",
    {"type": "request", "id": 42, "client_mac": "f4:7b:09:00:00:20", "assigned_ip": "0.0.0.0",
     "dhcp_type": "request", "hostname": "anna-laptop"},
    src="0.0.0.0", dst="255.255.255.255", proto="UDP", sport=68, dport=67,
)  # fmt: skip
ALERT = record(
    "alert", {"action": "allowed", "signature_id": 2100498, "signature": "GPL ATTACK_RESPONSE id check"}
)


def feed(tmp_path: Path, lines: list[str]) -> tuple[Pipeline, list[Event], EveLog]:
    events: list[Event] = []
    pipeline = Pipeline(Config(), None, [events.append], clock=ManualClock(TS0))
    path = tmp_path / "eve.json"
    path.write_text("")
    eve = EveLog([str(path)])
    path.write_text("\n".join(lines) + "\n")
    eve.drain(pipeline, TS0)
    return pipeline, events, eve


def test_each_record_type_becomes_the_events_a_capture_would_give(tmp_path: Path) -> None:
    _pipeline, events, eve = feed(tmp_path, [DHCP, DNS_QUERY, DNS_ANSWER, TLS, HTTP, FLOW, ALERT, "not json"])
    by_type: dict[str, list[Event]] = {}
    for event in events:
        by_type.setdefault(event["type"], []).append(event)
    assert eve.stats.records == 6 and eve.stats.skipped == 1 and eve.stats.malformed == 1
    assert by_type["dhcp"][0]["dhcp.hostname"] == "anna-laptop"
    query, answer = by_type["dns"]
    assert (query["dns.query"], query["src.ip"], query["dst.ip"]) == ("www.example.com", LAPTOP_IP, RESOLVER)
    assert answer["dns.answer_ips"] == [SERVER] and answer["dst.ip"] == LAPTOP_IP
    (hello,) = by_type["tls_client_hello"]
    assert hello["tls.sni"] == "www.example.com" and hello["tls.ja4"].startswith("t13d")
    (certificate,) = by_type["tls_certificate"]
    assert certificate["tls.cert_expired"] is True  # notafter 2025-12-31, seen in 2026
    request = next(e for e in by_type["http"] if not e["http.is_response"])
    assert request["http.host"] == "tracker.example" and "anna@example.org" not in request["http.uri"]
    (end,) = by_type["flow_end"]
    assert (end["flow.bytes_out"], end["flow.bytes_in"], end["flow.packets_in"]) == (1800, 24000, 20)
    assert end["flow.server_name"] == "www.example.com"  # named by the EVE answer before it


def test_mutated_records_raise_nothing_but_a_decode_error() -> None:
    rng = random.Random(9)
    seeds = [line.encode() for line in (DNS_QUERY, DNS_ANSWER, FLOW, TLS, HTTP, DHCP)]
    errors = 0
    for _ in range(10_000):
        line = bytearray(rng.choice(seeds))
        for _ in range(rng.randint(1, 4)):
            line[rng.randrange(len(line))] = rng.randrange(256)
        try:
            read_eve(bytes(line))
        except DecodeError:
            errors += 1
    assert errors > 1000


def test_mutated_but_valid_json_reaches_the_pipeline_without_harm(tmp_path: Path) -> None:
    """Right JSON, wrong types: every field a record has, given other kinds of value."""
    rng = random.Random(10)
    values: list[Any] = [None, -1, 2**70, "x" * 5000, "\x1b[31m", [], {}, True, 1.5, "::1"]
    lines = []
    for _ in range(2000):
        data = json.loads(rng.choice([DNS_QUERY, DNS_ANSWER, FLOW, TLS, HTTP, DHCP]))
        body = data[data["event_type"]]
        target = body if rng.random() < 0.7 else data
        target[rng.choice(list(target))] = rng.choice(values)
        lines.append(json.dumps(data))
    pipeline, _events, eve = feed(tmp_path, lines)
    assert eve.stats.records + eve.stats.malformed + eve.stats.skipped == 2000
    assert pipeline.stats.internal_errors == 0


def test_a_tracker_seen_by_suricata_is_the_devices_finding(tmp_path: Path) -> None:
    eve_file = tmp_path / "eve.json"
    eve_file.write_text("")
    config = tmp_path / "config.yaml"
    config.write_text(f"stats_interval: 1\nflush_interval: 1\neve_files: [{eve_file}]\nweb_listen: never\n")
    with daemon_running(tmp_path, config) as (_, log):
        wait_for_text(log, "following Suricata's EVE log")
        tracker = record("dns", {"type": "query", "id": 9, "rrname": "ads.doubleclick.net", "rrtype": "A"},
                         dst=RESOLVER, proto="UDP", dport=53)  # fmt: skip
        with eve_file.open("a") as out:
            out.write(tracker + "\n")
        db = str(tmp_path / "hg.db")
        deadline = time.monotonic() + 15
        found: list[dict[str, Any]] = []
        while time.monotonic() < deadline and not found:
            rows = json.loads(homeguard("findings", "--db", db, "--json").stdout)
            found = [f for f in rows if f["rule"] == "tracker-contact"]
            time.sleep(0.5)
    assert found, "no tracker finding from the EVE record"
    assert "doubleclick.net" in json.dumps(found[0])
