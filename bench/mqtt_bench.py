#!/usr/bin/env python3
"""The cost of the Home Assistant output (outputs/home_assistant.py), with a real
mosquitto on loopback (Debian's; it is started and stopped here):

- per event on the output queue's thread (`on_event`, what every event costs);
- per finding on the rule engine's thread (the enqueue);
- findings per second published through the broker to a subscriber, end to end.

    python bench/mqtt_bench.py [--events 1000000] [--findings 1000]
"""

from __future__ import annotations

import argparse
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from homeguard.clock import SystemClock
from homeguard.findings.model import Finding
from homeguard.outputs.home_assistant import HomeAssistantPublisher
from homeguard.settings import Config
from homeguard.store.database import open_database


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--findings", type=int, default=1000)
    args = parser.parse_args()
    if shutil.which("mosquitto") is None:
        print("needs mosquitto (apt-get install mosquitto)")
        return 2
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with tempfile.TemporaryDirectory() as tmp:
        conf = Path(tmp) / "mosquitto.conf"
        conf.write_text(f"user root\nallow_anonymous true\nlistener {port} 127.0.0.1\n")
        broker = subprocess.Popen(["mosquitto", "-c", str(conf)], stderr=subprocess.DEVNULL)
        time.sleep(0.5)
        try:
            db = Path(tmp) / "hg.db"
            open_database(str(db)).close()
            config = Config()
            config.values["mqtt_url"] = f"mqtt://127.0.0.1:{port}"
            publisher = HomeAssistantPublisher(config.values, db, SystemClock())
            event = {"type": "dns", "ts": 0.0, "dns.query": "example.com"}
            started = time.perf_counter()
            for _ in range(args.events):
                publisher.on_event(event)
            per_event = (time.perf_counter() - started) / args.events
            received = threading.Semaphore(0)
            listener = mqtt.Client(CallbackAPIVersion.VERSION2)
            listener.on_message = lambda *_: received.release()
            listener.on_connect = lambda c, *_: c.subscribe("homeguard/finding", qos=1)
            listener.connect("127.0.0.1", port)
            listener.loop_start()
            time.sleep(1.0)
            mac, texts = "aa:bb:cc:dd:ee:ff", ({"en": "message"}, {"en": "advice"})
            finding = Finding("rule", "Title", "privacy.tracker", "high", 0.0, mac, None, "{}", *texts)
            started = time.perf_counter()
            for _ in range(args.findings):
                publisher(finding)
            enqueue = (time.perf_counter() - started) / args.findings
            for _ in range(args.findings):
                if not received.acquire(timeout=30):
                    break
            through = time.perf_counter() - started
            listener.loop_stop()
            publisher.close()
        finally:
            broker.terminate()
            broker.wait(timeout=10)
    print(f"on_event: {per_event * 1e9:.0f} ns per event ({args.events:,} events)")
    print(f"finding enqueue: {enqueue * 1e6:.2f} us; {args.findings:,} findings delivered in {through:.2f} s"
          f" ({args.findings / through:,.0f} per second, dropped {publisher.dropped})")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
