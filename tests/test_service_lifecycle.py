"""The daemon as systemd runs it: READY and watchdog keep-alives over $NOTIFY_SOCKET,
statistics for `homeguard status`, and a clean exit on SIGTERM within seconds."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from tests.conftest import homeguard


def test_notify_watchdog_status_and_sigterm(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        import pytest

        pytest.skip("live capture needs root")
    notify = tmp_path / "notify.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(str(notify))
    listener.settimeout(15)
    config = tmp_path / "config.yaml"
    config.write_text(f"stats_interval: 1\nflush_interval: 1\nrules_dir: {tmp_path / 'none'}\n")
    db = tmp_path / "hg.db"
    env = {**os.environ, "NOTIFY_SOCKET": str(notify), "WATCHDOG_USEC": "2000000"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "homeguard", "run", "-i", "lo", "--db", str(db), "--config", str(config)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        messages: list[str] = []
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and sum("WATCHDOG=1" in m for m in messages) < 2:
            messages.append(listener.recv(1024).decode())
        assert messages[0].startswith("READY=1\nSTATUS=capturing on lo")
        assert sum("WATCHDOG=1" in m for m in messages) >= 2  # every second: half of WatchdogSec
        report: dict[str, object] = {}
        for _ in range(40):  # statistics every second, written with the next batch (at most ~6 s)
            done = homeguard("status", "--db", str(db), "--json", check=False)
            if done.returncode == 0:
                report = json.loads(done.stdout)
                if report["uptime_seconds"]:
                    break
            time.sleep(0.5)
        assert report["source"] == "lo" and report["cpu_percent"] is not None
        assert isinstance(report["rss_mib"], float) and report["rss_mib"] > 10
        assert isinstance(report["uptime_seconds"], int) and report["uptime_seconds"] >= 1
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0, proc.stderr.read() if proc.stderr else ""
        assert time.monotonic() - started < 5
        while "STOPPING=1" not in messages[-1]:
            messages.append(listener.recv(1024).decode())
        log = proc.stderr.read() if proc.stderr else ""
        assert f"database {db}" in log  # a first run says where it keeps its data
        assert "no notify targets: findings are recorded, but no alert goes anywhere" in log
        stopped = homeguard("status", "--db", str(db), check=False)
        assert stopped.returncode == 3  # as systemctl status for a unit that is not active
        assert stopped.stdout.startswith("HomeGuard is not running: it stopped")
        assert "uptime_seconds" not in stopped.stdout and "  Up for " in stopped.stdout  # words, not keys
    finally:
        if proc.poll() is None:
            proc.kill()
        listener.close()


def daemon_on_lo(tmp_path: Path, config: Path) -> tuple[subprocess.Popen[bytes], Path]:
    """`homeguard run` on loopback with this config and tmp_path/hg.db; its log in tmp_path/hg.log."""
    log = tmp_path / "hg.log"
    with log.open("w") as err:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "homeguard",
                "run",
                "-i",
                "lo",
                "--db",
                str(tmp_path / "hg.db"),
                "--config",
                str(config),
            ],
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    return proc, log


@contextlib.contextmanager
def daemon_running(tmp_path: Path, config: Path) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    """`homeguard run` on loopback (daemon_on_lo) until the block ends: then SIGTERM, and
    it must stop cleanly; killed if the block failed first. Skips without root."""
    if os.geteuid() != 0:
        import pytest

        pytest.skip("live capture needs root")
    proc, log = daemon_on_lo(tmp_path, config)
    try:
        wait_for_text(log, "capturing on lo")
        yield proc, log
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0, log.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()


def wait_for_text(path: Path, text: str, timeout: float = 15.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        content = path.read_text()
        if text in content:
            return content
        time.sleep(0.2)
    raise AssertionError(f"{text!r} never appeared in:\n{path.read_text()}")


def test_sighup_reloads_the_config_and_a_broken_one_changes_nothing(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        import pytest

        pytest.skip("live capture needs root")
    config = tmp_path / "config.yaml"
    base = f"stats_interval: 1\nflush_interval: 1\nrules_dir: {tmp_path / 'none'}\n"
    config.write_text(base)
    proc, log = daemon_on_lo(tmp_path, config)
    try:
        loaded = wait_for_text(log, "rules loaded")
        count = int(loaded.split(" rules loaded")[0].rsplit(" ", 1)[-1])
        wait_for_text(log, "capturing on lo")
        config.write_text(base + "disabled_rules: [new-device, tracker-contact]\nbpf_filter: not port 22\n")
        proc.send_signal(signal.SIGHUP)
        text = wait_for_text(log, f"rules reloaded: {count - 2} active")
        assert "bpf_filter changed: takes effect after a restart" in text
        assert "config reloaded from" in text
        config.write_text(base + "flush_intervall: 3\n")
        proc.send_signal(signal.SIGHUP)
        text = wait_for_text(log, "config not reloaded (the running one stays)")
        assert f"{config}:4: unknown setting 'flush_intervall'; did you mean 'flush_interval'?" in text
        time.sleep(1)
        assert proc.poll() is None
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()


def test_a_change_made_in_the_dashboard_reaches_the_running_daemon_by_itself(tmp_path: Path) -> None:
    """No SIGHUP: the daemon notices the dashboard's change count and reloads."""
    from sqlite_utils import Database

    from homeguard.store.web import set_setting

    config = tmp_path / "config.yaml"
    config.write_text(
        f"stats_interval: 1\nflush_interval: 1\nrules_dir: {tmp_path / 'none'}\nweb_listen: never\n"
    )
    with daemon_running(tmp_path, config) as (_, log):
        db = Database(tmp_path / "hg.db")
        set_setting(db, "learning_days", "0", time.time())  # what the settings form writes
        db.close()
        text = wait_for_text(log, "setting(s) changed")
        assert "changed in the dashboard: reloading the config and the rules" in text
        assert "1 setting(s) changed" in text
        wait_for_text(log, "rules reloaded")


