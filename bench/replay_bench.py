#!/usr/bin/env python3
"""Replay benchmark: packets per second and peak RSS of `homeguard replay`, end to end
(pcap reading, decoding, state and SQLite storage), beside tshark on the same file.

    python bench/replay_bench.py [--flows 3000] [--runs 3] [--rules [--rule-counts 100,1000]]
        [--workers 1,2] [--compiled DIR] [--no-corpus] [--no-tshark]

Inputs: a synthetic household capture it generates (cached under $TMPDIR), and a
merge of ../shared/corpus when present. pps is the replay's own figure (packets over
the time spent replaying); wall includes Python start-up and imports; CPU is the
process's user and system time. Runs are interleaved (each setup, then tshark, then the
next round), since this machine is noisy, and the median of the runs is shown.

--compiled DIR also runs every setup with the HomeGuard tree in DIR, whose packet path
is compiled (`python scripts/compiled_suite.py --build-only DIR` makes one), in turn
with this checkout's pure Python.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
CACHE = Path(tempfile.gettempdir()) / "homeguard-bench"
CORPUS = HERE.parent.parent / "shared" / "corpus"
SUMMARY = re.compile(r"(\d+) packets, .* in ([\d.]+) s \(([\d,]+) pps\)")


def household_capture(flows: int) -> Path:
    path = CACHE / f"household-30-{flows}.pcap"
    if not path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        print(f"generating {path} ...", flush=True)
        # In a child: scapy would stay in this process, and a child forked from it starts
        # with its memory, which its peak RSS (wait4) then counts as HomeGuard's.
        tmp = str(path.with_suffix(".tmp"))
        make = f"import pathlib, household; household.write_household(pathlib.Path({tmp!r}), 30, {flows})"
        subprocess.run([sys.executable, "-c", make], cwd=HERE, check=True)
        path.with_suffix(".tmp").rename(path)
    return path


def corpus_capture() -> Path | None:
    if not CORPUS.is_dir() or shutil.which("mergecap") is None:
        return None
    path = CACHE / "corpus-merged.pcapng"
    if not path.exists():
        captures = sorted(
            str(p) for p in CORPUS.rglob("*") if p.suffix in (".pcap", ".pcapng") and p.is_file()
        )
        CACHE.mkdir(parents=True, exist_ok=True)
        # -a concatenates; corrupt inputs are skipped by mergecap with a warning
        subprocess.run(["mergecap", "-a", "-w", str(path), *captures], capture_output=True, check=False)
    return path if path.exists() else None


def rules_fixture(count: int = 100, domains: int = 100_000) -> Path:
    """A rules directory with `count` rules of every kind and a list of `domains` names."""
    directory = CACHE / f"rules-{count}-{domains}"
    if directory.exists():
        return directory
    (directory / "lists").mkdir(parents=True)
    names = "\n".join(f"tracker{i}.adnetwork{i % 97}.example" for i in range(domains))
    (directory / "lists" / "big.txt").write_text("# generated for the benchmark\n" + names + "\n")
    head = "format: 1\nid: bench-{n}\ntitle: Bench {n}\nseverity: low\ncategory: privacy.tracker\n"
    tail = "message: m {{dns.query}}\nremediation: r\n"
    kinds = [
        "when: dns\nmatch:\n  dns.is_response: false\n  dns.query|in: big\n",
        "when: dns\nmatch:\n  dns.query|endswith: .service{n}.example\n",
        "when: dns\nmatch:\n  dns.query|domain: host{n}.example\n  dns.qtype: [A, AAAA]\n",
        "when: flow_start\nmatch:\n  proto: tcp\n  dst.port: {port}\n",
        "when: flow_start\nmatch:\n  proto: tcp\nthreshold:\n  group_by: [src.ip]\n  distinct: dst.port\n"
        "  window: 60s\n  gte: {gte}\n",
        "when: flow_end\nmatch:\n  flow.bytes_in|gt: {big}\n",
        "when: dns\nmatch:\n  dns.answer_ips|cidr: 10.{n}.0.0/16\n",
    ]
    for n in range(count):
        body = kinds[n % len(kinds)].format(n=n, port=1000 + n, gte=50 + n, big=10**9 + n)
        (directory / f"bench-{n}.yml").write_text(head.format(n=n) + body + tail)
    return directory


def tree_env(tree: Path | None) -> dict[str, str] | None:
    """The environment in which Python imports HomeGuard from `tree` (None: this checkout's).
    Run it with `tree` as the working directory too, which `python -m` puts first on the path."""
    return None if tree is None else {**os.environ, "PYTHONPATH": str(tree)}


def run_measured(cmd: list[str], tree: Path | None = None) -> tuple[float, int, str, float]:
    """Run cmd (with HomeGuard imported from `tree` when given); return wall seconds, peak
    RSS in MiB, its stderr and its CPU seconds."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=tree_env(tree), cwd=tree
    )
    assert proc.stderr is not None
    err = proc.stderr.read()
    _pid, _status, usage = os.wait4(proc.pid, 0)
    proc.returncode = 0
    return time.perf_counter() - started, usage.ru_maxrss // 1024, err, usage.ru_utime + usage.ru_stime


