"""Events are built only when a rule, an output or the store wants their type
(events/wanted.py). Leaving the others unbuilt must change nothing anyone sees: every
wanted event is exactly what it was when every type was built, and the household's
state (devices and their names, flows) is the same."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from scapy.all import DNS, DNSQR, IP, UDP, Ether, wrpcap  # type: ignore[attr-defined]

from homeguard import app
from homeguard.clock import ManualClock
from homeguard.events import Event
from homeguard.events.wanted import TypedSink, types_wanted
from homeguard.pipeline.core import PipelineStats
from homeguard.pipeline.replay import replay_files
from homeguard.plugins.manager import plugin_manager
from homeguard.protocols.shipped import shipped_catalog
from homeguard.rules.configured import load_rules_for
from homeguard.settings import Config
from tests.conftest import TS0, make_certificate
from tests.conversations import application_samples
from tests.test_catalog import mac_flood, rich_traffic
from tests.test_pipeline import LAPTOP, PI, mdns_announcement

EVENT_TYPES = sorted(shipped_catalog().event_types)
Replayed = tuple[list[Event], dict[str, dict[str, Any]], PipelineStats]

MDNS_RULE = """format: 1
id: watch-mdns
title: A watched service was asked for
severity: low
category: privacy.tracker
mode: record
when: mdns
match:
  mdns.queries: _watched._tcp.local
message: "{device.name} asked for a watched service."
remediation: Nothing to do; this is a test rule.
"""


@pytest.fixture(scope="module")
def capture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A capture with an event of every type (tests/test_catalog.py's)."""
    work = tmp_path_factory.mktemp("wanted")
    packets = [*rich_traffic(), *application_samples(make_certificate(work, "/CN=x").read_bytes())]
    for number, packet in enumerate(packets):  # the test's clock, not the day it runs
        packet.time = TS0 + number * 0.01
    path = work / "rich.pcap"
    wrpcap(str(path), [*packets, *mac_flood(max(float(p.time) for p in packets))])
    return path


def replay(capture: Path, db: Path, sink: Any) -> Replayed:
    config = Config()
    config.set("household_resolvers", ["192.168.1.1"], "test")
    config.set("db_path", str(db), "test")  # with the store: the ledger and its data_first
    household = app.build(
        config,
        ManualClock(TS0),
        rules=False,
        alert_targets=False,
        replay=True,
        manager=plugin_manager(entry_points=False),
    )
    events: list[Event] = []
    household.pipeline.sinks.append(sink(events.append))
    household.pipeline.want_events()
    replay_files(household.pipeline, [str(capture)])
    devices = {dev.mac: dev.row() for dev in household.pipeline.devices}
    household.close()
    return events, devices, household.pipeline.stats


@pytest.fixture(scope="module")
def everything(capture: Path, tmp_path_factory: pytest.TempPathFactory) -> Replayed:
    """Every type built: a plain function as sink asks for all of them."""
    return replay(capture, tmp_path_factory.mktemp("all") / "hg.db", lambda write: write)


def some_types(seed: int) -> frozenset[str]:
    return frozenset(random.Random(seed).sample(EVENT_TYPES, 6))


WANTED = [
    *(frozenset({t}) for t in EVENT_TYPES),
    frozenset(),
    frozenset({"mdns", "dns"}),
    *(some_types(seed) for seed in range(4)),
]


@pytest.mark.parametrize("wanted", WANTED, ids=lambda w: "+".join(sorted(w)) or "none")
def test_events_built_only_when_wanted_are_those_built_for_everyone(
    capture: Path, everything: Replayed, wanted: frozenset[str], tmp_path: Path
) -> None:
    all_events, all_devices, all_stats = everything
    events, devices, stats = replay(capture, tmp_path / "hg.db", lambda write: TypedSink(write, wanted))
    assert events == [e for e in all_events if e["type"] in wanted]
    assert devices == all_devices  # names (DHCP, mDNS, SSDP) learned whatever is built
    assert (stats.packets, stats.flows_ended, stats.malformed) == (
        all_stats.packets,
        all_stats.flows_ended,
        all_stats.malformed,
    )
    # Only wanted events went round (and flow_end, which the data ledger reads).
    assert set(stats.events_by_type) <= wanted | {"flow_end"}
    assert stats.events < all_stats.events


def test_a_plain_function_sink_wants_every_type_and_typed_sinks_add_up() -> None:
    def plain(event: Event) -> None:
        pass

    dns, arp = TypedSink(plain, frozenset({"dns"})), TypedSink(plain, frozenset({"arp"}))
    assert types_wanted([dns, arp], ["flow_end"]) == frozenset({"dns", "arp", "flow_end"})
    assert types_wanted([dns, plain]) is None
    assert types_wanted([]) == frozenset()


def mdns_query(mac: str, ip: str, service: str) -> Any:
    return (
        Ether(src=mac, dst="01:00:5e:00:00:fb")
        / IP(src=ip, dst="224.0.0.251")
        / UDP(sport=5353, dport=5353)
        / DNS(qd=DNSQR(qname=service, qtype="PTR"))
    )


def test_a_reloaded_rule_about_a_type_nobody_wanted_gets_its_events(tmp_path: Path) -> None:
    """No shipped rule reads mdns events, so none is built; a user's rule on mdns, added
    while running, makes them built from then on (the engine tells the pipeline)."""
    rules_dir = tmp_path / "rules.d"
    rules_dir.mkdir()
    config = Config()
    config.set("db_path", str(tmp_path / "hg.db"), "test")
    config.set("rules_dir", str(rules_dir), "test")
    capture = tmp_path / "mdns.pcap"
    announcement: Any = mdns_announcement(PI, "192.168.1.30", "pi")
    question = mdns_query(LAPTOP, "192.168.1.20", "_watched._tcp.local")
    announcement.time, question.time = TS0, TS0 + 1
    wrpcap(str(capture), [announcement, question])
    household = app.build(config, ManualClock(TS0), alert_targets=False, replay=True)
    pipeline = household.pipeline
    try:
        assert not pipeline.wants("mdns")
        replay_files(pipeline, [str(capture)])
        assert "mdns" not in pipeline.stats.events_by_type
        assert pipeline.devices.by_mac[bytes.fromhex(PI.replace(":", ""))].mdns_name == "pi.local"
        assert household.engine.findings == 0

        (rules_dir / "watch.yml").write_text(MDNS_RULE)
        household.engine.set_rules(load_rules_for(config))  # as the reloader swaps them in
        assert pipeline.wants("mdns")
        replay_files(pipeline, [str(capture)])
        assert pipeline.stats.events_by_type["mdns"] == 2
        assert household.engine.findings == 1
    finally:
        household.close()