HOSTILE_QUERIES = (  # a bounded burst of DNS queries chosen to make a pattern backtrack
    "import socket, struct, sys\n"
    "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
    "def query(label):\n"
    "    return (struct.pack('!HHHHHH', 1, 0x100, 1, 0, 0, 0) + bytes([len(label)]) + label + b'\\0'\n"
    "            + struct.pack('!HH', 1, 1))\n"
    "s.sendto(query(b'a' * 60), ('127.0.0.1', 53))  # one that matches\n"
    "for _ in range(int(sys.argv[1])):  # then the ones that make it backtrack\n"
    "    s.sendto(query(b'a' * 60 + b'!'), ('127.0.0.1', 53))\n"
)


def test_sigterm_stops_the_daemon_within_5_s_while_hostile_names_arrive(tmp_path: Path) -> None:
    """A user's pattern that backtracks in Python's re (`(a|aa)+$`), fed the names that make
    it slowest, while SIGTERM comes: the daemon stops within 5 s, and it matched them."""
    if os.geteuid() != 0:
        import pytest

        pytest.skip("live capture needs root")
    rules = tmp_path / "rules.d"
    rules.mkdir()
    (rules / "greedy.yml").write_text(
        "format: 1\nid: greedy\ntitle: t\nseverity: low\ncategory: threat.known-bad\n"
        "when: dns\nmatch:\n  dns.query|re: '(a|aa)+$'\nmode: record\nmessage: m\nremediation: r\n"
    )
    config = tmp_path / "config.yaml"
    config.write_text(f"stats_interval: 1\nflush_interval: 1\nrules_dir: {rules}\n")
    db = tmp_path / "hg.db"
    proc, log = daemon_on_lo(tmp_path, config)
    try:
        wait_for_text(log, "capturing on lo")
        subprocess.run([sys.executable, "-c", HOSTILE_QUERIES, "3000"], check=True, timeout=30)
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0, log.read_text()
        assert time.monotonic() - started < 5
    finally:
        if proc.poll() is None:
            proc.kill()
    (count,) = sqlite3.connect(db).execute("SELECT count FROM findings WHERE rule = 'greedy'").fetchone()
    assert count > 0
