"""What the daemon can see, counted per flow: a mirror port, a router, a mirror of one
direction only, and an ordinary switch port (the lab test in test_netns_e2e.py shows the
same on a real bridge, and on the dashboard)."""

from __future__ import annotations

import socket
from typing import Any

from scapy.all import IP, TCP, UDP, Ether  # type: ignore[attr-defined]

from homeguard.clock import ManualClock
from homeguard.pipeline.core import Pipeline
from homeguard.settings import Config
from homeguard.state.visibility import BROADCAST_ONLY, NOTHING, ONE_WAY, SEES_ALL, Visibility
from tests.conftest import TS0, frames_of
from tests.test_pipeline import LAPTOP, LAPTOP_IP, ROUTER, SERVER_IP, dhcp_request, web_visit

SENSOR, SENSOR_IP = "dc:a6:32:00:00:99", "192.168.1.99"


def visibility_after(packets: list[Any], own_ips: tuple[str, ...] = (SENSOR_IP,)) -> Visibility:
    pipeline = Pipeline(Config(), None, clock=ManualClock(TS0))
    pipeline.visibility.own_mac = bytes.fromhex(SENSOR.replace(":", ""))
    pipeline.visibility.own_ips = frozenset(socket.inet_aton(ip) for ip in own_ips)
    for frame in frames_of(packets):
        pipeline.process(frame)
    pipeline.close()
    return pipeline.visibility


def visits(count: int, mac: str = LAPTOP) -> list[Any]:
    return [pkt for n in range(count) for pkt in web_visit(mac, LAPTOP_IP, 40000 + 2 * n)]


def broadcasts(count: int) -> list[Any]:
    """A DHCP request, then mDNS announcements from `count - 1` devices (one flow each)."""
    mdns = [
        Ether(src=f"3c:22:fb:00:01:{n:02x}", dst="01:00:5e:00:00:fb")
        / IP(src=f"192.168.1.{100 + n}", dst="224.0.0.251")
        / UDP(sport=5353, dport=5353)
        for n in range(count - 1)
    ]
    return [dhcp_request("3c:22:fb:00:01:ff", "guest"), *mdns]


def own_traffic(count: int) -> list[Any]:
    """The sensor's own conversations with the router (updates, its own DNS)."""
    up = Ether(src=SENSOR, dst=ROUTER) / IP(src=SENSOR_IP, dst="192.168.1.1")
    down = Ether(src=ROUTER, dst=SENSOR) / IP(src="192.168.1.1", dst=SENSOR_IP)
    return [
        p
        for n in range(count)
        for p in (up / UDP(sport=30000 + n, dport=53), down / UDP(sport=53, dport=30000 + n))
    ]


def test_a_mirror_port_sees_answered_flows_between_other_devices() -> None:
    seen = visibility_after(visits(25) + broadcasts(3) + own_traffic(2))
    assert (seen.between_others, seen.group, seen.own) == (50, 3, 2)  # each visit: DNS and HTTPS
    assert seen.answered == 50 and seen.verdict() == SEES_ALL


def test_an_ordinary_switch_port_sees_only_broadcast_and_its_own() -> None:
    seen = visibility_after(broadcasts(20) + own_traffic(5))
    assert (seen.between_others, seen.group, seen.own) == (0, 20, 5)
    assert seen.verdict() == BROADCAST_ONLY
    assert visibility_after([]).verdict() == NOTHING


def test_a_mirror_of_one_direction_is_told_apart() -> None:
    outbound_only = [p for p in visits(25) if p[Ether].src == LAPTOP]
    seen = visibility_after(outbound_only)
    assert seen.between_others == 50 and seen.answered == 0
    assert seen.verdict() == ONE_WAY


def test_on_the_router_forwarded_flows_count_as_seeing_the_household() -> None:
    """The router's MAC is on every forwarded frame, but neither address is its own."""
    routed = []
    for n in range(25):
        up = Ether(src=LAPTOP, dst=SENSOR) / IP(src=LAPTOP_IP, dst=SERVER_IP)
        down = Ether(src=SENSOR, dst=LAPTOP) / IP(src=SERVER_IP, dst=LAPTOP_IP)
        routed += [
            up / TCP(sport=41000 + n, dport=443, flags="S"),
            down / TCP(sport=443, dport=41000 + n, flags="SA"),
        ]
    seen = visibility_after(routed + own_traffic(3))
    assert (seen.between_others, seen.own) == (25, 3)
    assert seen.verdict() == SEES_ALL
