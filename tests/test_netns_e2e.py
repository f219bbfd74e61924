"""End to end on a real network: real programs make real traffic in namespaces, and
`homeguard run` on the mirror port must record exactly those devices, lookups and flows."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlite_utils import Database

from tests.netns_lab import MACS, Lab, unavailable_reason, wait_for

pytestmark = pytest.mark.netns
HOUSEHOLD_NAMES = {"printer.home.test": "192.168.77.13", "nas.home.test": "192.168.77.20"}


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Lab]:
    reason = unavailable_reason()
    if reason:
        if os.environ.get("HOMEGUARD_REQUIRE_NETNS"):
            pytest.fail(f"the namespace lab is required here but {reason}")
        pytest.skip(reason)
    lab = Lab(tmp_path)
    try:
        lab.up()
        yield lab
    finally:
        lab.down()


def start_homeguard(lab: Lab, db: Path, extra: list[str] | None = None) -> object:
    config = lab.workdir / "config.yaml"
    config.write_text("stats_interval: 1\nflush_interval: 1\n")
    proc = lab.spawn(
        "monitor",
        [
            sys.executable,
            "-m",
            "homeguard",
            "run",
            "-i",
            "mon0",
            "--db",
            str(db),
            "--config",
            str(config),
            *(extra or []),
        ],
        "homeguard.log",
    )
    log = lab.workdir / "homeguard.log"
    wait_for(lambda: "capturing on mon0" in log.read_text() or proc.poll() is not None, "homeguard to start")
    assert proc.poll() is None, log.read_text()
    return proc


def stop(proc: object, lab: Lab) -> None:
    proc.send_signal(signal.SIGTERM)  # type: ignore[attr-defined]
    assert proc.wait(timeout=20) == 0, (lab.workdir / "homeguard.log").read_text()  # type: ignore[attr-defined]


def test_devices_dns_and_flows_from_a_real_network(lab: Lab) -> None:
    db_path = lab.workdir / "hg.db"
    homeguard = start_homeguard(lab, db_path)
    lab.start_router(HOUSEHOLD_NAMES)
    lab.spawn(
        "printer", [sys.executable, "-u", "-m", "http.server", "8080", "--bind", "192.168.77.13"], "http.log"
    )
    wait_for(lambda: "Serving HTTP" in (lab.workdir / "http.log").read_text(), "the printer's web server")

    laptop_ip = lab.dhcp_lease("laptop", "anna-laptop")
    for name in HOUSEHOLD_NAMES:
        assert HOUSEHOLD_NAMES[name] in lab.run("laptop", "busybox", "nslookup", name, "192.168.77.1").stdout
    fetched = lab.run(
        "laptop",
        "curl",
        "-s",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "--max-time",
        "10",
        "http://192.168.77.13:8080/",
    )
    assert fetched.stdout == "200"
    stop(homeguard, lab)

    db = Database(db_path)
    devices = {row["mac"]: row for row in db["devices"].rows}
    assert set(devices) == set(MACS.values())
    assert devices[MACS["laptop"]]["hostname"] == "anna-laptop"
    assert devices[MACS["router"]]["vendor"] == "Raspberry Pi Foundation"
    assert devices[MACS["laptop"]]["vendor"] == "Apple, Inc."
    ips = {(row["mac"], row["ip"]) for row in db["device_ips"].rows}
    assert (MACS["laptop"], laptop_ip) in ips
    assert (MACS["printer"], "192.168.77.13") in ips and (MACS["router"], "192.168.77.1") in ips

    lookups = list(db["dns_log"].rows)
    assert {r["query"] for r in lookups} == set(HOUSEHOLD_NAMES)
    for row in lookups:
        assert row["device_mac"] == MACS["laptop"] and row["server_ip"] == "192.168.77.1"
        assert row["rcode"] == "NOERROR"
        if row["qtype"] == "A":
            assert row["answers"] == HOUSEHOLD_NAMES[row["query"]]

    flows = list(db["flows"].rows)
    (web,) = [f for f in flows if f["proto"] == "tcp"]
    assert (web["src_ip"], web["dst_ip"], web["dst_port"]) == (laptop_ip, "192.168.77.13", 8080)
    assert web["src_mac"] == MACS["laptop"] and web["dst_mac"] == MACS["printer"]
    assert web["server_name"] == "printer.home.test"
    assert web["packets_out"] >= 4 and web["packets_in"] >= 4 and web["end_reason"] == "fin"
    udp_services = {(f["proto"], f["dst_port"]) for f in flows if f["proto"] == "udp"}
    assert udp_services == {("udp", 67), ("udp", 53)} or udp_services == {
        ("udp", 67),
        ("udp", 68),
        ("udp", 53),
    }
    assert {f["proto"] for f in flows} <= {
        "tcp",
        "udp",
        "icmp",
    }  # dnsmasq pings an address before offering it

    stats = next(iter(db["capture_stats"].rows_where(order_by="id desc", limit=1)))
    assert stats["source"] == "mon0" and stats["packets"] > 20 and stats["kernel_drops"] == 0


def test_a_bpf_filter_is_compiled_and_applied_in_the_kernel(lab: Lab) -> None:
    db_path = lab.workdir / "filtered.db"
    homeguard = start_homeguard(lab, db_path, ["--filter", "not udp port 53"])
    lab.start_router(HOUSEHOLD_NAMES)
    lab.spawn(
        "printer", [sys.executable, "-u", "-m", "http.server", "8080", "--bind", "192.168.77.13"], "http.log"
    )
    wait_for(lambda: "Serving HTTP" in (lab.workdir / "http.log").read_text(), "the printer's web server")
    lab.dhcp_lease("laptop", "anna-laptop")
    lab.run("laptop", "busybox", "nslookup", "printer.home.test", "192.168.77.1")
    lab.run("laptop", "curl", "-s", "-o", "/dev/null", "--max-time", "10", "http://192.168.77.13:8080/")
    stop(homeguard, lab)

    db = Database(db_path)
    assert list(db["dns_log"].rows) == []
    assert all(53 not in (f["src_port"], f["dst_port"]) for f in db["flows"].rows)
    (web,) = [f for f in db["flows"].rows if f["proto"] == "tcp"]
    assert web["dst_port"] == 8080 and web["server_name"] is None  # no DNS seen, so no name
