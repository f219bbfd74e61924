"""The command line, run for real in child processes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from homeguard.cli.main import cli
from tests.conftest import homeguard, read_jsonl
from tests.test_docs import command_names
from tests.test_pipeline import LAPTOP, dhcp_request, web_visit

COMMANDS = [name.split()[1:] for name in command_names(cli)]


@pytest.mark.parametrize("command", [[], *COMMANDS], ids=lambda c: " ".join(c) or "homeguard")
def test_version_and_help_everywhere(command: list[str]) -> None:
    assert "homeguard, version" in homeguard(*command, "--version").stdout
    assert "Usage: homeguard" in homeguard(*command, "--help").stdout


def test_replay_stores_writes_events_and_summarises(write_pcap: Any, tmp_path: Path) -> None:
    capture = write_pcap([dhcp_request(LAPTOP, "work-laptop"), *web_visit()])
    done = homeguard(
        "replay", str(capture), "--db", str(tmp_path / "hg.db"), "--events", str(tmp_path / "ev.jsonl")
    )
    assert "1 file(s): 10 packets" in done.stderr and "2 devices" in done.stderr
    events = read_jsonl(tmp_path / "ev.jsonl")
    dns = [e for e in events if e["type"] == "dns" and e["dns.is_response"]]
    assert dns[0]["dns.answers"] == ["93.184.216.34"] and dns[0]["capture.frame"] == 3
    assert all(e["capture.file"] == str(capture) for e in events)
    listing = json.loads(homeguard("devices", "--db", str(tmp_path / "hg.db"), "--json").stdout)
    laptop = next(d for d in listing if d["mac"] == LAPTOP)
    assert laptop["name"] == "work-laptop" and "192.168.1.20" in laptop["ips"]
    table = homeguard("devices", "--db", str(tmp_path / "hg.db")).stdout
    assert "work-laptop" in table and LAPTOP in table


def test_a_bad_capture_gets_one_line_and_the_others_still_run(write_pcap: Any, tmp_path: Path) -> None:
    good = write_pcap(web_visit())
    bad = tmp_path / "notes.pcap"
    bad.write_text("these are my notes, not a capture\n")
    done = homeguard("replay", str(bad), str(good), check=False)
    assert done.returncode == 1
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert errors == [
        f"error: {bad}: not a pcap or pcapng file (starts with 74686573); "
        "if Wireshark opens it, convert it with: editcap -F pcap IN OUT"
    ]
    assert "2 file(s): 9 packets" in done.stderr
    assert "Traceback" not in done.stderr


def test_unknown_interface_is_one_line_naming_the_choices() -> None:
    done = homeguard("run", "-i", "nosuch0", "--db", "/tmp/unused-homeguard.db", check=False)
    assert done.returncode == 1
    assert done.stderr.startswith("homeguard: error: no interface named 'nosuch0'; interfaces here: ")
    assert "lo" in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_missing_capture_permission_names_the_fix(tmp_path: Path) -> None:
    import os
    import shutil
    import sys

    cmd = [sys.executable, "-m", "homeguard", "run", "-i", "lo", "--db", str(tmp_path / "x.db")]
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("root without setpriv (util-linux) cannot drop the capture capability")
        cmd = ["setpriv", "--bounding-set=-net_raw,-net_admin", *cmd]  # root, minus capture rights
    import subprocess

    done = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=60)
    assert done.returncode == 1
    assert "no permission to capture on lo" in done.stderr
    assert "sudo homeguard setup" in done.stderr and "setcap" not in done.stderr  # never for all of Python
    assert "Traceback" not in done.stderr


def test_config_errors_name_file_line_and_suggest(tmp_path: Path, write_pcap: Any) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("# my settings\nflow_idle_timeout: 60\nmax_flow: 1000\n")
    done = homeguard("replay", str(write_pcap(web_visit())), "--config", str(config), check=False)
    assert done.returncode == 1
    assert f"{config}:3: unknown setting 'max_flow'; did you mean 'max_flows'?" in done.stderr
    config.write_text("flow_idle_timeout: soon\n")
    done = homeguard("replay", str(write_pcap(web_visit())), "--config", str(config), check=False)
    assert f"{config}:1: flow_idle_timeout must be a number, not 'soon'" in done.stderr


def test_fields_and_settings_list_their_declarations() -> None:
    assert "dns.query" in homeguard("fields").stdout
    assert "flow_idle_timeout" in homeguard("settings").stdout


def test_doctor_on_an_interface_that_does_not_exist_says_so_and_not_to_be_root(tmp_path: Path) -> None:
    done = homeguard("doctor", "-i", "nosuch0", "--seconds", "1", "--db", str(tmp_path / "x.db"), check=False)
    assert "There is no network interface called nosuch0" in done.stdout
    assert "as root" not in done.stdout and "Capture permission" not in done.stdout
    assert "PROBLEM  Alerts: No notification targets: findings are recorded, but no alert goes anywhere." in (
        done.stdout
    )
    assert "Packet path: The packet path runs as pure Python." in done.stdout  # this checkout is not compiled


def test_findings_says_when_there_are_none_and_rejects_an_unknown_category(tmp_path: Path) -> None:
    from homeguard.store.database import open_database

    db = tmp_path / "hg.db"
    open_database(db).close()  # a database with every table and nothing found yet
    done = homeguard("findings", "--db", str(db))
    assert done.stdout == "" and done.stderr.strip() == "no findings"
    done = homeguard("findings", "--db", str(db), "--severity", "high", "--category", "privacy")
    assert done.stderr.strip() == "no findings with --severity high --category privacy"
    done = homeguard("findings", "--db", str(db), "--category", "privacy.trackers", check=False)
    assert done.returncode == 1
    assert "--category: no category 'privacy.trackers'; did you mean 'privacy.tracker'?" in done.stderr


def test_replay_mistakes_get_one_clear_line(tmp_path: Path, write_pcap: Any) -> None:
    missing = homeguard("replay", str(tmp_path / "nope.pcap"), check=False)
    assert missing.returncode == 2 and "nope.pcap' does not exist" in missing.stderr
    assert "packets" not in missing.stderr  # no summary of a replay that did not happen
    capture = str(write_pcap(web_visit()))
    unwritable = homeguard(
        "replay", capture, "--events", str(tmp_path / "no-folder" / "e.jsonl"), check=False
    )
    assert unwritable.returncode == 1 and "Traceback" not in unwritable.stderr
    assert "cannot write" in unwritable.stderr and "No such file or directory" in unwritable.stderr
    unstored = homeguard("replay", capture)
    assert "nothing was stored: pass --db FILE" in unstored.stderr
    stored = homeguard("replay", capture, "--db", str(tmp_path / "hg.db"))
    assert "nothing was stored" not in stored.stderr


def test_status_on_a_replay_database_says_it_is_no_running_homeguard(tmp_path: Path, write_pcap: Any) -> None:
    db = tmp_path / "hg.db"
    homeguard("replay", str(write_pcap(web_visit())), "--db", str(db))
    done = homeguard("status", "--db", str(db), check=False)
    assert done.returncode == 3
    assert done.stdout.startswith("This database holds a replay of ") and "capture.pcap" in done.stdout
    assert " s ago" not in done.stdout  # no 'last report 324559526 s ago' from the capture's own time
    assert json.loads(homeguard("status", "--db", str(db), "--json", check=False).stdout)["state"] == "replay"


def test_config_check_reports_every_error_and_never_a_traceback(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(
        "flow_idle_timeout: soon\nmax_flow: 10\nlanguage: fr\nnotify:\n  - name: phone\n    url: 'ntfy://'\n"
    )
    done = homeguard("config", "check", str(config), check=False)
    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        f"{config}:1: flow_idle_timeout must be a number, not 'soon'",
        f"{config}:2: unknown setting 'max_flow'; did you mean 'max_flows'?",
        f"{config}:3: language must be one of en, nl",
        f"{config}:5: target 'phone': 'ntfy://' says where to send, but not to whom: "
        "add the server and topic, chat or address, such as ntfy://ntfy.sh/my-topic",
    ]
    config.write_bytes(b"# fine\nlanguage: \xff\xfe\n")
    done = homeguard("config", "check", str(config), check=False)
    assert done.stdout.strip() == f"{config}:2: not UTF-8 text (byte 0xff); save the file as UTF-8"
    config.write_text("x: " + "[" * 5000 + "]" * 5000 + "\n")
    done = homeguard("config", "check", str(config), check=False)
    assert "nested 5000 levels deep" in done.stdout and "Traceback" not in done.stderr
    for broken in ("flow_idle_timeout: soon\n", "language: [\n"):
        config.write_text(broken)  # the daemon refuses a broken file with the same words
        done = homeguard("replay", str(config), "--config", str(config), check=False)
        assert done.returncode != 0 and "Traceback" not in done.stderr and str(config) in done.stderr


def test_the_devices_table_marks_what_it_cuts(tmp_path: Path, write_pcap: Any) -> None:
    from scapy.all import IP, UDP, Ether, IPv6  # type: ignore[attr-defined]

    mac = "00:17:88:24:00:01"  # Philips
    address = "fe80::217:88ff:fe24:1"
    packets = [
        Ether(src=mac, dst="33:33:00:00:00:01")
        / IPv6(src=address, dst="ff02::1")
        / UDP(sport=5000, dport=5000),
        Ether(src=mac, dst="ff:ff:ff:ff:ff:ff") / IP(src="192.168.1.77", dst="192.168.1.255") / UDP(dport=9),
    ]
    db = tmp_path / "hg.db"
    homeguard("replay", str(write_pcap(packets)), "--db", str(db))
    [line] = [row for row in homeguard("devices", "--db", str(db)).stdout.splitlines() if row.startswith(mac)]
    ips = line[19:51].rstrip()
    assert ips.endswith("…") and len(ips) == 32  # cut, and visibly so
    assert ips.startswith(("fe80::217:88ff:fe24:1, 192.168.1", "192.168.1.77, fe80::217:88ff:fe"))


def test_unrelated_captures_replay_as_separate_networks(tmp_path: Path) -> None:
    """Two labs, each with a router at 10.10.10.1 (different MACs): replayed as one
    network the second router looks like ARP spoofing; with --separate it does not."""
    from scapy.all import wrpcap

    from tests.household import LAPTOP, ROUTER, TV, arp_reply

    first, second = arp_reply(ROUTER, "10.10.10.1", LAPTOP), arp_reply(TV, "10.10.10.1", LAPTOP)
    first.time, second.time = 1_700_000_000, 1_700_000_001
    labs = [str(tmp_path / "lab-a.pcap"), str(tmp_path / "lab-b.pcap")]
    wrpcap(labs[0], [first])
    wrpcap(labs[1], [second])

    def spoofing(*flags: str) -> list[str]:
        db = str(tmp_path / f"hg{len(flags)}.db")
        homeguard("replay", *labs, "--db", db, *flags)
        found = json.loads(homeguard("findings", "--db", db, "--json").stdout)
        return [f["rule"] for f in found if f["category"] == "network.arp-spoofing"]

    assert spoofing() == ["arp-spoofing"]  # one network: a second owner of the address
    assert spoofing("--separate") == []