def bench_homeguard(capture: Path, rules: list[str], tree: Path | None = None) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "homeguard", "replay", str(capture), "--db", f"{tmp}/b.db", *rules]
        wall, rss, err, cpu = run_measured(cmd, tree)
    match = SUMMARY.search(err)
    if match is None:
        raise SystemExit(f"replay failed: {err.strip()[-500:]}")
    pps = float(match.group(3).replace(",", ""))
    return {"packets": int(match.group(1)), "pps": pps, "wall": wall, "rss": rss, "cpu": cpu}


def check_compiled(tree: Path) -> None:
    code = "from homeguard.compiled import compiled_modules as c; print(len(c()))"
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=tree_env(tree),
        cwd=tree,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0 or done.stdout.strip() in ("", "0"):
        raise SystemExit(f"--compiled {tree}: no compiled HomeGuard there ({done.stderr.strip()[-200:]})")
    print(f"compiled tree {tree}: {done.stdout.strip()} modules compiled")


def median_of(results: list[dict[str, float]]) -> dict[str, float]:
    return {key: statistics.median(r[key] for r in results) for key in results[0]}


def bench_tshark(capture: Path, packets: int) -> float | None:
    if shutil.which("tshark") is None:
        return None
    cmd = [
        "tshark",
        "-r",
        str(capture),
        "-T",
        "fields",
        "-e",
        "frame.number",
        "-e",
        "ip.src",
        "-e",
        "ip.dst",
        "-e",
        "dns.qry.name",
        "-e",
        "tcp.dstport",
    ]
    wall, _rss, _err, _cpu = run_measured(cmd)
    return packets / wall


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--flows", type=int, default=3000, help="flows in the synthetic household")
    parser.add_argument("--runs", type=int, default=3, help="runs per input; the best counts")
    parser.add_argument("--no-corpus", action="store_true")
    parser.add_argument("--no-tshark", action="store_true")
    parser.add_argument(
        "--rules",
        action="store_true",
        help="run without rules, with the shipped rules, then with more rules and a 100,000-domain list",
    )
    parser.add_argument("--rule-counts", default="100", help="with --rules: more rules, e.g. 100,1000")
    parser.add_argument("--workers", default="1", help="replay --workers for each setup, e.g. 1,2")
    parser.add_argument("--compiled", type=Path, help="also run each setup from this compiled tree")
    args = parser.parse_args()
    if args.compiled is not None:
        check_compiled(args.compiled)
    inputs = [("household (synthetic)", household_capture(args.flows))]
    if not args.no_corpus:
        merged = corpus_capture()
        if merged is None:
            print("corpus: skipped (no ../shared/corpus, or no mergecap)")
        else:
            inputs.append(("shared corpus (merged)", merged))
    header = ("input", "packets", "pps", "wall s", "CPU s", "peak RSS", "tshark pps", "ratio")
    print("{:<48} {:>9} {:>10} {:>7} {:>7} {:>9} {:>11} {:>6}".format(*header))
    setups: list[tuple[str, list[str]]] = [("", [])]
    if args.rules:
        setups = [
            (" no rules", ["--no-rules"]),
            (" shipped rules", ["--rules-dir", str(CACHE / "no-user-rules")]),
        ]
        for count in (int(c) for c in args.rule_counts.split(",")):
            setups.append((f" +{count} rules", ["--rules-dir", str(rules_fixture(count))]))
    setups = [
        (suffix + (f" {n} workers" if n > 1 else ""), [*rule_args, "--workers", str(n)])
        for n in (int(w) for w in args.workers.split(","))
        for suffix, rule_args in setups
    ]
    trees: dict[str, Path | None] = {suffix: None for suffix, _ in setups}
    if args.compiled is not None:
        for suffix, rule_args in list(setups):
            setups.append((f"{suffix} compiled", rule_args))
            trees[f"{suffix} compiled"] = args.compiled
    for label, capture in inputs:
        results: dict[str, list[dict[str, float]]] = {suffix: [] for suffix, _ in setups}
        tshark_runs: list[float] = []
        for _ in range(args.runs):
            for suffix, rule_args in setups:
                results[suffix].append(bench_homeguard(capture, rule_args, trees[suffix]))
            if not args.no_tshark:
                packets = int(results[setups[0][0]][-1]["packets"])
                measured = bench_tshark(capture, packets)
                if measured is not None:
                    tshark_runs.append(measured)
        tshark = statistics.median(tshark_runs) if tshark_runs else None
        for suffix, _ in setups:
            result = median_of(results[suffix])
            ratio = f"{result['pps'] / tshark:5.2f}x" if tshark else "-"
            tshark_text = f"{tshark:,.0f}" if tshark else "-"
            print(
                f"{label + suffix:<48} {result['packets']:>9,.0f} {result['pps']:>10,.0f} "
                f"{result['wall']:>7.2f} {result['cpu']:>7.2f} {result['rss']:>6.0f} MiB "
                f"{tshark_text:>11} {ratio:>6}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
