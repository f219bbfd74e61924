"""`homeguard replay --workers N`: the frames spread over worker processes by address
pair, and the household process gets the same flows, events and frame numbers as a
replay in one process. The household scenario (test_household_scenario.py) also runs
with three workers and must find exactly the same."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import psutil
from scapy.all import (  # type: ignore[attr-defined]
    ARP,
    DNS,
    DNSQR,
    DNSRR,
    IP,
    TCP,
    UDP,
    Dot1Q,
    Ether,
    IPv6,
    Raw,
    fragment,
    raw,
    wrpcap,
)

from homeguard import app
from homeguard.clock import ManualClock
from homeguard.settings import Config
from homeguard.workers.pool import Known
from homeguard.workers.replay import ReplayPool, start_worker
from homeguard.workers.share import share_of
from tests.conftest import TS0, homeguard, read_jsonl

ROUTER = "02:00:00:00:00:fe"


def household_traffic(devices: int = 6, servers: int = 12) -> list[Any]:
    """Each device looks servers up and talks to them: lookups and connections between
    many address pairs, answers from the router, so they spread over the workers."""
    packets: list[Any] = []
    ts = 1_700_000_000.0
    for s in range(servers):
        for d in range(devices):
            mac, ip = f"02:00:00:00:02:{d:02x}", f"10.7.0.{d + 10}"
            server, name = f"10.8.{s}.{d + 1}", f"svc{s}-{d}.example"
            port = 20000 + s * 100 + d
            out, back = (
                Ether(src=mac, dst=ROUTER) / IP(src=ip, dst=server),
                Ether(src=ROUTER, dst=mac) / IP(src=server, dst=ip),
            )
            answer = DNS(id=port, qr=1, qd=DNSQR(qname=name), an=DNSRR(rrname=name, rdata=server))
            conversation = [
                Ether(src=ROUTER, dst=mac) / IP(src="10.7.0.1", dst=ip) / UDP(sport=53, dport=port) / answer,
                out / TCP(sport=port, dport=443, flags="S", seq=1),
                back / TCP(sport=443, dport=port, flags="SA", seq=7, ack=2),
                out / TCP(sport=port, dport=443, flags="A", seq=2, ack=8),
                out / TCP(sport=port, dport=443, flags="PA", seq=2, ack=8) / Raw(b"x" * 300),
                back / TCP(sport=443, dport=port, flags="FA", seq=8, ack=302),
                out / TCP(sport=port, dport=443, flags="FA", seq=302, ack=9),
            ]
            for packet in conversation:
                ts += 0.01
                packet.time = ts
                packets.append(packet)
    return packets


def replayed(capture: Path, db: Path, events: Path, workers: int) -> str:
    done = homeguard(
        "replay", str(capture), "--db", str(db), "--events", str(events), "--workers", str(workers)
    )
    return done.stderr


def rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as connection:
        return sorted(connection.execute(sql).fetchall())


def test_workers_give_the_flows_devices_and_events_of_one_process(tmp_path: Path) -> None:
    capture = tmp_path / "household.pcap"
    wrpcap(str(capture), household_traffic())
    for workers in (1, 3):
        replayed(capture, tmp_path / f"{workers}.db", tmp_path / f"{workers}.jsonl", workers)
    flows = (
        "select start, proto, src_ip, src_port, dst_ip, dst_port, packets_out, packets_in, bytes_out,"
        " server_name from flows"
    )
    one, three = rows(tmp_path / "1.db", flows), rows(tmp_path / "3.db", flows)
    connections = [row for row in one if row[1] == "tcp"]
    assert len(one) == 144 and len(connections) == 72  # and 72 lookups
    assert all(row[-1] for row in connections)  # every connection named from its lookup
    assert three == one
    devices = "select mac, first_seen, last_seen from devices"
    assert rows(tmp_path / "3.db", devices) == rows(tmp_path / "1.db", devices)

    def seen(path: Path) -> Counter[tuple[Any, ...]]:
        # each event once, with the file's own frame number, whichever worker read it
        return Counter(
            (e["type"], e.get("capture.frame"), e.get("src.ip"), e.get("dst.port"))
            for e in read_jsonl(path)
            if e["type"] != "capture_stats"
        )

    assert seen(tmp_path / "3.jsonl") == seen(tmp_path / "1.jsonl")

    # and in the same order: the frames' events as the file has them (what ends at the
    # file's end, its last frame, comes after, as the flows and devices are closed)
    def in_order(path: Path) -> list[tuple[Any, ...]]:
        return [
            (e["type"], e["capture.frame"], e["ts"])
            for e in read_jsonl(path)
            if e["type"] != "capture_stats" and e["capture.frame"] != 504
        ]

    assert len(in_order(tmp_path / "1.jsonl")) == 288
    assert in_order(tmp_path / "3.jsonl") == in_order(tmp_path / "1.jsonl")


def test_workers_keep_the_files_order_where_the_clock_goes_back(tmp_path: Path) -> None:
    """Two files whose clocks disagree (the second a day behind, as merged captures and a
    clock set at boot have it): times cannot say which event came first, so the workers'
    events are put back in the files' order, file by file and frame by frame. The
    household gets what one process gets, in the same order, and the same on every run."""
    traffic = household_traffic(devices=4, servers=6)
    half = len(traffic) // 2
    for packet in traffic[half:]:
        packet.time -= 86_400
    first, second = tmp_path / "first.pcap", tmp_path / "second.pcap"
    wrpcap(str(first), traffic[:half])
    wrpcap(str(second), traffic[half:])

    def events(workers: int, run: int) -> tuple[list[tuple[Any, ...]], Counter[tuple[Any, ...]]]:
        """The frames' events in order, and what ends at the end (flows, devices announced)."""
        out = tmp_path / f"{workers}-{run}.jsonl"
        homeguard(
            "replay", str(first), str(second), "--db", str(tmp_path / f"{workers}-{run}.db"),
            "--events", str(out), "--workers", str(workers),
        )  # fmt: skip
        seen = [
            (e["type"], Path(e["capture.file"]).name, e["capture.frame"], e["ts"], e.get("src.ip"))
            for e in read_jsonl(out)
            if e["type"] != "capture_stats"
        ]
        ending = ("second.pcap", len(traffic) - half)
        return [e for e in seen if e[1:3] != ending], Counter(e for e in seen if e[1:3] == ending)

    one, one_ending = events(1, 0)
    kinds = Counter((e[0], e[1]) for e in one)
    for name in ("first.pcap", "second.pcap"):  # each: 12 lookups and 12 connections
        assert kinds[("flow_start", name)] == 24 and kinds[("dns", name)] == 12
        assert kinds[("flow_established", name)] == 12
    assert Counter(e[0] for e in one_ending) == {"flow_end": 48, "device_new": 5}
    assert min(e[3] for e in one if e[1] == "first.pcap") > max(e[3] for e in one if e[1] == "second.pcap")
    for run in range(3):
        assert events(3, run) == (one, one_ending)


