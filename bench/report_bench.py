#!/usr/bin/env python3
"""Report benchmark: a year of a 30-device household's data ledger, generated here
(30 devices, each reaching 20 to 40 organisations a day in one or two server countries:
about 330,000 rows), then `homeguard report` over the whole year in each format,
timed end to end (start-up included) over several runs.

    python bench/report_bench.py [--devices 30] [--days 365] [--runs 3]

Wanted (issue 13): at most 2 s for the year's report.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from homeguard.state.organisations import load_entities  # noqa: E402
from homeguard.store.database import open_database  # noqa: E402
from homeguard.store.ledger import COLUMNS  # noqa: E402

DAY = 86400.0
COUNTRIES = ("US", "NL", "DE", "IE", "KR", "CN", "SE", "GB", "FR", "JP")


def generate(db_path: Path, devices: int, days: int, end: float) -> int:
    rng = random.Random(13)
    orgs = list(load_entities().by_name.values())
    db = open_database(db_path)
    rows = 0
    macs = [f"02:00:00:00:01:{i:02x}" for i in range(devices)]
    db.conn.executemany(
        "INSERT INTO devices (mac, hostname, vendor, randomized, first_seen, last_seen) "
        "VALUES (?, ?, ?, 0, ?, ?)",
        [(mac, f"device-{i}", "Example Inc.", end - days * DAY, end) for i, mac in enumerate(macs)],
    )
    habits = {mac: rng.sample(orgs, 40) for mac in macs}  # each device has its regular companies
    sql = f"INSERT INTO ledger ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
    for d in range(days):
        ts = end - (days - d) * DAY + 43200
        day = time.strftime("%Y-%m-%d", time.localtime(ts))
        batch = []
        for mac in macs:
            for org in rng.sample(habits[mac], rng.randint(20, 40)):
                for country in (
                    {org.country or "US", rng.choice(COUNTRIES)}
                    if rng.random() < 0.3
                    else {org.country or "US"}
                ):
                    batch.append(
                        (
                            day,
                            mac,
                            org.name,
                            country,
                            org.country,
                            org.purpose,
                            None,
                            "tls",
                            int(org.purpose in ("advertising", "analytics", "telemetry")),
                            1,
                            rng.randint(1_000, 50_000_000),
                            rng.randint(1_000, 500_000_000),
                            rng.randint(1, 400),
                            ts,
                            ts + 3600,
                            json.dumps([org.name.lower().split()[0] + ".com"]),
                        )
                    )
        with db.atomic():
            db.conn.executemany(sql, batch)
        rows += len(batch)
    db.conn.commit()  # the first insert opened a transaction that atomic() only nested in
    db.close()
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devices", type=int, default=30)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "year.db"
        started = time.perf_counter()
        rows = generate(db, args.devices, args.days, time.time())
        print(
            f"generated {rows:,} ledger rows in {time.perf_counter() - started:.1f} s "
            f"({db.stat().st_size >> 20} MiB)"
        )
        for fmt in ("json", "text", "html"):
            times = []
            for _ in range(args.runs):
                command = [
                    sys.executable,
                    "-m",
                    "homeguard",
                    "report",
                    "--db",
                    str(db),
                    "--since",
                    f"{args.days}d",
                    "--format",
                    fmt,
                    "--output",
                    str(Path(tmp) / f"report.{fmt}"),
                ]
                started = time.perf_counter()
                subprocess.run(command, check=True, capture_output=True, timeout=300)
                times.append(time.perf_counter() - started)
            print(
                f"report --since {args.days}d --format {fmt}: median {sorted(times)[len(times) // 2]:.2f} s "
                f"(runs: {', '.join(f'{t:.2f}' for t in times)})"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
