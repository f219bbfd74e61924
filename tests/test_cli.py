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
    assert "sudo setcap cap_net_raw,cap_net_admin+eip" in done.stderr
    assert "Traceback" not in done.stderr


def test_config_errors_name_file_line_and_suggest(tmp_path: Path, write_pcap: Any) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("# my settings\nflow_idle_timeout: 60\nmax_flow: 1000\n")
    done = homeguard("replay", str(write_pcap(web_visit())), "--config", str(config), check=False)
    assert done.returncode == 1
    assert f"{config}:3: unknown setting 'max_flow'; did you mean 'max_flows'?" in done.stderr
    config.write_text("flow_idle_timeout: soon\n")
    done = homeguard("replay", str(write_pcap(web_visit())), "--config", str(config), check=False)
    assert f"{config}:1: flow_idle_timeout must be float, not 'soon'" in done.stderr


def test_fields_and_settings_list_their_declarations() -> None:
    assert "dns.query" in homeguard("fields").stdout
    assert "flow_idle_timeout" in homeguard("settings").stdout
