"""Exports for an IT department: the crafted household (tests/household.py) replayed with
Anna's laptop as the work device. What leaves is valid ECS, holds the laptop's findings
and the attacks on the network, and not one byte that names the household's other
devices, their addresses or what they looked up."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from scapy.all import wrpcap
from sqlite_utils import Database

from homeguard.outputs.export.cef import cef_line
from homeguard.outputs.export.syslog import message
from tests import household
from tests.conftest import homeguard

ECS_FIELDS = Path(__file__).parent / "samples" / "ecs" / "fields-8.12.txt"
# Allowed values of ECS's categorization fields (ECS reference: event.kind, event.category).
EVENT_KINDS = {"alert", "asset", "enrichment", "event", "metric", "state", "pipeline_error", "signal"}
EVENT_CATEGORIES = {
    "api", "authentication", "configuration", "database", "driver", "file", "host", "iam",
    "intrusion_detection", "library", "malware", "network", "package", "process", "registry",
    "session", "threat", "vulnerability", "web",
}  # fmt: skip
WORK = household.LAPTOP
EXPECTED = {  # (rule, subject): the laptop's own findings, and the attacks on its network
    ("cleartext-password", "work_device"),
    ("mail-without-tls", "work_device"),
    ("telnet-in-use", "work_device"),
    ("default-password", "work_device"),
    ("arp-spoofing-gateway", "home_network"),
    ("rogue-dhcp", "home_network"),
    ("rogue-router-advertisement", "home_network"),
    ("host-sweep", "home_network"),
}


def ecs_fields() -> set[str]:
    lines = ECS_FIELDS.read_text().splitlines()
    return {line for line in lines if line and not line.startswith("#")}


def flatten(doc: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in doc.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, name + "."))
        else:
            out[name] = value
    return out


def replay_with_exports(folder: Path, extra: str = "", site: str = "home-0421") -> tuple[Path, Path]:
    """The learning week and today, with the ECS file export; returns (database, file)."""
    rules_dir = folder / "rules.d"
    (rules_dir / "lists").mkdir(parents=True)
    (rules_dir / "lists" / "threats.txt").write_text("\n".join(household.THREATS) + "\n")
    ecs_file = folder / "export" / "homeguard.ndjson"
    config = folder / "config.yaml"
    config.write_text(
        f"rules_dir: {rules_dir}\nexport_ecs_file: {ecs_file}\nfleet_work_devices: ['{WORK[0]}']\n"
        f"fleet_site: {site}\nfleet_organization: Example Corp\nexport_health_minutes: 60\n{extra}"
    )
    db = folder / "homeguard.db"
    week, day = folder / "week.pcap", folder / "today.pcap"
    wrpcap(str(week), household.learning_week())
    wrpcap(str(day), household.today())
    for capture in (week, day):
        homeguard("replay", str(capture), "--db", str(db), "--config", str(config))
    return db, ecs_file


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, list[dict[str, Any]], bytes]]:
    db, ecs_file = replay_with_exports(tmp_path_factory.mktemp("export"))
    raw = ecs_file.read_bytes()
    yield db, [json.loads(line) for line in raw.splitlines()], raw


def test_every_document_is_ecs_or_under_homeguard(exported: tuple[Path, list[Any], bytes]) -> None:
    _, docs, _ = exported
    known = ecs_fields()
    assert docs
    for doc in docs:
        for name, value in flatten(doc).items():
            assert name in known or name.startswith(("homeguard.", "labels.")), name
            assert not isinstance(value, dict), name
        event = doc["event"]
        assert event["kind"] in EVENT_KINDS and set(event["category"]) <= EVENT_CATEGORIES
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", doc["@timestamp"])
        assert doc["observer"]["name"] == "home-0421" and doc["labels"]["site"] == "home-0421"
        assert doc["organization"]["name"] == "Example Corp" and doc["ecs"]["version"].startswith("8.")
    ids = [doc["event"]["id"] for doc in docs]
    assert len(ids) == len(set(ids))  # one id per document


def test_the_laptops_findings_and_the_attacks_on_its_network_go_out(
    exported: tuple[Path, list[Any], bytes],
) -> None:
    db, docs, _ = exported
    findings = [d for d in docs if d["event"]["kind"] == "alert"]
    assert {(d["rule"]["id"], d["homeguard"]["subject"]) for d in findings} == EXPECTED
    made = {(row["rule"], row["device_mac"]) for row in Database(db)["findings"].rows}
    assert ("port-scan", household.PI[0]) in made  # a scan of the camera, not of the laptop: stays home
    telnet = next(d for d in findings if d["rule"]["id"] == "telnet-in-use")
    assert telnet["source"]["ip"] == WORK[1] and telnet["source"]["mac"] == WORK[0].upper().replace(":", "-")
    assert "destination" not in telnet and telnet["homeguard"]["peer"] == "a device on the home network"
    spoof = next(d for d in findings if d["rule"]["id"] == "arp-spoofing-gateway")
    assert (
        spoof["message"]
        == "A device pretends to be your router (ARP spoofing) (a device on the home network)"
    )
    assert "source" not in spoof and "destination" not in spoof and spoof["event"]["severity"] == 5
    health = [d for d in docs if d["event"]["kind"] == "metric"]
    assert health and health[0]["homeguard"]["health"]["visibility"] in ("sees_all", "one_way")


def private_words(db: Path) -> list[str]:
    """Every name, MAC, address and looked-up name of a device that is not the laptop."""
    store = Database(db)
    words: set[str] = set()
    for row in store["devices"].rows:
        if row["mac"] != WORK[0]:
            words |= {row["mac"], row["mac"].upper().replace(":", "-"), row["mac"].replace(":", "")}
            words |= {row[k] for k in ("hostname", "mdns_name") if row[k]}
    words |= {row["ip"] for row in store["device_ips"].rows if row["mac"] != WORK[0]}
    laptops = {row["query"] for row in store["dns_log"].rows if row["device_mac"] == WORK[0]}
    words |= {row["query"] for row in store["dns_log"].rows if row["device_mac"] != WORK[0]} - laptops
    return sorted(w for w in words if w)


def test_the_privacy_grep_finds_no_other_device_in_any_output(
    exported: tuple[Path, list[Any], bytes],
) -> None:
    db, docs, raw = exported
    words = private_words(db)
    assert household.HOSTNAMES[household.TV] in words and household.CAMERA[1] in words  # the grep has teeth
    outputs = {
        "ECS file": raw.decode(),
        "syslog ECS": b"\n".join(
            message(json.dumps(d), "high", "home-0421", "finding", 0.0) for d in docs
        ).decode(),
        "syslog CEF": "\n".join(cef_line(d) for d in docs),
    }
    for output, text in outputs.items():
        for word in words:
            assert not re.search(rf"(?<![\w.-]){re.escape(word)}(?![\w-]|\.\d)", text, re.I), (output, word)


def test_the_ecs_file_rotates_by_size_and_keeps_whole_lines(tmp_path: Path) -> None:
    from homeguard.outputs.export.ndjson import RotatingNdjson

    path = tmp_path / "hg.ndjson"
    out = RotatingNdjson(path, max_bytes=1000, keep=2)
    for n in range(60):
        out.write({"n": n, "pad": "x" * 80})
    out.close()
    kept = [path, path.with_name("hg.ndjson.1"), path.with_name("hg.ndjson.2")]
    assert all(p.exists() for p in kept) and not path.with_name("hg.ndjson.3").exists()
    assert all(p.stat().st_size <= 1000 for p in kept)
    numbers = [json.loads(line)["n"] for p in reversed(kept) for line in p.read_text().splitlines()]
    assert numbers == list(range(numbers[0], 60))  # the newest, in order, each line whole


def test_syslog_over_udp_is_rfc_5424_one_message_a_datagram(tmp_path: Path) -> None:
    import socket

    from homeguard.clock import ManualClock
    from homeguard.outputs.export.sender import SyslogSender
    from homeguard.outputs.export.syslog import Destination
    from homeguard.store.database import open_database

    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    receiver.settimeout(5)
    db = open_database(tmp_path / "hg.db")
    doc = {"@timestamp": "2026-01-09T09:00:00.000Z", "event": {"id": "abc", "severity": 4}, "message": "m"}
    db.table("export_spool").insert(
        {
            "created": 1_767_949_200.0,
            "event_id": "abc",
            "severity": "high",
            "msgid": "finding",
            "body": json.dumps(doc),
        }
    )
    destination = Destination.parse(f"udp://127.0.0.1:{receiver.getsockname()[1]}")
    sender = SyslogSender(destination, "ecs", None, "home-0421", ManualClock(1_767_949_300.0))
    sender.work(db)
    datagram = receiver.recv(65536).decode()
    assert re.fullmatch(
        r'<131>1 2026-01-09T09:00:00\.000000Z home-0421 homeguard - finding - \{"@timestamp".*\}', datagram
    )  # local0 (16) * 8 + error (3); no octet count over UDP
    assert db.execute("SELECT count(*) FROM export_spool").fetchone()[0] == 0  # UDP: sent is delivered
    sender.close()
    receiver.close()
    with pytest.raises(Exception, match="write tls://HOST:PORT"):
        Destination.parse("http://siem.example.org")


def test_a_work_device_is_known_by_its_identity_when_its_mac_is_private() -> None:
    from homeguard.findings.model import Finding
    from homeguard.outputs.export.partition import Partition

    identity = "dhcp:anna-laptop|1,121,3,6,15,119,252"
    known = {"da:a1:19:00:00:01": identity}  # today's private MAC, as the device inventory knows it
    partition = Partition([identity], identity_of=known.get)
    finding = Finding(
        rule="cleartext-password", title="t", category="privacy.cleartext-credentials", severity="high",
        ts=0.0, device_mac="da:a1:19:00:00:01", device_ip="192.168.1.30", key="[]",
        messages={}, remediations={}, endpoints={"src.mac": "da:a1:19:00:00:01", "src.ip": "192.168.1.30"},
    )  # fmt: skip
    exported = partition.export(finding)
    assert exported is not None and exported.subject == "work_device" and exported.source.ip == "192.168.1.30"
    finding.device_mac = finding.endpoints["src.mac"] = "fa:b2:33:00:00:02"  # another private device
    assert partition.export(finding) is None
