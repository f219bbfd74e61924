"""The daemon as systemd runs it: READY and watchdog keep-alives over $NOTIFY_SOCKET,
statistics for `homeguard status`, and a clean exit on SIGTERM within seconds."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
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
    finally:
        if proc.poll() is None:
            proc.kill()
        listener.close()
