#!/usr/bin/env python3
"""Live capture benchmark: loss and CPU per packet of `homeguard run` at fixed rates.

    sudo python bench/live_bench.py [--rates 50000,100000,150000] [--seconds 10]
        [--capture household|corpus] [--modes socket,ring,w1,w2] [--rounds 1] [--compiled DIR]

It builds two network namespaces joined by a veth pair (its own, removed at the end),
starts `homeguard run` on one end, and sends a capture from the other with tcpreplay
(Debian's package) at each rate for a fixed number of packets: every run is bounded
and stops by itself. Loss comes from the kernel's own counters (packets the capture
socket or ring had no room for), as the daemon's last statistics row records them.
CPU per packet is the user and system time of the daemon and its capture workers over
the run, divided by the packets received; the household process's own share of a core
is shown apart (it must keep up with the workers' events), and the peak RSS is the sum
over the daemon and its workers (shared pages counted in each); PSS, read at the end of
the run, counts shared pages once (the household process's own in brackets). Modes are
interleaved within each rate, since this machine is noisy:

    socket  a plain socket in the daemon's process (round 1's capture)
    ring    the TPACKET_V3 ring in the daemon's process (capture_workers 0)
    wN      N capture workers, each on a ring of its own in one PACKET_FANOUT group
    MODE+c  with --compiled DIR: the same, with HomeGuard from DIR, whose packet path is
            compiled (python scripts/compiled_suite.py --build-only DIR)

Captures: the synthetic household (bench/household.py, cached under $TMPDIR) or the
Ethernet frames of a merge of ../shared/corpus (tshark and editcap make it; skipped,
saying so, when the corpus is not there).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from replay_bench import CACHE, corpus_capture, household_capture, tree_env  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def sh(*args: str) -> None:
    subprocess.run(args, check=True, capture_output=True, timeout=60)


class Veth:
    def __init__(self) -> None:
        self.prefix = f"hglb{os.getpid() % 100000}"
        self.sender, self.monitor = f"{self.prefix}-tx", f"{self.prefix}-mon"

    def __enter__(self) -> Veth:
        sh("ip", "netns", "add", self.sender)
        sh("ip", "netns", "add", self.monitor)
        sh(
            "ip",
            "link",
            "add",
            "tx0",
            "netns",
            self.sender,
            "type",
            "veth",
            "peer",
            "name",
            "mon0",
            "netns",
            self.monitor,
        )
        for namespace, link in ((self.sender, "tx0"), (self.monitor, "mon0")):
            sh("ip", "netns", "exec", namespace, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1")
            sh("ip", "-n", namespace, "link", "set", link, "mtu", "65535", "up")  # the corpus has big frames
        return self

    def __exit__(self, *_: object) -> None:
        for namespace in (self.sender, self.monitor):
            subprocess.run(["ip", "netns", "del", namespace], capture_output=True, timeout=60)


def ethernet_corpus() -> Path | None:
    """tcpreplay sends one link type: the corpus's Ethernet frames (212k of 213k), as pcap."""
    merged = corpus_capture()
    if merged is None:
        return None
    path = CACHE / "corpus-ethernet.pcap"
    if not path.exists():
        ethernet = CACHE / "corpus-eth.pcapng"
        sh("tshark", "-r", str(merged), "-Y", "eth", "-w", str(ethernet))
        sh("editcap", "-F", "pcap", "-T", "ether", str(ethernet), str(path))
        ethernet.unlink()
    return path


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def proc_mib(path: str, field: str) -> float:
    """One memory line of a /proc file (given in KiB), in MiB; 0 when it is missing."""
    for line in Path(path).read_text().splitlines():
        if line.startswith(field):
            return int(line.split()[1]) / 1024
    return 0.0


def peak_rss_mib(pid: int) -> float:
    """The process's peak resident memory (VmHWM), in MiB."""
    return proc_mib(f"/proc/{pid}/status", "VmHWM:")


def pss_mib(pid: int) -> float:
    """The process's proportional share of resident memory (Pss), in MiB: shared pages
    counted once across the processes sharing them, so the sum is the real total."""
    return proc_mib(f"/proc/{pid}/smaps_rollup", "Pss:")


def children(pid: int) -> list[int]:
    found = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(child) for child in found]


def mode_config(mode: str) -> str:
    mode = mode.removesuffix("+c")
    if mode == "socket":
        return "capture_ring_mb: 0\ncapture_workers: 0\n"
    if mode == "ring":
        return "capture_ring_mb: 16\ncapture_workers: 0\n"
    if mode.startswith("w") and mode[1:].isdigit():
        return f"capture_ring_mb: 16\ncapture_workers: {int(mode[1:])}\n"
    raise SystemExit(f"unknown mode {mode!r}: socket, ring or wN (N capture workers)")


