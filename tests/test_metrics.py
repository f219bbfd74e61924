"""Prometheus metrics from a running daemon on loopback: scraped over HTTP, parsed with
prometheus_client's own parser, no label naming a device, and every query of the
shipped Grafana dashboard asking for metrics the daemon serves."""

from __future__ import annotations

import json
import re
import socket
import struct
import urllib.request
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families
from scapy.all import wrpcap

from tests import household
from tests.conftest import homeguard
from tests.test_service_lifecycle import daemon_running, wait_for_text

DASHBOARD = Path(__file__).resolve().parents[1] / "docs" / "grafana" / "homeguard.json"
MAC = re.compile(r"([0-9a-f]{2}:){5}[0-9a-f]{2}", re.IGNORECASE)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def scrape(port: int) -> dict[str, list[tuple[dict[str, str], float]]]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
        assert answer.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        text = answer.read().decode()
    families = {}
    for family in text_string_to_metric_families(text):
        families[family.name] = [(dict(s.labels), s.value) for s in family.samples]
    return families


def test_a_running_daemon_serves_its_metrics_without_naming_anyone(tmp_path: Path) -> None:
    port = free_port()
    config = tmp_path / "config.yaml"
    config.write_text(
        f"stats_interval: 1\nflush_interval: 1\nweb_listen: never\nmetrics_listen: 127.0.0.1:{port}\n"
        f"eve_files: [{tmp_path / 'eve.json'}]\n"
    )
    with daemon_running(tmp_path, config) as (_, log):
        wait_for_text(log, "Prometheus metrics on")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:  # lookups on loopback
            for n in range(5):
                query = (
                    struct.pack("!HHHHHH", n, 0x100, 1, 0, 0, 0) + b"\x06anna-s\x06laptop\x00\x00\x01\x00\x01"
                )
                client.sendto(query, ("127.0.0.1", 53))
        wait_for_text(log, "packets, 0 kernel drops")
        families = scrape(port)
    # prometheus_client reports counters without their _total suffix
    expected = ("homeguard_packets", "homeguard_kernel_drops", "homeguard_events", "homeguard_output_drops",
                "homeguard_rule_evaluation_seconds", "homeguard_database_bytes", "process_cpu_seconds",
                "homeguard_source_up")  # fmt: skip
    assert set(expected) <= set(families), set(expected) - set(families)
    assert dict((labels["type"], value) for labels, value in families["homeguard_events"]).get("dns", 0) >= 5
    assert [labels for labels, _ in families["homeguard_source_up"]] == [{"source": "suricata-eve"}]
    labels = [value for samples in families.values() for found, _ in samples for value in found.values()]
    assert not any(MAC.search(v) or "anna" in v or "laptop" in v for v in labels)

    # every metric a dashboard query asks for is one the daemon serves
    served = set(families) | {f"{name}_total" for name in families}
    dashboard = json.loads(DASHBOARD.read_text())
    queries = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    asked = {name for query in queries for name in re.findall(r"\b(?:homeguard|process)_[a-z_]+", query)}
    assert asked and asked <= served, asked - served


def test_per_device_series_only_when_the_household_asks(tmp_path: Path) -> None:
    port = free_port()
    config = tmp_path / "config.yaml"
    config.write_text(
        f"stats_interval: 1\nflush_interval: 1\nweb_listen: never\nmetrics_listen: 127.0.0.1:{port}\n"
        "metrics_per_device: true\n"
    )
    db = tmp_path / "hg.db"
    wrpcap(str(tmp_path / "day.pcap"), household.learning_week()[:400])
    homeguard("replay", str(tmp_path / "day.pcap"), "--db", str(db))
    with daemon_running(tmp_path, config) as (_, log):
        wait_for_text(log, "Prometheus metrics on")
        families = scrape(port)
    macs = {labels["mac"] for labels, _ in families["homeguard_device_sent_bytes"]}
    assert macs and all(MAC.fullmatch(mac) for mac in macs)
    assert {labels["mac"] for labels, _ in families["homeguard_device_open_findings"]} == macs
