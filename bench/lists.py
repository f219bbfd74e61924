#!/usr/bin/env python3
"""List loading: a user's list of 1,000,000 domains (plain and hosts format) and one of
3,000,000 (past the cap), each loaded in a fresh process: seconds, memory added, and
the cost of a lookup; beside a plain Python set of the same names (what lists used
before), interleaved.

    python bench/lists.py [--names 1000000] [--runs 3]

Wanted (issue 12): 1M domains in at most 5 s and 40 MB.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
CACHE = Path("/tmp/homeguard-bench")
WORDS = ("ads", "track", "cdn", "metrics", "pixel", "tag", "stat", "log", "api", "data")

MEASURE = """
import gc, json, sys, time
sys.path.insert(0, sys.argv[3])
import psutil
from pathlib import Path
from homeguard.rules.lists import IndicatorList, entry_of_line, load_list
process = psutil.Process()
before = process.memory_info().rss
start = time.perf_counter()
if sys.argv[2] == "set":  # the names as a plain set of strings, parsed the same way
    names = set()
    probe = IndicatorList("probe")
    for line in open(sys.argv[1], encoding="utf-8"):
        entry, _ = entry_of_line(line)
        if entry is not None and probe.add(entry) is None:
            names.add(entry.strip().lower())
    probe = None
    contains = lambda n: any(n.split(".", i)[-1] in names for i in range(n.count(".") + 1))
    size = len(names)
else:
    loaded = load_list(Path(sys.argv[1]))
    contains, size = loaded.contains, len(loaded)
took = time.perf_counter() - start
gc.collect()
added = process.memory_info().rss - before
probes = [f"sub.ads{i}.track-{i % 9973}.example{i % 7}.com" for i in range(100000)]
start = time.perf_counter()
hits = sum(map(contains, probes))
lookup = (time.perf_counter() - start) / len(probes)
print(json.dumps({"entries": size, "seconds": took, "mib": added / 2**20, "lookup_us": lookup * 1e6}))
"""


def make_list(names: int, hosts: bool) -> Path:
    path = CACHE / f"list-{names}-{'hosts' if hosts else 'plain'}.txt"
    if not path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        rng = random.Random(1)
        with open(path.with_suffix(".tmp"), "w") as out:
            for i in range(names):
                name = f"{rng.choice(WORDS)}{i}.{rng.choice(WORDS)}-{i % 9973}.example{i % 7}.com"
                out.write(f"0.0.0.0 {name}\n" if hosts else f"{name}\n")
        path.with_suffix(".tmp").rename(path)
    return path


def measure(path: Path, how: str) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, str(path), how, str(HERE.parent)],
        capture_output=True,
        text=True,
        timeout=900,
        check=True,
    )
    result: dict[str, float] = json.loads(done.stdout)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--names", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3, help="interleaved runs of each; the median counts")
    args = parser.parse_args()
    cases = [
        (f"{args.names:,} plain", make_list(args.names, False), "nameset"),
        (f"{args.names:,} plain", make_list(args.names, False), "set"),
        (f"{args.names:,} hosts", make_list(args.names, True), "nameset"),
        (f"{3 * args.names:,} plain", make_list(3 * args.names, False), "nameset"),
    ]
    results: dict[int, list[dict[str, float]]] = {i: [] for i in range(len(cases))}
    for _ in range(args.runs):
        for i, (_name, path, how) in enumerate(cases):
            results[i].append(measure(path, how))
    print(f"{'list':<20} {'kept as':<9} {'entries':>10} {'load s':>8} {'MiB added':>10} {'lookup µs':>10}")
    for i, (name, _path, how) in enumerate(cases):
        runs = sorted(results[i], key=lambda r: r["seconds"])
        mid = runs[len(runs) // 2]
        print(
            f"{name:<20} {how:<9} {mid['entries']:>10,.0f} {mid['seconds']:>8.2f} "
            f"{max(r['mib'] for r in runs):>10.1f} {mid['lookup_us']:>10.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
