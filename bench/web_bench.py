#!/usr/bin/env python3
"""Dashboard benchmark: a year of a 30-device household (the ledger of bench/report_bench.py,
plus findings and a DNS log), then each page asked for N times through the application
(server time: routing, queries, rendering; no network), with p50 and p95, and the weight of
the first page (HTML and the stylesheet).

    python bench/web_bench.py [--devices 30] [--days 365] [--requests 20]

Wanted (issue 14): p95 at most 200 ms for every page; the first page at most 200 KB.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from report_bench import generate  # noqa: E402

from homeguard.clock import SystemClock  # noqa: E402
from homeguard.settings import Config  # noqa: E402
from homeguard.store.database import open_database  # noqa: E402
from homeguard.store.web import set_user  # noqa: E402
from homeguard.web.app import create_app  # noqa: E402
from homeguard.web.security import hash_password  # noqa: E402

PASSWORD = "benchmark passphrase"


def add_findings_and_lookups(db_path: Path, devices: int, days: int, end: float) -> None:
    rng = random.Random(14)
    db = open_database(db_path)
    rules = [
        "tracker-contact",
        "new-company",
        "dns-foreign-resolver",
        "telnet-in-use",
        "new-device",
        "old-tls-version",
    ]
    with db.atomic():
        for n in range(devices * 60):
            mac = f"02:00:00:00:01:{n % devices:02x}"
            ts = end - rng.random() * days * 86400
            db.execute(
                "INSERT OR IGNORE INTO findings (rule, device_mac, key, title, category, severity, message, "
                "message_nl, remediation, remediation_nl, evidence, count, first_seen, last_seen) "
                "VALUES (?, ?, ?, 'A finding', 'privacy.tracker', ?, 'What happened.', 'Wat er gebeurde.', "
                "'What to do.', 'Wat te doen.', '{}', 1, ?, ?)",
                [
                    rng.choice(rules),
                    mac,
                    json.dumps([n]),
                    rng.choice(["low", "medium", "high", "critical"]),
                    ts,
                    ts,
                ],
            )
        rows = [
            (
                end - rng.random() * 30 * 86400,
                f"02:00:00:00:01:{i % devices:02x}",
                f"host{i}.example.com",
                "A",
            )
            for i in range(devices * 2000)
        ]
        db.conn.executemany(
            "INSERT INTO dns_log (ts, device_mac, client_ip, server_ip, query, qtype, rcode, answers, "
            "transport) VALUES (?, ?, '192.168.1.2', '192.168.1.1', ?, ?, 'NOERROR', '[]', 'udp')",
            rows,
        )
    db.conn.commit()
    set_user(db, "admin", "admin", hash_password(PASSWORD), end)
    db.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devices", type=int, default=30)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--requests", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "year.db"
        now = time.time()
        rows = generate(db, args.devices, args.days, now)
        add_findings_and_lookups(db, args.devices, args.days, now)
        print(f"a year of {args.devices} devices: {rows:,} ledger rows, {db.stat().st_size >> 20} MiB")
        config = Config()
        config.set("db_path", str(db), "bench")
        config.set("rules_dir", str(Path(tmp) / "no-rules"), "bench")
        client = create_app(config, db, SystemClock()).test_client()
        page = client.get("/login").get_data(as_text=True)
        nonce = re.search(r'name="csrf" value="([^"]+)"', page)
        assert nonce is not None
        client.post("/login", data={"csrf": nonce.group(1), "user": "admin", "password": PASSWORD})
        pages = ["/", "/devices", "/devices/02:00:00:00:01:00", "/findings", "/report"]
        print(f"{'page':<32} {'p50 ms':>8} {'p95 ms':>8} {'KB':>7}")
        for path in pages:
            times = []
            for _ in range(args.requests):
                started = time.perf_counter()
                response = client.get(path)
                times.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, (path, response.status_code)
            times.sort()
            weight = len(response.get_data()) / 1024
            p50, p95 = times[len(times) // 2], times[min(len(times) - 1, int(len(times) * 0.95))]
            print(f"{path:<32} {p50:>8.1f} {p95:>8.1f} {weight:>7.1f}")
        css = len(client.get("/static/style.css").get_data()) / 1024
        first = len(client.get("/").get_data()) / 1024 + css
        print(f"first page (overview and the stylesheet): {first:.1f} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
