"""The data ledger and `homeguard report`: a household crafted with scapy in which devices
reach organisations in every way HomeGuard attributes them, replayed for real; the report
must name the right organisation and both countries for each, and add up to the flows."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from scapy.all import wrpcap
from scapy.layers.dns import DNS, DNSQR, DNSRR
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether
from sqlite_utils import Database

from homeguard.cli.main import cli
from homeguard.clock import ManualClock
from homeguard.decode.addresses import is_local_ip
from homeguard.report.words import size
from tests.conftest import homeguard
from tests.conversations import client_hello, tcp_conversation
from tests.household import ROUTER, internet, tls13_server_hello

TS0 = 1_767_484_800.0  # a Sunday noon in the captures' week (2026-01-04 UTC)
TV = ("a8:23:fe:00:00:10", "192.168.1.10")  # LG's prefix: a smart TV
LAPTOP = ("3c:22:fb:00:00:11", "192.168.1.11")
PHONE = ("f0:18:98:00:00:12", "192.168.1.12")
CAMERA = ("d8:1f:12:00:00:13", "192.168.1.13")
PRIVATE = ("3c:22:fb:00:00:14", "192.168.1.14")  # in metadata_only

OWNERS = (  # the address-owners table a user's `lists update` would fetch
    "8.8.8.0\t8.8.8.255\t15169\tUS\tGOOGLE\n"
    "185.60.216.0\t185.60.219.255\t64500\tIE\tEXAMPLE-HOSTING-EU\n"
    "not\ta\trange\n"
)


def answer(device: tuple[str, str], name: str, chain: list[str], ip: str, qid: int) -> list[Any]:
    """A lookup whose answer goes through the CNAMEs in `chain` to `ip`."""
    up = (
        Ether(src=device[0], dst=ROUTER[0])
        / IP(src=device[1], dst=ROUTER[1])
        / UDP(sport=50000 + qid, dport=53)
    )
    down = (
        Ether(src=ROUTER[0], dst=device[0])
        / IP(src=ROUTER[1], dst=device[1])
        / UDP(sport=53, dport=50000 + qid)
    )
    names = [name, *chain]
    records = [DNSRR(rrname=a, type="CNAME", rdata=b, ttl=60) for a, b in itertools.pairwise(names)]
    records.append(DNSRR(rrname=names[-1], rdata=ip, ttl=60))
    reply = DNS(id=qid, qr=1, rd=1, ra=1, qd=DNSQR(qname=name), an=records)
    return [up / DNS(id=qid, rd=1, qd=DNSQR(qname=name)), down / reply]


def upload(device: tuple[str, str], ip: str, sport: int, size: int, hello: str | None = None) -> list[Any]:
    """A TCP connection that sends `size` bytes (after a ClientHello naming `hello`)."""
    first = [(True, client_hello(sni=hello)), (False, tls13_server_hello())] if hello else []
    return tcp_conversation(
        [*first, (True, b"\x17\x03\x03" + size.to_bytes(2, "big") + b"\x00" * size)],
        dport=443,
        sport=sport,
        client=device,
        server=internet(ip),
    )


def household() -> list[Any]:
    return [
        # 1. by SNI only: no lookup seen (a DoH phone, a cached answer)
        *upload(LAPTOP, "35.186.224.25", 41001, 3000, hello="api.spotify.com"),
        # 2. by DNS only: the TV's viewing data, no TLS name
        *answer(TV, "log-ingestion.samsungacr.com", [], "52.1.2.3", 1),
        *upload(TV, "52.1.2.3", 41002, 8000),
        # 3. a tracker behind the bank's own name (CNAME cloaking)
        *answer(PHONE, "metrics.mijnbank.nl", ["mijnbank.eulerian.net"], "109.232.192.10", 2),
        *upload(PHONE, "109.232.192.10", 41003, 1500),
        # 4. a company through a CDN
        *answer(
            TV, "www.samsung.com", ["www.samsung.com.edgekey.net", "e1234.a.akamaiedge.net"], "23.1.2.3", 3
        ),
        *upload(TV, "23.1.2.3", 41004, 2000),
        # 5. by address only: the camera's cloud, by its block's owner (Google's AS, and an unknown one)
        *upload(CAMERA, "8.8.8.8", 41005, 700),
        *upload(CAMERA, "185.60.216.35", 41006, 900),
        # a device whose member asked for metadata only
        *answer(PRIVATE, "www.example-clinic.nl", [], "52.9.9.9", 4),
        *upload(PRIVATE, "52.9.9.9", 41007, 1200, hello="www.example-clinic.nl"),
    ]


def replay_household(work: Path) -> tuple[Path, Path]:
    """The crafted household, replayed into work/hg.db with its config (address owners,
    metadata_only); returns the database and the config."""
    lists = work / "lists"
    lists.mkdir()
    (lists / "address-owners.tsv").write_text(OWNERS)
    config = work / "config.yaml"
    config.write_text(
        f"lists_dir: {lists}\nrules_dir: {work / 'no-rules'}\nmetadata_only: ['{PRIVATE[0]}']\n"
    )
    packets = household()
    for i, pkt in enumerate(packets):
        pkt.time = TS0 + i * 0.01
    capture = work / "household.pcap"
    wrpcap(str(capture), packets)
    db = work / "hg.db"
    homeguard("replay", str(capture), "--db", str(db), "--config", str(config))
    return db, config


@pytest.fixture(scope="module")
def replayed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return replay_household(tmp_path_factory.mktemp("report"))


def report(db: Path, *args: str, now: float = TS0 + 3600) -> str:
    """`homeguard report` in this process, on a clock set to the captures' week."""
    done = CliRunner().invoke(cli, ["report", "--db", str(db), *args], obj=ManualClock(now))
    assert done.exit_code == 0, done.output
    return done.output


