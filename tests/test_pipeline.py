"""The pipeline on crafted traffic: devices, flows, server names and the DNS log."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from scapy.all import BOOTP, DHCP, DNS, DNSQR, DNSRR, IP, TCP, UDP, Ether, Raw  # type: ignore[attr-defined]

from homeguard.clock import ManualClock
from homeguard.errors import StoreError
from homeguard.events import Event
from homeguard.settings import Config
from homeguard.store.database import open_database, schema_version
from homeguard.store.queries import device_listing, load_device_rows
from homeguard.store.schema import SCHEMA_VERSION
from homeguard.store.writer import BatchWriter
from tests.conftest import TS0, frames_of, run_pipeline

LAPTOP, ROUTER, PI = "3c:22:fb:00:00:01", "02:00:00:00:00:fe", "b8:27:eb:00:00:02"
LAPTOP_IP, ROUTER_IP, SERVER_IP = "192.168.1.20", "192.168.1.1", "93.184.216.34"


def web_visit(mac: str = LAPTOP, ip: str = LAPTOP_IP, sport: int = 50000) -> list[Any]:
    up = Ether(src=mac, dst=ROUTER) / IP(src=ip, dst=SERVER_IP)
    down = Ether(src=ROUTER, dst=mac) / IP(src=SERVER_IP, dst=ip)
    dns_up = Ether(src=mac, dst=ROUTER) / IP(src=ip, dst=ROUTER_IP) / UDP(sport=sport + 1, dport=53)
    dns_down = Ether(src=ROUTER, dst=mac) / IP(src=ROUTER_IP, dst=ip) / UDP(sport=53, dport=sport + 1)
    return [
        dns_up / DNS(id=5, qd=DNSQR(qname="www.example.com")),
        dns_down
        / DNS(
            id=5, qr=1, qd=DNSQR(qname="www.example.com"), an=DNSRR(rrname="www.example.com", rdata=SERVER_IP)
        ),
        up / TCP(sport=sport, dport=443, flags="S"),
        down / TCP(sport=443, dport=sport, flags="SA"),
        up / TCP(sport=sport, dport=443, flags="A") / Raw(b"x" * 100),
        down / TCP(sport=443, dport=sport, flags="A") / Raw(b"y" * 1000),
        up / TCP(sport=sport, dport=443, flags="FA"),
        down / TCP(sport=443, dport=sport, flags="FA"),
        up / TCP(sport=sport, dport=443, flags="A"),  # the last ACK stays in the same flow
    ]


def dhcp_request(mac: str, hostname: str) -> object:
    return (
        Ether(src=mac, dst="ff:ff:ff:ff:ff:ff")
        / IP(src="0.0.0.0", dst="255.255.255.255")
        / UDP(sport=68, dport=67)
        / BOOTP(chaddr=bytes.fromhex(mac.replace(":", "")))
        / DHCP(
            options=[
                ("message-type", "request"),
                ("hostname", hostname),
                ("param_req_list", [1, 3, 6, 15]),
                ("vendor_class_id", "MSFT 5.0"),
                "end",
            ]
        )
    )


def dhcp_ack(mac: str, ip: str) -> object:
    return (
        Ether(src=ROUTER, dst=mac)
        / IP(src=ROUTER_IP, dst=ip)
        / UDP(sport=67, dport=68)
        / BOOTP(op=2, yiaddr=ip, chaddr=bytes.fromhex(mac.replace(":", "")))
        / DHCP(options=[("message-type", "ack"), ("server_id", ROUTER_IP), "end"])
    )


def mdns_announcement(mac: str, ip: str, host: str) -> object:
    return (
        Ether(src=mac, dst="01:00:5e:00:00:fb")
        / IP(src=ip, dst="224.0.0.251")
        / UDP(sport=5353, dport=5353)
        / DNS(
            qr=1,
            aa=1,
            an=[
                DNSRR(rrname=f"{host}.local", type="A", rdata=ip),
                DNSRR(
                    rrname="_googlecast._tcp.local",
                    type="PTR",
                    rdata="Living Room TV._googlecast._tcp.local",
                ),
            ],
        )
    )


def test_a_web_visit_becomes_one_named_flow_with_counts_both_ways() -> None:
    _pipeline, events = run_pipeline(frames_of(web_visit()))
    ends = [e for e in events if e["type"] == "flow_end" and e["proto"] == "tcp"]
    assert len(ends) == 1
    flow = ends[0]
    assert flow["flow.server_name"] == "www.example.com"
    assert (flow["src.ip"], flow["dst.ip"], flow["dst.port"]) == (LAPTOP_IP, SERVER_IP, 443)
    assert (flow["flow.packets_out"], flow["flow.packets_in"]) == (4, 3)
    assert flow["flow.bytes_in"] > flow["flow.bytes_out"]
    assert flow["flow.end_reason"] == "fin"


def test_devices_get_names_vendor_ips_and_randomised_flag() -> None:
    phone = "da:a1:19:00:00:03"  # locally administered: a private address
    packets = [
        dhcp_request(LAPTOP, "work-laptop"),
        dhcp_ack(LAPTOP, LAPTOP_IP),
        mdns_announcement(PI, "192.168.1.30", "pihole"),
        *web_visit(phone, "192.168.1.40"),
    ]
    pipeline, events = run_pipeline(frames_of(packets))
    by_mac = {d.mac: d for d in pipeline.devices}
    assert by_mac[LAPTOP].hostname == "work-laptop" and by_mac[LAPTOP].vendor_class == "MSFT 5.0"
    assert by_mac[LAPTOP].dhcp_fingerprint == "1,3,6,15" and LAPTOP_IP in by_mac[LAPTOP].ips
    assert by_mac[PI].mdns_name == "pihole.local" and by_mac[PI].vendor == "Raspberry Pi Foundation"
    assert by_mac[phone].randomized and by_mac[phone].vendor is None
    assert "192.168.1.40" in by_mac[phone].ips and SERVER_IP not in by_mac[ROUTER].ips
    new = sorted(e["device.mac"] for e in events if e["type"] == "device_new")
    assert new == sorted([LAPTOP, ROUTER, PI, phone])
    mdns = next(e for e in events if e["type"] == "mdns")
    assert mdns["mdns.services"] == ["Living Room TV._googlecast._tcp.local"]


def test_idle_flows_end_after_the_timeout() -> None:
    config = Config()
    config.set("flow_idle_timeout", 30, "test")
    ping = Ether(src=LAPTOP, dst=ROUTER) / IP(src=LAPTOP_IP, dst="9.9.9.9") / UDP(sport=4000, dport=123)
    later = Ether(src=LAPTOP, dst=ROUTER) / IP(src=LAPTOP_IP, dst="9.9.9.10") / UDP(sport=4001, dport=123)
    frames = frames_of([ping]) + frames_of([later], start=1_700_000_100.0)
    _pipeline, events = run_pipeline(frames, config)
    first_end = next(e for e in events if e["type"] == "flow_end")
    assert first_end["dst.ip"] == "9.9.9.9" and first_end["flow.end_reason"] == "idle"
    assert first_end["ts"] < 1_700_000_100.0  # ended by the sweep, before shutdown


def test_flow_table_stays_bounded_and_evicted_flows_are_kept() -> None:
    config = Config()
    config.set("max_flows", 16, "test")
    packets = [
        Ether(src=LAPTOP, dst=ROUTER) / IP(src=LAPTOP_IP, dst=f"9.9.{i}.9") / UDP(sport=4000, dport=53)
        for i in range(100)
    ]
    events: list[Event] = []
    from homeguard.pipeline.core import Pipeline

    pipeline = Pipeline(config, None, [events.append], clock=ManualClock(TS0))
    peak = 0
    for frame in frames_of(packets, step=0.001):
        pipeline.process(frame)
        peak = max(peak, len(pipeline.flows))
    pipeline.close()
    assert peak <= 16
    ends = [e for e in events if e["type"] == "flow_end"]
    assert len(ends) == 100  # nothing lost: evicted flows are ended and reported
    assert sum(e["flow.end_reason"] == "evicted" for e in ends) >= 84


def test_rst_ends_a_flow() -> None:
    up = Ether(src=LAPTOP, dst=ROUTER) / IP(src=LAPTOP_IP, dst=SERVER_IP)
    down = Ether(src=ROUTER, dst=LAPTOP) / IP(src=SERVER_IP, dst=LAPTOP_IP)
    _p, events = run_pipeline(
        frames_of([up / TCP(sport=1, dport=23, flags="S"), down / TCP(sport=23, dport=1, flags="RA")])
    )
    (end,) = [e for e in events if e["type"] == "flow_end"]
    assert end["flow.end_reason"] == "rst" and end["flow.packets_in"] == 1


@pytest.fixture
def store(tmp_path: Path):  # type: ignore[no-untyped-def]
    db = open_database(tmp_path / "hg.db")
    yield db, BatchWriter(db, 100)
    db.close()


def test_everything_lands_in_sqlite(store) -> None:  # type: ignore[no-untyped-def]
    db, writer = store
    unanswered = (
        Ether(src=LAPTOP, dst=ROUTER)
        / IP(src=LAPTOP_IP, dst=ROUTER_IP)
        / UDP(sport=7000, dport=53)
        / DNS(id=9, qd=DNSQR(qname="gone.example", qtype="AAAA"))
    )
    packets = [dhcp_request(LAPTOP, "work-laptop"), *web_visit(), unanswered]
    run_pipeline(frames_of(packets), writer=writer)
    devices = {d["mac"]: d for d in device_listing(db)}
    assert devices[LAPTOP]["name"] == "work-laptop" and LAPTOP_IP in devices[LAPTOP]["ips"]
    flows = list(db["flows"].rows_where("proto = 'tcp'"))
    assert len(flows) == 1 and flows[0]["server_name"] == "www.example.com"
    assert flows[0]["packets_out"] == 4 and flows[0]["packets_in"] == 3
    dns = {r["query"]: r for r in db["dns_log"].rows}
    assert dns["www.example.com"]["answers"] == SERVER_IP and dns["www.example.com"]["rcode"] == "NOERROR"
    assert dns["www.example.com"]["device_mac"] == LAPTOP
    assert dns["gone.example"]["rcode"] is None and dns["gone.example"]["qtype"] == "AAAA"
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert schema_version(db) == SCHEMA_VERSION


def test_known_devices_are_not_new_after_a_restart(store) -> None:  # type: ignore[no-untyped-def]
    db, writer = store
    run_pipeline(frames_of(web_visit()), writer=writer)
    from homeguard.pipeline.core import Pipeline

    events: list[Any] = []
    second = Pipeline(Config(), writer, [events.append], clock=ManualClock(TS0))
    second.devices.restore(*load_device_rows(db, 100))
    for frame in frames_of(web_visit(), start=1_700_100_000.0):
        second.process(frame)
    second.close()
    assert [e for e in events if e["type"] == "device_new"] == []
    first_seen = {d["mac"]: d["first_seen"] for d in device_listing(db)}
    assert first_seen[LAPTOP] < 1_700_100_000.0


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    db = open_database(tmp_path / "hg.db")
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(StoreError, match="newer than this HomeGuard"):
        open_database(tmp_path / "hg.db")


def test_a_flow_first_seen_at_its_syn_ack_belongs_to_the_client() -> None:
    up = Ether(src=LAPTOP, dst=ROUTER) / IP(src=LAPTOP_IP, dst=SERVER_IP)
    down = Ether(src=ROUTER, dst=LAPTOP) / IP(src=SERVER_IP, dst=LAPTOP_IP)
    packets = [
        down / TCP(sport=443, dport=50000, flags="SA"),
        up / TCP(sport=50000, dport=443, flags="A"),
        up / TCP(sport=50000, dport=443, flags="RA"),
    ]
    _p, events = run_pipeline(frames_of(packets))
    (end,) = [e for e in events if e["type"] == "flow_end"]
    assert (end["src.ip"], end["dst.port"], end["flow.packets_out"], end["flow.packets_in"]) == (
        LAPTOP_IP,
        443,
        2,
        1,
    )


def test_a_new_syn_after_data_starts_a_new_flow() -> None:
    up = Ether(src=LAPTOP, dst=ROUTER) / IP(src=LAPTOP_IP, dst=SERVER_IP)
    packets = [
        up / TCP(sport=50000, dport=80, flags="S"),
        up / TCP(sport=50000, dport=80, flags="PA") / b"GET / HTTP/1.1\r\n\r\n",
        up / TCP(sport=50000, dport=80, flags="S"),
    ]
    _p, events = run_pipeline(frames_of(packets))
    assert [e["flow.end_reason"] for e in events if e["type"] == "flow_end"] == ["reopened", "shutdown"]


def test_metadata_only_devices_leave_no_names_behind(store) -> None:  # type: ignore[no-untyped-def]
    db, writer = store
    config = Config()
    config.set("metadata_only", [LAPTOP.upper()], "test")
    other = "3c:22:fb:00:00:99"
    packets = [*web_visit(), *web_visit(other, "192.168.1.99", sport=50001)]
    run_pipeline(frames_of(packets), config, writer=writer)
    assert {r["device_mac"] for r in db["dns_log"].rows} == {other}
    names = {r["src_mac"]: r["server_name"] for r in db["flows"].rows_where("proto = 'tcp'")}
    assert names == {LAPTOP: None, other: "www.example.com"}  # who talked to which address stays


def test_metadata_only_takes_only_mac_addresses(tmp_path: Path) -> None:
    from homeguard.errors import ConfigError
    from homeguard.settings import load_config

    config = tmp_path / "c.yaml"
    config.write_text("metadata_only: [annas-laptop]\n")
    with pytest.raises(ConfigError, match=r"c.yaml:1: metadata_only must be a list of MAC addresses"):
        load_config(config)


def test_a_flood_of_made_up_macs_loses_no_device(tmp_path: Path) -> None:
    """max_devices 16 in memory, 300 MACs on the wire: every one reaches the devices table
    (the inventory drops the longest unseen from memory only after they are written)."""
    from scapy.all import wrpcap

    from tests.conftest import homeguard

    packets = [
        Ether(src=f"02:00:00:00:{i // 256:02x}:{i % 256:02x}", dst="ff:ff:ff:ff:ff:ff")
        / IP(src=f"10.0.{i // 200}.{i % 200 + 1}", dst="10.0.255.255")
        / UDP(sport=40000, dport=9)
        for i in range(300)
    ]
    capture, config, db = tmp_path / "flood.pcap", tmp_path / "config.yaml", tmp_path / "hg.db"
    wrpcap(str(capture), packets)
    config.write_text(f"max_devices: 16\nrules_dir: {tmp_path / 'none'}\n")
    homeguard("replay", str(capture), "--db", str(db), "--config", str(config))
    database = open_database(db)
    assert database.execute("SELECT count(*) FROM devices").fetchone()[0] == 300
    database.close()


def test_a_connection_is_established_only_when_the_responder_accepts() -> None:
    """flow_established (what "a protocol in use" rules wait for): a SYN-ACK, or data from a
    server whose handshake the capture missed; never a bare SYN or a reset. TCP only: an
    answered UDP lookup is told by its flow_end."""
    up = Ether(src=LAPTOP, dst=ROUTER) / IP(src=LAPTOP_IP, dst=SERVER_IP)
    down = Ether(src=ROUTER, dst=LAPTOP) / IP(src=SERVER_IP, dst=LAPTOP_IP)
    packets = [
        up / TCP(sport=50001, dport=23, flags="S"),  # a scan's bare SYN: no answer
        up / TCP(sport=50002, dport=853, flags="S"),
        down / TCP(sport=853, dport=50002, flags="RA"),  # refused
        up / TCP(sport=50003, dport=23, flags="S"),
        down / TCP(sport=23, dport=50003, flags="SA"),  # accepted
        up / UDP(sport=50004, dport=53),
        down / UDP(sport=53, dport=50004),  # a UDP answer: no event (see flow_end)
        up / TCP(sport=50005, dport=443, flags="PA") / Raw(b"a request"),  # the handshake was missed
        down / TCP(sport=443, dport=50005, flags="PA") / Raw(b"its answer"),
    ]
    _, events = run_pipeline(frames_of(packets))
    established = [e["dst.port"] for e in events if e["type"] == "flow_established"]
    assert established == [23, 443]
    assert len([e for e in events if e["type"] == "flow_start"]) == 5