def test_workers_name_flows_across_workers_when_no_rule_wants_the_events(tmp_path: Path) -> None:
    """With no rules and no events file, nothing but the data ledger's flow_end is
    wanted; the workers still build what the household learns from (a lookup read by
    one worker names a connection another read), so the store is that of one process."""
    capture = tmp_path / "household.pcap"
    wrpcap(str(capture), household_traffic())
    for workers in (1, 3):
        homeguard(
            "replay",
            str(capture),
            "--db",
            str(tmp_path / f"{workers}.db"),
            "--no-rules",
            "--workers",
            str(workers),
        )
    flows = "select start, proto, src_ip, src_port, dst_ip, dst_port, server_name from flows"
    one, three = rows(tmp_path / "1.db", flows), rows(tmp_path / "3.db", flows)
    assert len(one) == 144 and all(row[-1] for row in one if row[1] == "tcp")
    assert three == one
    devices = "select mac, first_seen, last_seen from devices"
    assert rows(tmp_path / "3.db", devices) == rows(tmp_path / "1.db", devices)


def test_the_summary_counts_every_frame_once(tmp_path: Path) -> None:
    capture = tmp_path / "household.pcap"
    wrpcap(str(capture), household_traffic(devices=2, servers=3))
    summary = replayed(capture, tmp_path / "w.db", tmp_path / "w.jsonl", 4)
    assert "\n1 file(s): 42 packets, " in summary, summary
    stats = rows(tmp_path / "w.db", "select packets from capture_stats")
    assert stats == [(42,)]
    [event] = [e for e in read_jsonl(tmp_path / "w.jsonl") if e["type"] == "capture_stats"]
    assert (event["capture.packets"], event["capture.file"], event["capture.frame"]) == (42, str(capture), 42)


