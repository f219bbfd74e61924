"""Crash safety: `homeguard replay` killed with SIGKILL at random points while it writes.
The database must pass PRAGMA integrity_check every time, every finding committed
before a kill must still be there, and a run after the kills must finish the job."""

from __future__ import annotations

import random
import signal
import sqlite3
import struct
import subprocess
import sys
import time
from pathlib import Path

from scapy.all import IP, TCP, Ether  # type: ignore[attr-defined]

from tests.household import LAPTOP, ROUTER

TARGETS = 3000  # distinct internet addresses the laptop telnets to: one finding each
CONNECTIONS_PER_TARGET = 30
KILLS = 6


def long_capture(path: Path) -> None:
    """90,000 telnet connections, each a SYN and the server's SYN-ACK (telnet in use: an
    accepted connection), written straight as pcap records (scapy builds the templates)."""
    syn = bytearray(
        bytes(
            Ether(src=LAPTOP[0], dst=ROUTER[0])
            / IP(src=LAPTOP[1], dst="198.18.0.1")
            / TCP(dport=23, flags="S")
        )
    )
    answer = bytearray(
        bytes(
            Ether(src=ROUTER[0], dst=LAPTOP[0])
            / IP(src="198.18.0.1", dst=LAPTOP[1])
            / TCP(sport=23, flags="SA")
        )
    )
    with path.open("wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        ts = 1_767_225_600.0
        for round_ in range(CONNECTIONS_PER_TARGET):
            for target in range(TARGETS):
                server = bytes((198, 18, target >> 8, target & 0xFF))
                port = struct.pack("!H", 20000 + round_)  # a new source port: a new flow
                syn[30:34], syn[34:36] = server, port
                answer[26:30], answer[36:38] = server, port
                for packet in (syn, answer):
                    ts += 0.0005
                    out.write(struct.pack("<IIII", int(ts), int(ts % 1 * 1e6), len(packet), len(packet)))
                    out.write(packet)


def findings(db: Path) -> dict[str, int]:
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        return {
            key: count
            for key, count in conn.execute("SELECT key, count FROM findings WHERE rule = 'telnet-in-use'")
        }
    finally:
        conn.close()


def test_sigkill_mid_write_loses_nothing_committed(tmp_path: Path) -> None:
    capture, db = tmp_path / "long.pcap", tmp_path / "hg.db"
    long_capture(capture)
    config = tmp_path / "config.yaml"
    # write very often, so that kills land in the middle of transactions
    config.write_text(f"rules_dir: {tmp_path / 'none'}\nflush_interval: 0.1\nflush_max_rows: 200\n")
    command = [
        sys.executable,
        "-m",
        "homeguard",
        "replay",
        str(capture),
        "--db",
        str(db),
        "--config",
        str(config),
    ]
    rng = random.Random(7)
    seen: dict[str, int] = {}
    kills = 0
    for _ in range(KILLS):
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.8, 2.5))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait()
        now = findings(db) if db.exists() else {}
        lost = [key for key in seen if key not in now or now[key] < seen[key]]
        assert lost == [], f"{len(lost)} committed findings lost or shrunk after a kill"
        seen = now
    assert kills >= KILLS - 1, "the replay finished before it could be killed: make the capture longer"
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    final = findings(db)
    assert len(final) == TARGETS  # every telnet target, once
    assert all(final[key] >= seen[key] for key in seen)