def one_run(
    lab: Veth, capture: Path, rate: int, seconds: float, mode: str, workdir: Path, compiled: Path | None
) -> dict[str, float]:
    """One rate in one mode; a mode ending in +c runs HomeGuard from the compiled tree."""
    db = workdir / f"{mode}-{rate}.db"
    for old in workdir.glob(f"{mode}-{rate}.db*"):
        old.unlink()
    config = workdir / f"{mode}.yaml"
    config.write_text(f"stats_interval: 1\nsocket_buffer_mb: 16\n{mode_config(mode)}")
    log = (workdir / f"{mode}-{rate}.log").open("w")
    command = [
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
    ]
    tree = compiled if mode.endswith("+c") else None
    proc = subprocess.Popen(
        ["ip", "netns", "exec", lab.monitor, *command],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=tree_env(tree),
        cwd=tree,
    )
    try:
        deadline = time.monotonic() + 60
        while "capturing on mon0" not in (workdir / f"{mode}-{rate}.log").read_text():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((workdir / f"{mode}-{rate}.log").read_text())
            time.sleep(0.1)
        pid = proc.pid  # `ip netns exec` execs the daemon in its own process
        time.sleep(1.0)
        workers = children(pid)
        household_before = cpu_seconds(pid)
        cpu_before = household_before + sum(cpu_seconds(child) for child in workers)
        started = time.monotonic()
        packets = int(rate * seconds)
        subprocess.run(
            [
                "ip",
                "netns",
                "exec",
                lab.sender,
                "tcpreplay",
                "-q",
                "-i",
                "tx0",
                f"--pps={rate}",
                f"--limit={packets}",
                "--loop=0",
                str(capture),
            ],
            check=True,
            capture_output=True,
            timeout=seconds * 4 + 60,
        )
        time.sleep(2.0)  # let the daemon finish what is in the ring or buffer
        household = cpu_seconds(pid) - household_before
        cpu = household + sum(cpu_seconds(child) for child in workers) - cpu_before
        elapsed = time.monotonic() - started
        rss = sum(peak_rss_mib(p) for p in (pid, *workers))
        pss = [pss_mib(p) for p in (pid, *workers)]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        log.close()
    row = (
        sqlite3.connect(db)
        .execute("SELECT packets, kernel_drops FROM capture_stats ORDER BY ts DESC LIMIT 1")
        .fetchone()
    )
    received, drops = row
    return {
        "sent": packets,
        "received": received,
        "drops": drops,
        "loss": drops / max(1, received + drops),
        "us_per_packet": cpu / max(1, received) * 1e6,
        "household_core": household / elapsed,
        "rss": rss,
        "pss": sum(pss),
        "pss_household": pss[0],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", default="50000,100000,150000")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--capture", choices=("household", "corpus"), default="household")
    parser.add_argument("--modes", default="socket,ring,w1,w2")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument(
        "--compiled",
        type=Path,
        help="also run each mode (as MODE+c) from this tree with a compiled packet path "
        "(python scripts/compiled_suite.py --build-only DIR)",
    )
    args = parser.parse_args()
    if os.geteuid() != 0 or shutil.which("tcpreplay") is None:
        print("needs root and tcpreplay (apt-get install tcpreplay)")
        return 2
    capture = household_capture(3000) if args.capture == "household" else ethernet_corpus()
    if capture is None:
        print("no ../shared/corpus: skipped")
        return 0
    modes = args.modes.split(",")
    if args.compiled is not None:
        modes = [variant for mode in modes for variant in (mode, f"{mode}+c")]
    print(f"{args.capture} capture, {args.seconds:.0f} s per rate, modes interleaved: {', '.join(modes)}")
    print(
        f"{'rate':>8} {'mode':>7} {'round':>5} {'received':>9} {'drops':>8} {'loss':>7} {'µs/pkt':>7}"
        f" {'household':>9} {'peak RSS':>9} {'PSS (household)':>16}"
    )
    with tempfile.TemporaryDirectory() as tmp, Veth() as lab:
        for rate in (int(r) for r in args.rates.split(",")):
            for round_no in range(args.rounds):
                for mode in modes:
                    result = one_run(lab, capture, rate, args.seconds, mode, Path(tmp), args.compiled)
                    received, drops = result["received"], result["drops"]
                    print(
                        f"{rate:8} {mode:>7} {round_no + 1:5} {received:9.0f} {drops:8.0f}"
                        f" {result['loss']:7.2%} {result['us_per_packet']:7.1f}"
                        f" {result['household_core']:9.0%} {result['rss']:5.0f} MiB"
                        f" {result['pss']:5.0f} ({result['pss_household']:3.0f}) MiB",
                        flush=True,
                    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
