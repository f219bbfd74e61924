"""A bad day for the database: a real full file system (a small tmpfs), a lock held by a
second process, a damaged file. HomeGuard keeps going, says what is wrong and how to
fix it, and writes what it held once the database is back."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from scapy.all import wrpcap
from sqlite_utils import Database

from homeguard.clock import ManualClock
from homeguard.store.database import open_database
from homeguard.store.findings import record_finding
from homeguard.store.resilient import RETRY_INTERVAL, ResilientWriter
from tests import household
from tests.conftest import homeguard
from tests.netns_lab import Lab, start_homeguard, start_webhook, stop, wait_for

LOCKER = (  # what an admin's sqlite3 shell does with BEGIN EXCLUSIVE and no COMMIT
    "import sqlite3, sys\n"
    "conn = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
    "conn.execute('BEGIN EXCLUSIVE')\n"
    "print('locked', flush=True)\n"
    "sys.stdin.readline()\n"
    "conn.execute('COMMIT')\n"
)


@contextlib.contextmanager
def locked(db_path: Path) -> Iterator[subprocess.Popen[str]]:
    """A second process holding an exclusive lock on the database until the block ends."""
    proc = subprocess.Popen(
        [sys.executable, "-c", LOCKER, str(db_path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
        yield proc
    finally:
        if proc.poll() is None and proc.stdin is not None:
            proc.stdin.write("\n")
            proc.stdin.flush()
        proc.wait(timeout=10)


@contextlib.contextmanager
def small_disk(folder: Path, size: str) -> Iterator[Path]:
    """A real file system of `size`, so that 'disk full' is the kernel's answer."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    folder.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], check=True)
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def fill(folder: Path) -> Path:
    """Fill the file system to the last byte with one file; delete it to free the space."""
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        for block in (65536, 4096, 1):  # big blocks, then the last partial ones
            with contextlib.suppress(OSError):
                while os.write(fd, b"\0" * block):
                    pass
    finally:
        os.close(fd)
    return filler


def finding(n: int, ts: float) -> dict[str, object]:
    return {
        "rule": "telnet-in-use",
        "device_mac": f"aa:00:00:00:{n // 256:02x}:{n % 256:02x}",
        "key": "[]",
        "title": "Telnet",
        "category": "insecure.cleartext",
        "severity": "high",
        "device_ip": "192.168.1.2",
        "message": "m" * 200,
        "message_nl": "m" * 200,
        "remediation": "r" * 200,
        "remediation_nl": "r" * 200,
        "evidence": "{}",
        "count": 1,
        "first_seen": ts,
        "last_seen": ts,
    }


def flow(n: int) -> dict[str, object]:
    return {
        "start": float(n),
        "end": float(n),
        "proto": "tcp",
        "src_ip": "192.168.1.2",
        "server_name": "x" * 100,
    }


def writer_on(path: Path, clock: ManualClock, held_max: int = 20_000) -> ResilientWriter:
    return ResilientWriter(
        open_database(path),
        100,
        path=path,
        clock=clock,
        reopen=lambda: open_database(path),
        held_max=held_max,
    )


def stored(path: Path, table: str) -> int:
    with contextlib.closing(Database(path)) as db:
        return int(db.execute(f"SELECT count(*) FROM [{table}]").fetchone()[0])


