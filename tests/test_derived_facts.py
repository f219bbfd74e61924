"""The facts the pipeline derives for rules: who owns an address, which DHCP server and
IPv6 router are the household's, which way a flow goes, which device an event is about,
when a new device is announced, and capture loss."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from scapy.all import ICMP, IP, TCP, Ether  # type: ignore[attr-defined]

from homeguard.capture.source import CaptureCounters, Frame
from homeguard.clock import ManualClock
from homeguard.events import Event
from homeguard.findings.model import Finding
from homeguard.pipeline.core import Pipeline
from homeguard.rules.engine import RuleEngine
from homeguard.settings import Config
from tests import household
from tests.conftest import TS0, frames_of, run_pipeline
from tests.conversations import client_hello, server_hello_and_certificate, tcp_conversation
from tests.household import CAMERA, LAPTOP, PHONE_TODAY, PI, ROUTER, TV

T0 = household.TODAY


def timed(packets: list[Any], start: float = T0, step: float = 1.0) -> list[Frame]:
    return frames_of(packets, start=start, step=step)


def of_type(events: list[Event], kind: str) -> list[Event]:
    return [e for e in events if e["type"] == kind]


def test_a_claim_on_an_active_owners_address_is_marked_and_the_owner_never_is() -> None:
    packets = [
        household.arp_reply(ROUTER, ROUTER[1], LAPTOP),
        household.arp_reply(PI, ROUTER[1], LAPTOP),  # the spoof
        household.arp_reply(ROUTER, ROUTER[1], LAPTOP),  # the router answers for itself again
        household.arp_reply(PI, ROUTER[1], LAPTOP),
    ]
    _p, events = run_pipeline(timed(packets))
    arp = of_type(events, "arp")
    assert [e.get("arp.owner_mac") for e in arp] == [None, ROUTER[0], None, ROUTER[0]]


def test_an_address_taken_over_after_its_owner_went_quiet_is_no_conflict() -> None:
    packets = [
        household.arp_reply(TV, "192.168.1.77", LAPTOP),
        household.arp_reply(PI, "192.168.1.77", LAPTOP),
    ]
    _p, events = run_pipeline(timed(packets, step=3600.0))  # the TV left an hour ago
    assert all("arp.owner_mac" not in e for e in of_type(events, "arp"))


def test_the_gateway_comes_from_the_household_dhcp_server() -> None:
    packets = [*household.dhcp_join(LAPTOP), household.arp_reply(ROUTER, ROUTER[1], LAPTOP)]
    _p, events = run_pipeline(timed(packets))
    assert of_type(events, "arp")[0]["arp.gateway"] is True


def test_the_first_server_to_ack_is_the_household_dhcp_server_and_others_are_not() -> None:
    rogue = household.dhcp_join(PI)[1]  # an offer with the router's options ...
    rogue[Ether].src, rogue[IP].src = PI[0], PI[1]  # ... sent by the Pi
    rogue["DHCP"].options = [("message-type", "offer"), ("server_id", PI[1]), ("router", PI[1]), "end"]
    pipeline, events = run_pipeline(timed([*household.dhcp_join(LAPTOP), rogue]))
    servers = [e for e in of_type(events, "dhcp") if e["dhcp.message_type"] in ("offer", "ack")]
    assert [e.get("dhcp.server_known") for e in servers] == [
        None,
        True,
        False,
    ]  # nothing known at the first offer
    assert pipeline.infrastructure.gateways == {ROUTER[1]}  # the rogue's router is not taken


def test_a_configured_dhcp_server_is_known_from_the_start() -> None:
    config = Config()
    config.set("dhcp_servers", [ROUTER[1]], "test")
    _p, events = run_pipeline(timed(household.dhcp_join(LAPTOP)), config)
    assert of_type(events, "dhcp")[1]["dhcp.server_known"] is True


def test_the_first_ipv6_router_is_known_and_a_second_is_not() -> None:
    packets = [household.router_advertisement(ROUTER), household.router_advertisement(PI)]
    _p, events = run_pipeline(timed(packets))
    ras = of_type(events, "router_advertisement")
    assert [(e["ra.router_mac"], e["ra.router_known"]) for e in ras] == [(ROUTER[0], True), (PI[0], False)]
    assert ras[0]["ra.prefixes"] == ["2001:db8:1::/64"]


def test_flows_know_their_direction_and_whether_the_handshake_was_seen() -> None:
    inbound = (
        Ether(src=ROUTER[0], dst=CAMERA[0])
        / IP(src="198.51.100.99", dst=CAMERA[1])
        / TCP(sport=51000, dport=554, flags="S")
    )
    midstream = (
        Ether(src=ROUTER[0], dst=CAMERA[0])
        / IP(src="198.51.100.98", dst=CAMERA[1])
        / TCP(sport=443, dport=51001, flags="A")
    )
    out = (
        Ether(src=LAPTOP[0], dst=ROUTER[0])
        / IP(src=LAPTOP[1], dst="192.0.2.20")
        / TCP(sport=41000, dport=443, flags="S")
    )
    ping = Ether(src=PI[0], dst=TV[0]) / IP(src=PI[1], dst=TV[1]) / ICMP()
    _p, events = run_pipeline(timed([inbound, midstream, out, ping]))
    starts = [(e["flow.direction"], e.get("flow.handshake")) for e in of_type(events, "flow_start")]
    assert starts == [("inbound", True), ("inbound", False), ("outbound", True), ("internal", None)]


def test_a_servers_answer_from_the_internet_is_about_the_household_device() -> None:
    conversation = tcp_conversation(
        [
            (True, client_hello(sni="portal.legacy.example")),
            (False, server_hello_and_certificate(0x0301, 0x002F)),
        ],
        dport=443,
        client=TV,
        server=household.internet("203.0.113.44"),
    )
    _p, events = run_pipeline(timed([*household.dhcp_join(TV), *conversation]))
    hello = of_type(events, "tls_server_hello")[0]
    assert (hello["src.mac"], hello["device.mac"], hello["device.name"]) == (
        ROUTER[0],
        TV[0],
        "living-room-tv",
    )
    inbound = of_type(events, "flow_start")[-1]
    assert inbound["device.mac"] == TV[0]


def test_a_new_device_is_announced_once_it_gives_its_name() -> None:
    packets = household.dhcp_join(PHONE_TODAY, household.IPHONE_PRL)
    _p, events = run_pipeline(timed(packets, step=0.5))
    new = [e for e in of_type(events, "device_new") if e["device.mac"] == PHONE_TODAY[0]]
    assert len(new) == 1
    assert new[0]["device.name"] == "Annas-iPhone"
    assert new[0]["device.identity"] == "dhcp:annas-iphone|" + ",".join(map(str, household.IPHONE_PRL))
    assert new[0]["device.recognisable"] is True
    assert events.index(new[0]) < events.index(of_type(events, "dhcp")[0])  # before its DHCP event


def test_a_private_address_with_no_name_is_announced_after_the_wait_as_unrecognisable() -> None:
    anonymous = ("de:ad:be:ef:00:01", "192.168.1.88")
    packets = [
        Ether(src=anonymous[0], dst=ROUTER[0])
        / IP(src=anonymous[1], dst="192.0.2.20")
        / TCP(dport=443, flags="S"),
        Ether(src=LAPTOP[0], dst=ROUTER[0]) / IP(src=LAPTOP[1], dst="192.0.2.20") / TCP(dport=443, flags="S"),
    ]
    events: list[Event] = []
    pipeline = Pipeline(Config(), None, [events.append], clock=ManualClock(TS0))
    for frame in timed(packets, step=40.0):  # the second frame comes after the 30 s wait
        pipeline.process(frame)
    new = of_type(events, "device_new")
    assert [e["device.mac"] for e in new] == [anonymous[0]]  # announced by the wait, not at close
    assert (new[0]["device.identity"], new[0]["device.recognisable"]) == (anonymous[0], False)


class DroppingSource:
    """A capture source whose kernel dropped packets: a real drop needs a machine that
    cannot keep up, so the counters are set as the kernel would report them."""

    name = "eth0"

    def __init__(self, packets: int, drops: int) -> None:
        self.counters = CaptureCounters(packets=packets, kernel_drops=drops)

    def frames(self) -> Iterator[Frame | None]:
        return iter(())

    def close(self) -> None:
        pass


def test_capture_loss_becomes_a_finding() -> None:
    from homeguard.rules.loader import load_ruleset, shipped_rules_dir

    findings: list[Finding] = []
    engine = RuleEngine(load_ruleset([shipped_rules_dir()]), [findings.append])
    pipeline = Pipeline(Config(), None, [engine], clock=ManualClock(TS0))
    pipeline.capture_stats(DroppingSource(packets=50_000, drops=20), T0)
    assert findings == []  # 0.04%: noise
    pipeline.capture_stats(DroppingSource(packets=100_000, drops=5_000), T0 + 60)
    assert [f.rule for f in findings] == ["capture-loss"]
    assert (
        findings[0]
        .messages["en"]
        .startswith("HomeGuard could not keep up on eth0: the system dropped 4980 packets")
    )


def test_an_address_the_dhcp_server_hands_to_a_new_device_is_its_own() -> None:
    # The TV held .40 a minute ago; the router now leases .40 to the Pi: no conflict.
    leased = [p for p in household.dhcp_join(("dc:a6:32:00:00:66", TV[1]))]
    packets = [household.arp_reply(TV, TV[1], LAPTOP), *household.dhcp_join(LAPTOP), *leased]
    packets.append(household.arp_reply(PI, TV[1], LAPTOP))
    _p, events = run_pipeline(timed(packets, step=5.0))
    assert all("arp.owner_mac" not in e for e in of_type(events, "arp"))


def test_reserved_addresses_are_not_at_home() -> None:
    from homeguard.events.builders import flow_direction

    def ip(text: str) -> bytes:
        return bytes(int(part) for part in text.split("."))

    assert flow_direction(ip("79.26.245.236"), ip("254.228.86.79")) == "external"
    assert flow_direction(ip("192.168.1.20"), ip("239.255.255.250")) == "internal"


def test_the_household_dhcp_server_is_remembered_across_a_restart(tmp_path: Path) -> None:
    """Learned infrastructure is stored: after a restart, a rogue server that answers
    first is still a rogue, not taken for the household's."""
    import json

    from scapy.all import wrpcap

    from tests.conftest import homeguard

    rogue = household.dhcp_join(PI)[1]
    rogue[Ether].src, rogue[IP].src = PI[0], PI[1]
    rogue["DHCP"].options = [("message-type", "offer"), ("server_id", PI[1]), ("router", PI[1]), "end"]
    first, second = tmp_path / "before.pcap", tmp_path / "after.pcap"
    wrpcap(str(first), household.dhcp_join(LAPTOP))
    wrpcap(str(second), [rogue])
    db, rules = str(tmp_path / "hg.db"), str(tmp_path / "rules.d")
    homeguard("replay", str(first), "--db", db, "--rules-dir", rules)
    homeguard("replay", str(second), "--db", db, "--rules-dir", rules)  # a new process: a restart
    rows = json.loads(homeguard("findings", "--db", db, "--json").stdout)
    assert [(r["rule"], r["device_mac"]) for r in rows] == [("rogue-dhcp", PI[0])]


def test_global_ipv6_addresses_in_the_advertised_prefix_are_at_home() -> None:
    from scapy.all import IPv6  # type: ignore[attr-defined]

    camera_v6, outsider_v6 = "2001:db8:1::50", "2001:db8:ffff::5"
    inbound = (
        Ether(src=ROUTER[0], dst=CAMERA[0])
        / IPv6(src=outsider_v6, dst=camera_v6)
        / TCP(sport=51000, dport=554, flags="S")
    )
    outbound = (
        Ether(src=CAMERA[0], dst=ROUTER[0])
        / IPv6(src=camera_v6, dst=outsider_v6)
        / TCP(sport=44000, dport=443, flags="S")
    )
    _p, events = run_pipeline(timed([household.router_advertisement(ROUTER), outbound, inbound]))
    starts = [
        (e["flow.direction"], e["device.mac"]) for e in of_type(events, "flow_start") if e["proto"] == "tcp"
    ]
    assert starts == [("outbound", CAMERA[0]), ("inbound", CAMERA[0])]
