#!/usr/bin/env python3
"""Export benchmark (issue 15): findings per second through the privacy partition, the
ECS document, the exporter's thread (the ECS file and the queue on disk), and then the
syslog sender draining that queue into a TCP receiver on loopback (octet-counted, the
same framing as TLS; no TLS here, so the figure is HomeGuard's cost, not OpenSSL's).
Also the bytes of an average exported document, for the fleet scale estimate.

    python bench/export_bench.py [--findings 20000]
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from homeguard.clock import SystemClock  # noqa: E402
from homeguard.findings.model import Finding  # noqa: E402
from homeguard.outputs.export.ecs import finding_document  # noqa: E402
from homeguard.outputs.export.sender import SyslogSender  # noqa: E402
from homeguard.outputs.export.syslog import Destination  # noqa: E402
from homeguard.plugins.default_exports import ExportPlugin  # noqa: E402
from homeguard.plugins.hookspecs import OutputContext  # noqa: E402
from homeguard.settings import Config  # noqa: E402
from homeguard.store import spool  # noqa: E402
from homeguard.store.database import open_database  # noqa: E402

WORK_MAC = "f4:7b:09:00:00:20"


def finding(n: int) -> Finding:
    return Finding(
        rule="telnet-in-use",
        title="Telnet connection (unencrypted remote login)",
        category="insecure.cleartext-protocol",
        severity="high",
        ts=1_767_225_600.0 + n,
        device_mac=WORK_MAC,
        device_ip="192.168.1.20",
        key=json.dumps([f"198.51.100.{n % 250}"]),
        messages={"en": "m"},
        remediations={"en": "r"},
        device="anna-laptop",
        endpoints={
            "src.mac": WORK_MAC, "src.ip": "192.168.1.20", "src.port": 40000 + n % 20000,
            "dst.ip": f"198.51.100.{n % 250}", "dst.port": 23, "proto": "tcp",
        },
    )  # fmt: skip


def receiver() -> tuple[int, list[int]]:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    got = [0]

    def take() -> None:
        conn, _ = server.accept()
        while data := conn.recv(1 << 16):
            got[0] += len(data)

    threading.Thread(target=take, daemon=True).start()
    return server.getsockname()[1], got


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--findings", type=int, default=20_000)
    count = parser.parse_args().findings
    with tempfile.TemporaryDirectory() as tmp:
        db_path = Path(tmp) / "hg.db"
        db = open_database(db_path)
        port, got = receiver()
        config = Config()
        for name, value in {
            "db_path": str(db_path),
            "export_ecs_file": str(Path(tmp) / "export.ndjson"),
            "export_syslog": f"tcp://127.0.0.1:{port}",
            "fleet_work_devices": [WORK_MAC],
            "fleet_site": "home-bench",
        }.items():
            config.set(name, value, "bench")
        context = OutputContext(config, SystemClock(), True, db)
        plugin = ExportPlugin()
        setup = plugin.setup_for(context)
        assert setup is not None
        findings = [finding(n) for n in range(count)]
        started = time.perf_counter()
        for f in findings:  # what the capture thread itself spends, before the hand-over
            exported = setup.partition.export(f)
            assert exported is not None
            finding_document(exported, setup.sensor, 0.0)
        built = time.perf_counter() - started
        started = time.perf_counter()
        for f in findings:
            setup.on_finding(f)
        handed = time.perf_counter() - started
        setup.queue.close(timeout=600)
        queued = time.perf_counter() - started
        size = (Path(tmp) / "export.ndjson").stat().st_size
        sender = SyslogSender(
            Destination.parse(config.values["export_syslog"]), "ecs", None, "home-bench", SystemClock()
        )
        started = time.perf_counter()
        while spool.pending(db, 1):
            sender.work(db)
        sent = time.perf_counter() - started
        sender.close()
        print(f"{count:,} findings exported")
        print(f"  partition + ECS document alone: {built / count * 1e6:.1f} µs a finding")
        print(
            f"  capture thread (partition + ECS document + hand-over): {count / handed:,.0f} findings/s "
            f"({handed / count * 1e6:.1f} µs each)"
        )
        print(f"  through the exporter (ECS file + queue on disk): {count / queued:,.0f} findings/s")
        print(
            f"  syslog sender (queue on disk -> TCP, octet-counted): {count / sent:,.0f} findings/s, "
            f"{got[0]:,} bytes received"
        )
        print(f"  an exported ECS document: {size / count:,.0f} bytes on average")


if __name__ == "__main__":
    main()