def test_a_full_disk_gives_up_flow_detail_first_and_writes_the_findings_when_there_is_room(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    clock = ManualClock(1_000_000.0)
    with small_disk(tmp_path / "small", "4m") as disk:
        path = disk / "hg.db"
        writer = writer_on(path, clock)
        for n in range(300):
            writer.insert("flows", flow(n))
        writer.flush()
        filler = fill(disk)
        for n in range(3000):  # about 2 MB of findings: more than any room the shedding makes
            record_finding(writer, finding(n, clock.time()))
        for n in range(500):
            writer.insert("flows", flow(1000 + n))
        writer.flush()  # must not raise
        outage = writer.outage
        assert outage is not None and outage.problem == "full"
        assert outage.shed["flows"] == 500  # the waiting flow detail went first
        assert "the disk is full: gave up 500 unwritten" in caplog.text
        assert "the disk holding" in caplog.text and "is full: free space on it" in caplog.text
        assert writer.pending == 3000  # every finding still waits
        filler.unlink()
        writer.flush()  # before the retry interval: nothing is tried
        assert writer.outage is not None
        clock.advance(RETRY_INTERVAL)
        writer.flush()
        assert writer.outage is None
        assert stored(path, "findings") == 3000
        assert "the database can be written again" in caplog.text


def test_a_lock_held_by_another_program_costs_no_finding_and_what_waits_is_bounded(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    clock = ManualClock(1_000_000.0)
    path = tmp_path / "hg.db"
    writer = writer_on(path, clock, held_max=1000)
    with locked(path):
        for n in range(50):
            record_finding(writer, finding(n, clock.time()))
        for n in range(2000):
            writer.insert("flows", flow(n))
        writer.flush()
        assert writer.outage is not None and writer.outage.problem == "locked"
        assert "another program holds a lock on" in caplog.text
        assert writer.pending == 1000  # bounded: the flow detail gave way ...
        assert writer.outage.shed == {"flows": 1050}  # ... and no finding did
        clock.advance(RETRY_INTERVAL)
        writer.flush()  # still locked: one more short try, no second error line
        assert caplog.text.count("cannot write the database") == 1
    clock.advance(RETRY_INTERVAL)
    writer.flush()
    assert writer.outage is None
    assert stored(path, "findings") == 50 and stored(path, "flows") == 950


def test_a_replay_waits_for_a_lock_and_stores_everything(tmp_path: Path) -> None:
    capture = tmp_path / "household.pcap"
    wrpcap(str(capture), household.today())
    db = tmp_path / "hg.db"
    homeguard("replay", str(household_learning(tmp_path)), "--db", str(db))
    with locked(db) as locker:
        replay = subprocess.Popen(
            [sys.executable, "-m", "homeguard", "replay", str(capture), "--db", str(db)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        with contextlib.suppress(subprocess.TimeoutExpired):
            replay.wait(timeout=6)  # the replay itself takes a second; then it waits for the lock
        assert replay.poll() is None
        assert locker.stdin is not None
        locker.stdin.write("\n")
        locker.stdin.flush()
        _out, err = replay.communicate(timeout=60)
    assert replay.returncode == 0, err
    assert "Traceback" not in err and "another program holds a lock on" in err
    control = tmp_path / "control.db"  # the same two replays with nothing in the way
    homeguard("replay", str(household_learning(tmp_path)), "--db", str(control))
    homeguard("replay", str(capture), "--db", str(control))
    for table in ("findings", "devices", "flows", "dns_log"):
        assert stored(db, table) == stored(control, table) > 0, table


def household_learning(tmp_path: Path) -> Path:
    path = tmp_path / "learning.pcap"
    wrpcap(str(path), household.learning_week())
    return path


def test_a_damaged_database_is_moved_aside_and_a_new_one_started(tmp_path: Path) -> None:
    db = tmp_path / "hg.db"
    garbage = b"this is not a database, it was a power cut\n" * 200
    db.write_bytes(garbage)
    listed = homeguard("devices", "--db", str(db), check=False)
    assert listed.returncode != 0 and "Traceback" not in listed.stderr
    assert "the database is damaged" in listed.stderr and "moves it aside" in listed.stderr
    replayed = homeguard("replay", str(household_learning(tmp_path)), "--db", str(db), check=False)
    assert replayed.returncode == 0, replayed.stderr
    aside = list(tmp_path.glob("hg.db.damaged-*"))
    assert len(aside) == 1 and aside[0].read_bytes() == garbage  # nothing deleted
    assert f"is damaged: moved aside to {aside[0]}" in replayed.stderr
    assert stored(db, "devices") > 0
    if os.geteuid() == 0:
        doctor = homeguard("doctor", "-i", "lo", "--seconds", "0.5", "--db", str(db), check=False)
        assert f"a damaged one was moved aside to {aside[0]}" in doctor.stdout
        assert f"sqlite3 {aside[0]} .recover" in doctor.stdout


def alerts_titled(received: Path, title: str) -> list[dict[str, object]]:
    items = [json.loads(line) for line in received.read_text().splitlines()]
    return [i for i in items if i["title"] == title]


def rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    with contextlib.closing(Database(db)) as conn:
        return list(conn.execute(sql).fetchall())


def impatient_storage_rules(folder: Path) -> Path:
    """The shipped storage rules, overridden to alert after 2 s instead of 30 (a user's
    rule with the same id replaces the shipped one)."""
    folder.mkdir()
    for name in ("storage-locked.yml", "storage-full.yml"):
        text = (Path(__file__).parent.parent / "rules" / "health" / name).read_text()
        assert "store.down_for|gte: 30" in text
        (folder / name).write_text(text.replace("store.down_for|gte: 30", "store.down_for|gte: 2"))
    return folder


@pytest.mark.netns
def test_the_daemon_stays_up_through_a_lock_and_a_full_disk_and_the_alerts_still_arrive(lab: Lab) -> None:
    work = lab.workdir
    received = start_webhook(lab)
    rules_dir = impatient_storage_rules(work / "rules.d")
    hook = "notify:\n  - name: hook\n    url: json://127.0.0.1:8099/hook\n"
    with small_disk(work / "small", "8m") as disk:
        db = disk / "hg.db"
        daemon = start_homeguard(lab, db, config_extra=f"rules_dir: {rules_dir}\n{hook}")
        lab.run("laptop", "ip", "addr", "add", "192.168.77.12/24", "dev", "eth0")
        telnetd = [
            sys.executable,
            "-u",
            str(Path(__file__).parent / "lab_servers.py"),
            "telnet",
            "192.168.77.13",
            "23",
        ]
        lab.spawn("printer", telnetd, "telnetd.log")  # a telnet server that accepts: telnet in use
        wait_for(lambda: "serving telnet" in (work / "telnetd.log").read_text(), "the telnet server")
        telnet = "Telnet connection (unencrypted remote login)"

        with locked(db):  # 1. an admin's sqlite3 shell left in a transaction
            lab.run("laptop", "sh", "-c", "curl -s --max-time 2 telnet://192.168.77.13:23 < /dev/null; true")
            lock_title = "Another program locks HomeGuard's database"
            wait_for(lambda: alerts_titled(received, lock_title), "the lock alert at the webhook", timeout=30)
            wait_for(lambda: alerts_titled(received, telnet), "the telnet alert, sent without the database")
            assert daemon.poll() is None  # type: ignore[attr-defined]
        found = "SELECT rule FROM findings WHERE rule IN ('storage-locked', 'telnet-in-use') ORDER BY rule"
        both = [("storage-locked",), ("telnet-in-use",)]
        wait_for(lambda: rows(db, found) == both, "the outage's findings")
        sent = "SELECT state FROM outbox WHERE rule IN ('storage-locked', 'telnet-in-use')"
        assert rows(db, sent) == [("delivered",), ("delivered",)]  # sent during the outage, recorded after

        filler = fill(disk)  # 2. something else fills the SD card
        full_title = "HomeGuard's disk is full"
        wait_for(lambda: alerts_titled(received, full_title), "the full-disk alert", timeout=30)
        assert daemon.poll() is None  # type: ignore[attr-defined]
        filler.unlink()
        full_finding = "SELECT 1 FROM findings WHERE rule = 'storage-full'"
        wait_for(lambda: rows(db, full_finding), "the full-disk finding")

        with locked(db):  # 3. SIGTERM stops it within 5 s, even with the database out
            time.sleep(3)
            started = time.monotonic()
            stop(daemon, lab)
            assert time.monotonic() - started < 5
    log = (work / "homeguard.log").read_text()
    assert "Traceback" not in log
    assert "another program holds a lock on" in log and "is full: free space on it" in log
    assert "the database can be written again" in log
    assert len(alerts_titled(received, telnet)) == 1  # never sent twice