def by_org(device: dict[str, Any]) -> dict[str | None, dict[str, Any]]:
    return {o["name"]: o for o in device["organisations"]}


def test_every_way_of_attribution_names_the_organisation_and_both_countries(
    replayed: tuple[Path, Path],
) -> None:
    db, _config = replayed
    data = json.loads(report(db, "--format", "json"))
    devices = {d["mac"]: d for d in data["devices"]}
    laptop, tv, phone, camera = (by_org(devices[d[0]]) for d in (LAPTOP, TV, PHONE, CAMERA))
    spotify = laptop["Spotify"]
    assert (spotify["source"], spotify["jurisdiction"], spotify["countries"][0]["code"]) == (
        "tls",
        "SE",
        "US",
    )
    acr = tv["Samsung"]
    assert acr["jurisdiction"] == "KR" and acr["jurisdiction_name"] == "South Korea"
    assert {c["code"] for c in acr["countries"]} == {"US"} and acr["via"] == "Akamai"  # www.samsung.com
    assert "samsungacr.com" in acr["domains"] and "samsung.com" in acr["domains"]
    eulerian = phone["Eulerian"]
    assert (eulerian["source"], eulerian["jurisdiction"], eulerian["tracker"]) == ("cname", "FR", True)
    assert "mijnbank.nl" in eulerian["domains"]  # the first-party name it hid behind
    assert camera["Google"]["source"] == "address" and camera["Google"]["jurisdiction"] == "US"
    unknown = camera["EXAMPLE-HOSTING-EU"]
    assert unknown["source"] == "address" and unknown["jurisdiction"] == "IE"
    assert devices[PHONE[0]]["trackers"] == ["Eulerian"]


