"""End to end on a real network: real programs make real traffic in namespaces, and
`homeguard run` on the mirror port must record exactly those devices, lookups and flows."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlite_utils import Database

from homeguard.clock import ManualClock
from homeguard.settings import load_config
from tests.conftest import make_certificate
from tests.netns_lab import MACS, Lab, start_homeguard, start_webhook, stop, wait_for
from tests.test_web import Browser, serving

pytestmark = pytest.mark.netns
HOUSEHOLD_NAMES = {"printer.home.test": "192.168.77.13", "nas.home.test": "192.168.77.20"}


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


WATCH_RULE = """format: 1
id: watch-lookups
title: Watched name looked up
severity: low
category: privacy.tracker
mode: record
when: dns
match:
  dns.is_response: false
  dns.qtype: A
  dns.query|domain: {domain}
suppress:
  key: [dns.query]
  for: 1s
message: "{{device.name}} looked up {{dns.query}}."
remediation: Nothing to do; this is a test rule.
"""


def finding_counts(db_path: Path) -> dict[str, int]:
    db = Database(db_path)
    try:
        rows = db.execute("SELECT key, count FROM findings WHERE rule = 'watch-lookups'").fetchall()
    finally:
        db.close()
    return {json.loads(key)[0]: count for key, count in rows}


def test_rules_reload_while_traffic_flows(lab: Lab) -> None:
    rules_dir = lab.workdir / "rules.d"
    rules_dir.mkdir()
    rule_file = rules_dir / "watch.yml"
    rule_file.write_text(WATCH_RULE.format(domain="printer.home.test"))
    db_path = lab.workdir / "reload.db"
    log = lab.workdir / "homeguard.log"
    homeguard = start_homeguard(lab, db_path, config_extra=f"rules_dir: {rules_dir}\n")
    lab.start_router(HOUSEHOLD_NAMES)
    lab.dhcp_lease("laptop", "anna-laptop")

    def lookup(name: str) -> None:
        lab.run("laptop", "busybox", "nslookup", name, "192.168.77.1")

    lookup("printer.home.test")
    lookup("nas.home.test")
    wait_for(lambda: finding_counts(db_path).get("printer.home.test") == 1, "the first finding")
    assert "nas.home.test" not in finding_counts(db_path)

    rule_file.write_text(WATCH_RULE.format(domain="nas.home.test"))  # edit while running
    wait_for(lambda: log.read_text().count("rules reloaded") >= 1, "the edited rule to load")
    lookup("printer.home.test")
    lookup("nas.home.test")
    wait_for(lambda: finding_counts(db_path).get("nas.home.test") == 1, "a finding from the edited rule")
    assert finding_counts(db_path)["printer.home.test"] == 1  # the old rule no longer runs

    rule_file.write_text("format: 1\nid: watch-lookups\ntitle: [broken\n")  # a bad edit
    wait_for(lambda: "rule error (the last good version keeps running)" in log.read_text(), "the error")
    assert f"{rule_file}:3:" in log.read_text()
    lookup("nas.home.test")
    wait_for(lambda: finding_counts(db_path).get("nas.home.test") == 2, "the last good rule to keep working")

    rule_file.write_text(WATCH_RULE.format(domain="printer.home.test"))
    os.utime(rule_file, (1, 1))  # an mtime the poll cannot tell from an old one: SIGHUP must do it
    homeguard.send_signal(signal.SIGHUP)  # type: ignore[attr-defined]
    wait_for(lambda: "received SIGHUP" in log.read_text(), "SIGHUP")
    wait_for(lambda: log.read_text().count("rules reloaded") >= 3, "the reload after SIGHUP")
    lookup("printer.home.test")
    wait_for(lambda: finding_counts(db_path).get("printer.home.test") == 2, "the rule restored by SIGHUP")
    stop(homeguard, lab)


SECRET = "Lab-Secret-7f3a"
SOAP_ADD = (
    '<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>'
    '<u:AddPortMapping xmlns:u="urn:schemas-upnp-org:service:WANIPConnection:1">'
    "<NewRemoteHost></NewRemoteHost>"
    "<NewExternalPort>8443</NewExternalPort><NewProtocol>TCP</NewProtocol><NewInternalPort>443</NewInternalPort>"
    "<NewInternalClient>192.168.77.13</NewInternalClient><NewEnabled>1</NewEnabled>"
    "<NewPortMappingDescription>camera</NewPortMappingDescription><NewLeaseDuration>0</NewLeaseDuration>"
    "</u:AddPortMapping></s:Body></s:Envelope>"
)


def serve(lab: Lab, name: str, cmd: list[str], ready: str) -> None:
    lab.spawn("printer", cmd, f"{name}.log")
    wait_for(lambda: ready in (lab.workdir / f"{name}.log").read_text(errors="replace"), f"the {name} server")


def test_application_traffic_from_real_clients_and_no_password_anywhere(lab: Lab) -> None:
    work = lab.workdir
    cert = make_certificate(work, der=False)
    (work / "ftp").mkdir()
    events_path, db_path = work / "events.jsonl", work / "apps.db"
    homeguard = start_homeguard(lab, db_path, ["--events", str(events_path)])
    servers = Path(__file__).parent / "lab_servers.py"
    ip = "192.168.77.13"
    serve(lab, "http", [sys.executable, "-u", "-m", "http.server", "8080", "--bind", ip], "Serving HTTP")
    serve(
        lab,
        "ftp",
        [
            sys.executable,
            "-u",
            "-m",
            "pyftpdlib",
            "-i",
            ip,
            "-p",
            "2121",
            "-u",
            "anna",
            "-P",
            SECRET,
            "-d",
            str(work / "ftp"),
        ],
        "starting FTP server",
    )
    for kind, port in (("pop3", "1110"), ("imap", "1143"), ("smtp", "2525"), ("telnet", "2323")):
        serve(lab, kind, [sys.executable, "-u", str(servers), kind, ip, port], f"serving {kind}")
    serve(
        lab,
        "tls",
        [
            "openssl",
            "s_server",
            "-accept",
            "4433",
            "-tls1",
            "-cipher",
            "DEFAULT@SECLEVEL=0",
            "-cert",
            str(cert),
            "-key",
            str(work / "key.pem"),
            "-www",
        ],
        "ACCEPT",
    )
    (work / "mail.txt").write_text("Subject: test\r\n\r\nhello\r\n")
    (work / "soap.xml").write_text(SOAP_ADD)

    def client(*cmd: str) -> None:
        lab.run("laptop", *cmd, timeout=30)

    lab.run("laptop", "ip", "addr", "add", "192.168.77.12/24", "dev", "eth0")
    client("curl", "-s", "--max-time", "10", "-o", "/dev/null", "-u", "admin:admin", f"http://{ip}:8080/")
    client(
        "curl",
        "-s",
        "--max-time",
        "10",
        "-o",
        "/dev/null",
        "-X",
        "POST",
        "-H",
        "Content-Type: text/xml",
        "-H",
        'SOAPAction: "urn:schemas-upnp-org:service:WANIPConnection:1#AddPortMapping"',
        "--data-binary",
        f"@{work / 'soap.xml'}",
        f"http://{ip}:8080/ctl/IPConn",
    )
    client("curl", "-s", "--max-time", "10", "-o", "/dev/null", f"ftp://anna:{SECRET}@{ip}:2121/")
    client("curl", "-s", "--max-time", "10", "-o", "/dev/null", "-u", f"anna:{SECRET}", f"pop3://{ip}:1110/")
    client("curl", "-s", "--max-time", "10", "-o", "/dev/null", "-u", f"anna:{SECRET}", f"imap://{ip}:1143/")
    client(
        "curl",
        "-s",
        "--max-time",
        "10",
        "--mail-from",
        "anna@home.test",
        "--mail-rcpt",
        "bob@home.test",
        "-u",
        f"anna:{SECRET}",
        "--upload-file",
        str(work / "mail.txt"),
        f"smtp://{ip}:2525",
    )
    client(
        "sh",
        "-c",
        f"(sleep 0.5; printf 'admin\\r\\n'; sleep 0.5; printf '{SECRET}\\r\\n'; sleep 0.5) "
        f"| busybox telnet {ip} 2323 > /dev/null; true",
    )
    client(
        "sh",
        "-c",
        f"openssl s_client -connect {ip}:4433 -tls1 -cipher DEFAULT@SECLEVEL=0 "
        "-servername camera.home.test < /dev/null > /dev/null 2>&1; true",
    )
    stop(homeguard, lab)

    events = [json.loads(line) for line in events_path.read_text().splitlines()]
    logins = {
        (e["auth.protocol"], e.get("auth.username"), e["auth.password_seen"], e["auth.default_credentials"])
        for e in events
        if e["type"] == "auth"
    }
    assert logins >= {
        ("http", "admin", True, True),
        ("ftp", "anna", True, False),
        ("pop3", "anna", True, False),
        ("imap", "anna", True, False),
        ("smtp", "anna", True, False),
        ("telnet", "admin", True, False),
    }
    hello = next(e for e in events if e["type"] == "tls_client_hello" and e.get("dst.port") == 4433)
    assert hello["tls.sni"] == "camera.home.test"
    server = next(e for e in events if e["type"] == "tls_server_hello" and e.get("src.port") == 4433)
    assert server["tls.negotiated_name"] == "TLS 1.0"
    cert = next(e for e in events if e["type"] == "tls_certificate")
    assert cert["tls.cert_subject"] == "CN=camera.home.test" and cert["tls.cert_self_signed"] is True
    mapping = next(e for e in events if e["type"] == "port_mapping")
    assert (mapping["mapping.external_port"], mapping["mapping.internal_client"]) == (8443, "192.168.77.13")
    # The password must be nowhere: not in the events, the database (WAL included) or the log.
    stored = [events_path, db_path, Path(f"{db_path}-wal"), work / "homeguard.log"]
    for path in stored:
        if path.exists():
            data = path.read_bytes()
            assert SECRET.encode() not in data, f"the password is in {path.name}"
            assert base64.b64encode(SECRET.encode()) not in data


def test_the_daemon_sends_alerts_to_a_webhook(lab: Lab) -> None:
    """`homeguard run` queues an alert with its finding and its sender thread delivers it,
    once, to a real webhook; SIGTERM still stops it cleanly."""
    work = lab.workdir
    received = start_webhook(lab)
    db_path = work / "alerts.db"
    homeguard = start_homeguard(
        lab,
        db_path,
        config_extra=(
            f"rules_dir: {work / 'no-rules'}\nnotify:\n  - name: hook\n    url: json://127.0.0.1:8099/hook\n"
        ),
    )
    lab.run("laptop", "ip", "addr", "add", "192.168.77.12/24", "dev", "eth0")
    servers = Path(__file__).parent / "lab_servers.py"
    telnetd = [sys.executable, "-u", str(servers), "telnet", "192.168.77.13", "23"]
    serve(lab, "telnet", telnetd, "serving telnet")  # a telnet server that answers: telnet in use
    lab.run("laptop", "sh", "-c", "curl -s --max-time 2 telnet://192.168.77.13:23 < /dev/null; true")

    def telnet_alerts() -> list[dict[str, object]]:
        items = [json.loads(line) for line in received.read_text().splitlines()]
        return [i for i in items if i["title"] == "Telnet connection (unencrypted remote login)"]

    wait_for(lambda: telnet_alerts(), "the telnet alert at the webhook", timeout=30)
    stop(homeguard, lab)
    assert len(telnet_alerts()) == 1
    assert "opened a telnet connection to 192.168.77.13" in str(telnet_alerts()[0]["message"])
    rows = Database(db_path).execute("SELECT state FROM outbox WHERE rule = 'telnet-in-use'").fetchall()
    assert rows == [("delivered",)]


BROADCASTER = (  # what every home network has: a device announcing itself by broadcast
    "import socket, time\n"
    "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
    "s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)\n"
    "for _ in range(40):\n"
    "    s.sendto(b'hello', ('192.168.77.255', 9)); time.sleep(0.1)\n"
)


def doctor_while_pinging(lab: Lab) -> str:
    """Doctor on the monitor port while the laptop pings the printer (unicast) and
    announces itself (broadcast); both loops end by themselves within seconds."""
    lab.spawn("laptop", ["busybox", "ping", "-c", "60", "-i", "0.1", "192.168.77.13"], "ping.log")
    lab.spawn("laptop", [sys.executable, "-c", BROADCASTER], "broadcast.log")
    doctor = ["doctor", "-i", "mon0", "--seconds", "3", "--db", str(lab.workdir / "none.db")]
    in_monitor = ["ip", "netns", "exec", lab.ns("monitor"), sys.executable, "-m", "homeguard"]
    done = subprocess.run(
        [*in_monitor, *doctor, "--config", str(lab.workdir / "doctor.yaml")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return done.stdout + done.stderr


def test_doctor_tells_a_mirror_port_from_a_port_that_sees_only_broadcast(lab: Lab) -> None:
    (lab.workdir / "doctor.yaml").write_text(f"rules_dir: {lab.workdir / 'no-rules'}\n")
    lab.run("laptop", "ip", "addr", "add", "192.168.77.12/24", "dev", "eth0")
    lab.run("laptop", "busybox", "ping", "-c", "1", "-W", "2", "192.168.77.13")
    mirror = doctor_while_pinging(lab)
    assert "OK       Visibility: HomeGuard sees the traffic between other devices" in mirror
    assert "only sees broadcast" not in mirror
    # An ordinary switch port: the bridge learns where each MAC is and stops flooding.
    lab.sh("ip", "-n", lab.ns("sw"), "link", "set", "br0", "type", "bridge", "ageing_time", "30000")
    lab.run("laptop", "busybox", "ping", "-c", "2", "-W", "2", "192.168.77.13")  # the bridge learns both MACs
    ordinary = doctor_while_pinging(lab)
    said = "HomeGuard only sees broadcast traffic: connect it to a mirror port, or run it on the router."
    assert f"PROBLEM  Visibility: {said}" in ordinary
    assert "0 unicast between other devices" in ordinary


def test_the_dashboard_says_whether_the_daemon_sees_the_household(lab: Lab) -> None:
    """doctor's verdict, from the running daemon's own counts, on its overview page."""
    lab.run("laptop", "ip", "addr", "add", "192.168.77.12/24", "dev", "eth0")
    lab.spawn(
        "printer", [sys.executable, "-u", "-m", "http.server", "8080", "--bind", "192.168.77.13"], "http.log"
    )
    wait_for(lambda: "Serving HTTP" in (lab.workdir / "http.log").read_text(), "the printer's web server")
    mirror_db = lab.workdir / "mirror.db"
    homeguard = start_homeguard(lab, mirror_db)
    fetch = "for i in $(seq 25); do curl -s -o /dev/null --max-time 5 http://192.168.77.13:8080/; done"
    lab.run("laptop", "sh", "-c", fetch)
    wait_for(
        lambda: _latest_stats(mirror_db, "flows_answered") >= 25, "the daemon to count 25 answered flows"
    )
    assert "It sees the traffic between the household" in _overview(mirror_db)
    stop(homeguard, lab)

    # An ordinary switch port: the bridge learns where each MAC is and stops flooding.
    lab.sh("ip", "-n", lab.ns("sw"), "link", "set", "br0", "type", "bridge", "ageing_time", "30000")
    lab.run("laptop", "busybox", "ping", "-c", "2", "-W", "2", "192.168.77.13")  # the bridge learns both MACs
    switch_db = lab.workdir / "switch.db"
    homeguard = start_homeguard(lab, switch_db)
    lab.run("laptop", "sh", "-c", fetch)
    lab.run("laptop", sys.executable, "-c", ANNOUNCERS)
    wait_for(lambda: _latest_stats(switch_db, "flows_group") >= 25, "the daemon to count 25 broadcast flows")
    assert _latest_stats(switch_db, "flows_between_others") == 0
    page = _overview(switch_db)
    assert "It sees only the announcements devices send to everyone" in page
    stop(homeguard, lab)


ANNOUNCERS = (  # 25 announcements, each its own flow (a new source port), all broadcast
    "import socket\n"
    "for port in range(20000, 20025):\n"
    "    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
    "    s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)\n"
    "    s.bind(('192.168.77.12', port)); s.sendto(b'hello', ('192.168.77.255', 9)); s.close()\n"
)


def _latest_stats(db: Path, column: str) -> int:
    if not db.exists():
        return 0
    row = Database(db).execute(f"SELECT {column} FROM capture_stats ORDER BY id DESC LIMIT 1").fetchone()
    return int(row[0] or 0) if row else 0


def _overview(db: Path) -> str:
    """The overview page, served on the running daemon's database."""
    config = load_config(None, {"db_path": str(db)})
    with serving(db, config, ManualClock(time.time())) as site:
        user = Browser(site)
        user.log_in()
        return str(user.get("/")[2])