def test_a_worker_that_dies_fails_the_replay_and_says_so(tmp_path: Path) -> None:
    capture = tmp_path / "long.pcap"
    wrpcap(str(capture), household_traffic(devices=20, servers=60))  # 8,400 frames
    replay = subprocess.Popen(
        [sys.executable, "-m", "homeguard", "replay", str(capture), "--workers", "2"],
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    killed = False
    while not killed and time.monotonic() < deadline and replay.poll() is None:
        for child in psutil.Process(replay.pid).children():
            if "homeguard.workers.worker" in " ".join(child.cmdline()):
                child.send_signal(signal.SIGKILL)
                killed = True
                break
        time.sleep(0.01)
    _, stderr = replay.communicate(timeout=60)
    assert killed
    assert replay.returncode == 1
    assert "died (killed by SIGKILL): its share of the frames was not all read" in stderr


def test_a_worker_that_sends_nothing_is_stopped_and_the_replay_fails(tmp_path: Path) -> None:
    """A stuck worker (stopped here with SIGSTOP: alive, silent) must not hold the
    replay for ever: after the pool's silence it is killed and reported, and the other
    worker's share still arrives."""
    capture = tmp_path / "household.pcap"
    wrpcap(str(capture), household_traffic(devices=4, servers=4))
    config = Config()
    household = app.build(config, ManualClock(TS0), rules=False, alert_targets=False, replay=True)
    known: Known = ([], [], [])
    crew = [
        start_worker(config, [str(capture)], share, 2, known, household.pipeline.wanted) for share in range(2)
    ]
    crew[1].process.send_signal(signal.SIGSTOP)
    try:
        pool = ReplayPool(household.pipeline, crew, silence=2.0)
        started = time.monotonic()
        pool.run(None)
        assert time.monotonic() - started < 30
    finally:
        for worker in crew:
            worker.process.kill()
            worker.process.wait()
            worker.batches.close()
        household.close()
    assert pool.failed == [
        "replay worker 1 died (sent nothing for 2 s, killed): its share of the frames was not all read"
    ]
    assert crew[0].files is not None and crew[0].files[0].packets == 4 * 4 * 7  # worker 0 read it all
    assert household.pipeline.stats.events > 0  # and its share was relayed


def test_separate_networks_need_one_process(tmp_path: Path) -> None:
    capture = tmp_path / "one.pcap"
    wrpcap(str(capture), household_traffic(devices=1, servers=1))
    done = homeguard("replay", str(capture), "--separate", "--workers", "2", check=False)
    assert done.returncode == 2
    assert "--separate replays one network after another: use it with --workers 1" in done.stderr


def test_both_directions_and_every_fragment_share_one_worker() -> None:
    a, b = "10.1.0.5", "93.184.216.34"
    pairs = [
        (
            Ether() / IP(src=a, dst=b) / TCP(sport=1, dport=2),
            Ether() / IP(src=b, dst=a) / TCP(sport=2, dport=1),
        ),
        (
            Ether() / Dot1Q(vlan=7) / IP(src=a, dst=b) / UDP(),
            Ether() / Dot1Q(vlan=7) / IP(src=b, dst=a) / UDP(),
        ),
        (
            Ether() / IPv6(src="fd00::1", dst="2001:db8::9") / UDP(),
            Ether() / IPv6(src="2001:db8::9", dst="fd00::1") / UDP(),
        ),
    ]
    for there, back in pairs:
        assert share_of(1, raw(there), 5) == share_of(1, raw(back), 5)
    pieces = fragment(IP(src=a, dst=b) / UDP(sport=5, dport=6) / Raw(b"y" * 3000), fragsize=1000)
    assert len(pieces) > 2
    assert len({share_of(1, raw(Ether() / piece), 5) for piece in pieces}) == 1
    assert share_of(1, raw(Ether() / ARP(psrc=a, pdst=b)), 5) == 0  # no IP: the first worker
    assert share_of(101, raw(IP(src=b, dst=a) / UDP()), 5) == share_of(1, raw(Ether() / IP(src=a, dst=b)), 5)
    spread = {share_of(1, raw(Ether() / IP(src=f"10.1.0.{n}", dst=b)), 4) for n in range(64)}
    assert spread == {0, 1, 2, 3}