def test_the_totals_add_up_to_the_flows(replayed: tuple[Path, Path]) -> None:
    db, _config = replayed
    data = json.loads(report(db, "--format", "json"))
    flows = Database(db).query("SELECT src_ip, dst_ip, bytes_out, bytes_in FROM flows")
    leaving = [f for f in flows if is_local_ip_text(f["src_ip"]) != is_local_ip_text(f["dst_ip"])]
    assert len(leaving) == 7
    flow_bytes = sum(f["bytes_out"] + f["bytes_in"] for f in leaving)
    house = data["household"]
    assert house["bytes_out"] + house["bytes_in"] == flow_bytes
    assert sum(d["bytes_out"] + d["bytes_in"] for d in data["devices"]) == flow_bytes
    for device in data["devices"]:
        if not device["totals_only"]:
            listed = sum(o["bytes_out"] + o["bytes_in"] for o in device["organisations"])
            assert listed == device["bytes_out"] + device["bytes_in"]


def is_local_ip_text(ip: str) -> bool:
    import ipaddress

    return is_local_ip(ipaddress.ip_address(ip).packed)


def test_a_metadata_only_device_shows_totals_and_none_of_its_names(replayed: tuple[Path, Path]) -> None:
    db, _config = replayed
    data = json.loads(report(db, "--format", "json"))
    private = next(d for d in data["devices"] if d["mac"] == PRIVATE[0])
    assert private["totals_only"] and private["organisations"] == [] and private["bytes_out"] > 1200
    everywhere = json.dumps(data) + report(db) + report(db, "--format", "html")
    assert "clinic" not in everywhere
    rows = Database(db).execute(
        "SELECT org, server_country, domains FROM ledger WHERE device_mac = ?", [PRIVATE[0]]
    )
    assert rows.fetchall() == [("", "", "[]")]


def test_sentences_in_english_and_dutch(replayed: tuple[Path, Path]) -> None:
    db, _config = replayed
    tv = next(d for d in json.loads(report(db, "--format", "json"))["devices"] if d["mac"] == TV[0])
    sent = size(by_org(tv)["Samsung"]["bytes_out"])
    english = report(db, "--device", TV[0])
    assert f"sent {sent} to Samsung (South Korea, servers in the United States) this week." in english
    assert "100% of its data went to servers outside the EU and EEA" in english
    assert "It contacted a tracking or telemetry company: Samsung." in english  # samsungacr.com: viewing data
    dutch = report(db, "--device", TV[0], "--language", "nl")
    assert f"stuurde deze week {sent} naar Samsung (Zuid-Korea, servers in de Verenigde Staten)." in dutch
    later = report(db, "--format", "json", now=TS0 + 8 * 86400)  # the week after: nothing new happened
    assert json.loads(later)["devices"] == []


def test_what_changed_since_the_week_before(tmp_path: Path) -> None:
    db, config = replay_household(tmp_path)
    week_two = [
        *answer(TV, "log-ingestion.samsungacr.com", [], "52.1.2.3", 11),
        *upload(TV, "52.1.2.3", 42002, 30000),
        *upload(CAMERA, "8.8.8.8", 42005, 700),
    ]
    for i, pkt in enumerate(week_two):
        pkt.time = TS0 + 7 * 86400 + i * 0.01
    capture = tmp_path / "week-two.pcap"
    wrpcap(str(capture), week_two)
    homeguard("replay", str(capture), "--db", str(db), "--config", str(config))
    first = {d["mac"]: d for d in json.loads(report(db, "--format", "json"))["devices"]}
    data = json.loads(report(db, "--format", "json", now=TS0 + 7 * 86400 + 3600))
    devices = {d["mac"]: d for d in data["devices"]}
    assert set(devices) == {TV[0], CAMERA[0]}  # the others were quiet this week
    tv, camera = devices[TV[0]], devices[CAMERA[0]]
    assert tv["bytes_out_previous_period"] == first[TV[0]]["bytes_out"]
    assert tv["new_organisations"] == [] and camera["gone_organisations"] == ["EXAMPLE-HOSTING-EU"]
    grown = round((tv["bytes_out"] / tv["bytes_out_previous_period"] - 1) * 100)
    assert f"It sent {grown}% more than in the period before" in " ".join(tv["sentences"])
