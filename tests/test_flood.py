"""A flood of made-up devices (what macof sends): one finding, the devices HomeGuard
knew keep their full analysis, and the inventory is not filled with fiction."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from scapy.all import wrpcap
from scapy.layers.dns import DNS, DNSQR
from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.l2 import Ether
from sqlite_utils import Database

from homeguard.state.flood import FLOOD_CALM_WINDOWS, FLOOD_NEW_MACS, FLOOD_WINDOW, MacFloodGuard
from tests.conftest import TS0, homeguard, read_jsonl

LAPTOP, CAMERA, ROUTER = "aa:00:00:00:00:01", "aa:00:00:00:00:02", "aa:00:00:00:00:fe"


def at(ts: float, pkt: Any) -> Any:
    pkt.time = ts
    return pkt


def query(mac: str, ip: str, name: str) -> Any:
    return (
        Ether(src=mac, dst=ROUTER)
        / IP(src=ip, dst="192.168.1.1")
        / UDP(sport=5353, dport=53)
        / DNS(rd=1, qd=DNSQR(qname=name))
    )


def made_up(i: int) -> Any:
    mac = f"02:00:00:00:{i >> 8:02x}:{i & 0xFF:02x}"
    return query(mac, f"10.9.{i >> 8}.{i & 0xFF}", f"h{i}.flood.example")


def test_a_mac_flood_is_one_finding_and_the_known_devices_keep_their_analysis(tmp_path: Path) -> None:
    flood = FLOOD_NEW_MACS + 100
    packets = [
        at(TS0, query(LAPTOP, "192.168.1.10", "example.com")),
        at(TS0 + 0.1, query(CAMERA, "192.168.1.20", "camera.example")),
        *(at(TS0 + 1 + i / 1000, made_up(i)) for i in range(flood)),
        # during the flood: the laptop, known, opens telnet to the camera ...
        at(
            TS0 + 2,
            Ether(src=LAPTOP, dst=CAMERA)
            / IP(src="192.168.1.10", dst="192.168.1.20")
            / TCP(dport=23, flags="S"),
        ),
        at(
            TS0 + 2.001,  # which the camera accepts
            Ether(src=CAMERA, dst=LAPTOP)
            / IP(src="192.168.1.20", dst="192.168.1.10")
            / TCP(sport=23, flags="SA"),
        ),
        # ... and a real newcomer is not told from the fiction
        at(TS0 + 3, query("aa:00:00:00:00:03", "192.168.1.30", "newcomer.example")),
        # a minute of calm later, a newcomer is a device again
        at(
            TS0 + 3 + FLOOD_WINDOW * (FLOOD_CALM_WINDOWS + 1),
            query("aa:00:00:00:00:04", "192.168.1.40", "x.example"),
        ),
    ]
    capture = tmp_path / "flood.pcap"
    wrpcap(str(capture), packets)  # with the times set above
    db, events_file = tmp_path / "hg.db", tmp_path / "events.jsonl"
    done = homeguard("replay", str(capture), "--db", str(db), "--events", str(events_file))
    # the laptop and the camera were new in that window too; the newcomer is skipped
    skipped = 2 + flood - FLOOD_NEW_MACS + 1
    assert f"{skipped} packets from unknown devices were skipped" in done.stderr
    assert "a flood of made-up devices" in done.stderr and "the MAC flood is over after" in done.stderr
    floods = [e for e in read_jsonl(events_file) if e["type"] == "mac_flood"]
    assert [(e["flood.state"], e["flood.new_macs"]) for e in floods] == [
        ("started", FLOOD_NEW_MACS + 1),
        ("ended", 0),
    ]
    store = Database(db)
    findings = {(r["rule"], r["device_mac"]) for r in store.query("SELECT rule, device_mac FROM findings")}
    assert ("mac-flood", "") in findings
    assert ("telnet-in-use", LAPTOP) in findings
    macs = {r["mac"] for r in store.query("SELECT mac FROM devices")}
    assert len(macs) == FLOOD_NEW_MACS + 1  # the first 500 new MACs got in before it was known
    assert "aa:00:00:00:00:03" not in macs and "aa:00:00:00:00:04" in macs


def test_the_guard_counts_windows_of_packet_time() -> None:
    guard = MacFloodGuard()
    admitted = [guard.admit(100.0 + i * 0.001)[0] for i in range(FLOOD_NEW_MACS)]
    assert all(admitted) and not guard.flooding
    allowed, report = guard.admit(100.6)
    assert not allowed and report is not None and report.state == "started" and guard.flooding
    # a steady trickle below the threshold never ends ... nor starts a flood on its own
    quiet = MacFloodGuard()
    assert all(quiet.admit(1000.0 + i)[0] for i in range(3 * FLOOD_NEW_MACS))
    # the flood ends only after FLOOD_CALM_WINDOWS calm windows
    assert guard.advance(100.6 + FLOOD_WINDOW * (FLOOD_CALM_WINDOWS - 1)) is None and guard.flooding
    over = guard.advance(100.6 + FLOOD_WINDOW * (FLOOD_CALM_WINDOWS + 1))
    assert over is not None and over.state == "ended" and not guard.flooding


def test_a_full_table_forgets_its_oldest_hundredth_at_once() -> None:
    from homeguard.bounded import make_room

    table = {i: str(i) for i in range(1000)}
    assert make_room({1: "a"}, 1000) == []
    assert make_room(table, 1000) == [str(i) for i in range(10)]  # oldest first
    assert len(table) == 990 and next(iter(table)) == 10
    over = {i: i for i in range(1200)}  # a limit lowered by a reload: back under it at once
    make_room(over, 1000)
    assert len(over) == 990
