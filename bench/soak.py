#!/usr/bin/env python3
"""Soak: a synthetic week of a 30-device household, replayed at accelerated time through
the daemon path (pipeline, shipped rules, findings, batched SQLite writes) with the
daemon's retention and size cap applied at the end of every simulated day. Prints RSS
and database size per day: both must stay flat (bounded), the database under its cap.

    python bench/soak.py [--days 7] [--flows-per-day 20000] [--max-db-mb 32]

Not a test: it takes a few minutes. Bounded: it stops after --days days.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from household import _pcap_header, _record, household_frames  # noqa: E402

from homeguard.capture.pcapfile import PcapFileSource  # noqa: E402
from homeguard.clock import SystemClock  # noqa: E402
from homeguard.findings.book import FindingsBook  # noqa: E402
from homeguard.pipeline.core import Pipeline  # noqa: E402
from homeguard.rules.engine import RuleEngine  # noqa: E402
from homeguard.rules.loader import load_ruleset, shipped_rules_dir  # noqa: E402
from homeguard.settings import Config  # noqa: E402
from homeguard.store.database import open_database  # noqa: E402
from homeguard.store.retention import database_bytes, enforce  # noqa: E402
from homeguard.store.writer import BatchWriter  # noqa: E402

DAY = 86400.0
START = 1_767_225_600.0  # 2026-01-01


def write_day(path: Path, flows: int) -> int:
    """The household's frames spread over 24 hours, as a pcap whose clock starts at 0,
    so each simulated day can stream it from disk (the bench's input is not held in memory)."""
    frames = household_frames(devices=30, flows=flows)
    first, last = frames[0][0], frames[-1][0]
    scale = (DAY - 60) / max(1.0, last - first)
    with path.open("wb") as out:
        out.write(_pcap_header())
        for ts, data in frames:
            out.write(_record((ts - first) * scale, data))
    return len(frames)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--flows-per-day", type=int, default=20_000)
    parser.add_argument("--max-db-mb", type=int, default=32)
    parser.add_argument("--write-day", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.write_day:
        count = write_day(Path(args.write_day), args.flows_per_day)
        Path(args.write_day).with_suffix(".count").write_text(str(count))
        return 0
    config = Config()
    config.set("max_db_mb", args.max_db_mb, "--max-db-mb")
    process = psutil.Process()
    with tempfile.TemporaryDirectory() as tmp:
        capture = Path(tmp) / "day.pcap"
        print(f"building a day of {args.flows_per_day} flows for 30 devices ...", flush=True)
        # in a child process, so that this process's RSS is HomeGuard's, not scapy's
        child = [sys.executable, __file__, "--write-day", str(capture)]
        subprocess.run([*child, "--flows-per-day", str(args.flows_per_day)], check=True)
        frames_per_day = int(capture.with_suffix(".count").read_text())
        print(f"{frames_per_day:,} frames a day")
        path = Path(tmp) / "soak.db"
        db = open_database(path)
        writer = BatchWriter(db, config.values["flush_max_rows"])
        engine = RuleEngine(load_ruleset([shipped_rules_dir()]), [FindingsBook(writer, SystemClock())])
        pipeline = Pipeline(config, writer, [engine], clock=SystemClock())
        print("day  packets      pps   RSS MiB  DB MiB (in use)  file MiB  dns_log  flows  flow_hours")
        for n in range(args.days):
            base = START + n * DAY
            started = time.perf_counter()
            for frame in PcapFileSource(str(capture)).frames():
                if frame is not None:
                    offset, linktype, data, wirelen = frame
                    pipeline.process((base + offset, linktype, data, wirelen))
            pipeline.maintain(base + DAY)
            pipeline.flush()
            enforce(db, config, now=base + DAY)
            db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            seconds = time.perf_counter() - started
            rows = {
                t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in ("dns_log", "flows", "flow_hours")
            }
            rss = process.memory_info().rss / 2**20
            print(
                f"{n + 1:>3} {frames_per_day:>9,} {frames_per_day / seconds:>8,.0f} {rss:>9.1f} "
                f"{database_bytes(db) / 2**20:>15.1f} {path.stat().st_size / 2**20:>9.1f} "
                f"{rows['dns_log']:>8,} {rows['flows']:>6,} {rows['flow_hours']:>11,}",
                flush=True,
            )
        pipeline.close()
        db.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
