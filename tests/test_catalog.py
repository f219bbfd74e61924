"""Every field an event carries is in the catalog, and every catalogued type is emitted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from scapy.all import (  # type: ignore[attr-defined]
    ARP,
    BOOTP,
    DHCP,
    DNS,
    DNSQR,
    DNSRR,
    IP,
    TCP,
    UDP,
    Dot1Q,
    Ether,
    wrpcap,
)

from homeguard import app
from homeguard.clock import ManualClock
from homeguard.events import Event
from homeguard.pipeline.replay import replay_files
from homeguard.plugins.manager import plugin_manager
from homeguard.protocols.shipped import shipped_catalog
from homeguard.settings import Config
from homeguard.state.flood import FLOOD_CALM_WINDOWS, FLOOD_NEW_MACS, FLOOD_WINDOW
from tests.conftest import TS0, make_certificate
from tests.conversations import application_samples
from tests.household import router_advertisement
from tests.test_pipeline import LAPTOP, PI, ROUTER, dhcp_ack, dhcp_request, mdns_announcement, web_visit

CATALOG = shipped_catalog()
EVENT_TYPES, FIELD_NAMES, FIELDS = CATALOG.event_types, CATALOG.names, CATALOG.fields


def rich_traffic() -> list[Any]:
    ssdp = (
        Ether(src=ROUTER, dst="01:00:5e:7f:ff:fa")
        / IP(src="192.168.1.1", dst="239.255.255.250")
        / UDP(sport=1900, dport=1900)
        / b"NOTIFY * HTTP/1.1\r\nNT: upnp:rootdevice\r\nSERVER: Linux UPnP/1.0 MiniUPnPd/1.9\r\n"
        b"LOCATION: http://192.168.1.1:5000/d.xml\r\nUSN: uuid:1\r\n\r\n"
    )
    search = (
        Ether(src=LAPTOP, dst="01:00:5e:7f:ff:fa")
        / IP(src="192.168.1.20", dst="239.255.255.250")
        / UDP(sport=5000, dport=1900)
        / b"M-SEARCH * HTTP/1.1\r\nST: ssdp:all\r\nUSER-AGENT: Chromium\r\n\r\n"
    )
    txt = (
        Ether(src=ROUTER, dst=LAPTOP)
        / IP(src="192.168.1.1", dst="192.168.1.20")
        / UDP(sport=53, dport=9)
        / DNS(
            qr=1,
            qd=DNSQR(qname="t.example", qtype="TXT"),
            an=DNSRR(rrname="t.example", type="TXT", rdata="v"),
            ns=DNSRR(rrname="example", type="NS", rdata="ns.example"),
            ar=DNSRR(rrname="ns.example", type="A", rdata="1.1.1.1"),
        )
    )
    maps = (  # a name the domain model judges (8 letters or more), answered to a known device
        Ether(src=ROUTER, dst=LAPTOP)
        / IP(src="192.168.1.1", dst="192.168.1.20")
        / UDP(sport=53, dport=11)
        / DNS(
            qr=1,
            qd=DNSQR(qname="tile.weatherstation.org"),
            an=DNSRR(rrname="tile.weatherstation.org", rdata="1.2.3.4"),
        )
    )
    mdns_query = (
        Ether(src=LAPTOP, dst="01:00:5e:00:00:fb")
        / IP(src="192.168.1.20", dst="224.0.0.251")
        / UDP(sport=5353, dport=5353)
        / DNS(qd=DNSQR(qname="_googlecast._tcp.local", qtype="PTR"))
    )
    renew = (
        Ether(src=LAPTOP, dst=ROUTER)
        / IP(src="192.168.1.20", dst="192.168.1.1")
        / UDP(sport=68, dport=67)
        / BOOTP(ciaddr="192.168.1.20", chaddr=bytes.fromhex(LAPTOP.replace(":", "")))
        / DHCP(options=[("message-type", "request"), ("requested_addr", "192.168.1.20"), "end"])
    )
    offer = (
        Ether(src=ROUTER, dst=LAPTOP)
        / IP(src="192.168.1.1", dst="192.168.1.20")
        / UDP(sport=67, dport=68)
        / BOOTP(op=2, yiaddr="192.168.1.20", chaddr=bytes.fromhex(LAPTOP.replace(":", "")))
        / DHCP(
            options=[
                ("message-type", "offer"),
                ("router", "192.168.1.1"),
                ("name_server", "192.168.1.1"),
                ("lease_time", 3600),
                "end",
            ]
        )
    )
    arp = Ether(src=PI) / Dot1Q(vlan=10) / ARP(op=1, hwsrc=PI, psrc="192.168.1.30", pdst="192.168.1.1")
    netflix = (
        Ether(src=ROUTER, dst=LAPTOP)
        / IP(src="192.168.1.1", dst="192.168.1.20")
        / UDP(sport=53, dport=7)
        / DNS(
            id=3,
            qr=1,
            qd=DNSQR(qname="www.netflix.com"),
            an=[  # served by Akamai
                DNSRR(rrname="www.netflix.com", type="CNAME", rdata="www.netflix.com.edgekey.net"),
                DNSRR(rrname="www.netflix.com.edgekey.net", rdata="198.38.96.1"),
            ],
        )
    )
    watch = (
        Ether(src=LAPTOP, dst=ROUTER)
        / IP(src="192.168.1.20", dst="198.38.96.1")
        / TCP(sport=5555, dport=443, flags="S")
    )
    return [
        netflix,
        watch,
        dhcp_request(LAPTOP, "laptop"),
        dhcp_ack(LAPTOP, "192.168.1.20"),
        ssdp,
        search,
        txt,
        maps,
        renew,
        offer,
        mdns_query,
        mdns_announcement(PI, "192.168.1.30", "pi"),
        arp,
        *web_visit(),
        Ether(src=ROUTER) / ARP(op=2, hwsrc=ROUTER, psrc="192.168.1.1", pdst="192.168.1.20"),
        Ether(src=PI) / ARP(op=2, hwsrc=PI, psrc="192.168.1.1", pdst="192.168.1.20"),  # a spoof
        router_advertisement((ROUTER, "192.168.1.1")),
    ]


def mac_flood(after: float) -> list[Any]:
    """A burst of made-up MACs (a mac_flood that starts), then, after a calm, a packet
    that ends it."""
    frames = []
    for i in range(FLOOD_NEW_MACS + 1):
        mac = f"02:00:00:00:{i >> 8:02x}:{i & 0xFF:02x}"
        frames.append(Ether(src=mac, dst=ROUTER) / IP(src="10.9.0.1", dst="192.168.1.1") / UDP(dport=9))
        frames[-1].time = after + 1
    calm = Ether(src=LAPTOP, dst=ROUTER) / IP(src="192.168.1.20", dst="192.168.1.1") / UDP(dport=9)
    calm.time = after + 1 + FLOOD_WINDOW * (FLOOD_CALM_WINDOWS + 1)
    return [*frames, calm]


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return make_certificate(tmp_path_factory.mktemp("cert"), "/CN=x").read_bytes()


def test_emitted_fields_and_types_are_catalogued(certificate: bytes, tmp_path: Path) -> None:
    config = Config()
    config.set("household_resolvers", ["192.168.1.1"], "test")
    config.set("db_path", str(tmp_path / "hg.db"), "test")  # the ledger too: its data_first events
    capture = tmp_path / "rich.pcap"
    packets = [*rich_traffic(), *application_samples(certificate)]
    wrpcap(str(capture), [*packets, *mac_flood(max(float(p.time) for p in packets))])
    events: list[Event] = []
    shipped_only = plugin_manager(entry_points=False)  # the shipped catalog, whatever is installed
    household = app.build(
        config, ManualClock(TS0), rules=False, alert_targets=False, replay=True, manager=shipped_only
    )
    household.pipeline.sinks.append(events.append)
    household.pipeline.want_events()  # a sink without event_types: every type
    replay_files(household.pipeline, [str(capture)])
    household.close()
    emitted_fields = {name for event in events for name in event}
    emitted_types = {event["type"] for event in events}
    assert emitted_fields - FIELD_NAMES == set(), "emitted but not catalogued"
    assert emitted_types == set(EVENT_TYPES)
    never_seen = FIELD_NAMES - emitted_fields
    assert never_seen == set(), "catalogued but never emitted by the rich capture"


def test_field_names_are_unique_and_dotted_by_type() -> None:
    names = [f.name for f in FIELDS]
    assert len(names) == len(set(names))
    for spec in FIELDS:
        prefix = spec.name.split(".")[0]
        if prefix in EVENT_TYPES:
            assert spec.event_types == (prefix,), spec.name
