"""Opt-in interception on a plain switch port, in a lab whose bridge is an ordinary
learning switch: the monitor sees none of the laptop's unicast until HomeGuard, told to
intercept the laptop, answers ARP for the gateway to it. Then HomeGuard sees the laptop's
DNS and TLS, forwards them, and the laptop still gets its answers. After SIGTERM, and after
SIGKILL followed by the unit's ExecStopPost (`homeguard intercept-restore`), the laptop's
entry for the gateway points at the real gateway again."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import homeguard, lab_running
from tests.netns_lab import MACS, Lab, start_homeguard, wait_for
from tests.tls import make_pki

MONITOR_IP = "192.168.77.50"
NAMES = {"shop.home.test": "192.168.77.1"}
HTTPS = (
    "import http.server, ssl, sys\n"
    "server = http.server.HTTPServer(('192.168.77.1', 8443), http.server.SimpleHTTPRequestHandler)\n"
    "context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)\n"
    "context.load_cert_chain(sys.argv[1], sys.argv[2])\n"
    "server.socket = context.wrap_socket(server.socket, server_side=True)\n"
    "print('serving', flush=True)\n"
    "server.serve_forever()\n"
)
RESTORED_WITHIN = 5.0  # seconds, as docs/sources.md promises


@pytest.fixture
def switch_lab(tmp_path: Path) -> Iterator[Lab]:
    """The lab with an ordinary learning switch, and an address for the monitor."""
    for lab in lab_running(tmp_path, mirror=False):
        lab.sh("ip", "-n", lab.ns("monitor"), "addr", "add", f"{MONITOR_IP}/24", "dev", "mon0")
        yield lab


def gateway_mac_seen_by_laptop(lab: Lab) -> str:
    out = lab.run("laptop", "ip", "neigh", "show", "192.168.77.1").stdout.split()
    return out[out.index("lladdr") + 1] if "lladdr" in out else ""


def monitor_mac(lab: Lab) -> str:
    return lab.run("monitor", "cat", "/sys/class/net/mon0/address").stdout.strip()


def start(lab: Lab, db: Path, events: Path) -> object:
    config = f"intercept_devices: ['{MACS['laptop']}']\nintercept_gateway: 192.168.77.1\n"
    config += f"rules_dir: {lab.workdir}/none\n"
    return start_homeguard(lab, db, ["--events", str(events)], config_extra=config)


def test_an_intercepted_laptop_is_seen_and_given_back_its_gateway(switch_lab: Lab) -> None:
    lab = switch_lab
    pki = make_pki(lab.workdir)
    lab.start_router(NAMES)
    lab.spawn("router", [sys.executable, "-u", "-c", HTTPS, str(pki.certificate), str(pki.key)], "https.log")
    wait_for(lambda: "serving" in (lab.workdir / "https.log").read_text(), "the router's HTTPS server")
    db, events = lab.workdir / "hg.db", lab.workdir / "events.jsonl"
    proc = start(lab, db, events)
    lab.dhcp_lease("laptop", "anna-laptop")
    lab.run("laptop", "busybox", "nslookup", "shop.home.test", "192.168.77.1")  # the laptop ARPs: learned
    spoofed = monitor_mac(lab)
    wait_for(
        lambda: gateway_mac_seen_by_laptop(lab) == spoofed, "the laptop to take HomeGuard for its gateway"
    )

    answer = lab.run("laptop", "busybox", "nslookup", "shop.home.test", "192.168.77.1").stdout
    assert "192.168.77.1" in answer
    shop = ("--resolve", "shop.home.test:8443:192.168.77.1", "https://shop.home.test:8443/")
    fetched = lab.run(
        "laptop", "curl", "-sk", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "10", *shop
    )
    assert fetched.stdout == "200"  # forwarded: the laptop still reaches its gateway

    proc.send_signal(signal.SIGTERM)  # type: ignore[attr-defined]
    assert proc.wait(timeout=20) == 0  # type: ignore[attr-defined]
    wait_for(
        lambda: gateway_mac_seen_by_laptop(lab) == MACS["router"], "the real gateway back", RESTORED_WITHIN
    )
    seen = [json.loads(line) for line in events.read_text().splitlines()]
    laptop_dns = [e for e in seen if e["type"] == "dns" and e.get("src.mac") == MACS["laptop"]]
    assert any(e.get("dns.query") == "shop.home.test" for e in laptop_dns)
    hellos = [e for e in seen if e["type"] == "tls_client_hello" and e.get("tls.sni") == "shop.home.test"]
    assert hellos and hellos[0]["src.mac"] == MACS["laptop"]
    findings = json.loads(homeguard("findings", "--db", str(db), "--json").stdout)
    assert not [f for f in findings if f["category"] == "network.arp-spoofing"]  # its own replies
    assert not (lab.workdir / "intercept.json").exists()


def test_after_sigkill_the_units_restore_step_gives_the_gateway_back(switch_lab: Lab) -> None:
    lab = switch_lab
    lab.start_router(NAMES)
    db = lab.workdir / "hg.db"
    proc = start(lab, db, lab.workdir / "events.jsonl")
    lab.dhcp_lease("laptop", "anna-laptop")
    lab.run("laptop", "busybox", "nslookup", "shop.home.test", "192.168.77.1")
    spoofed = monitor_mac(lab)
    wait_for(
        lambda: gateway_mac_seen_by_laptop(lab) == spoofed, "the laptop to take HomeGuard for its gateway"
    )
    proc.send_signal(signal.SIGKILL)  # type: ignore[attr-defined]
    proc.wait(timeout=10)  # type: ignore[attr-defined]
    assert (lab.workdir / "intercept.json").exists()  # what the restore needs survived
    restore = subprocess.run(
        ["ip", "netns", "exec", lab.ns("monitor"), sys.executable, "-m", "homeguard", "intercept-restore",
         "--config", str(lab.workdir / "config.yaml"), "--db", str(db)],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert restore.returncode == 0 and "interception ended" in restore.stdout, restore.stderr
    wait_for(
        lambda: gateway_mac_seen_by_laptop(lab) == MACS["router"], "the real gateway back", RESTORED_WITHIN
    )
    forwarding = lab.run("monitor", "cat", "/proc/sys/net/ipv4/ip_forward").stdout.strip()
    assert forwarding == "0"  # as it was before
