"""Home Assistant over MQTT, with a real mosquitto (Debian) on loopback, a user and a
password, and TLS with a CA made in the test. The household is replayed into the
database, then `homeguard run` publishes it: discovery configs as Home Assistant's MQTT
discovery documents them, states, and a new finding as an event. The broker is stopped
and started again: capture goes on, and everything is published again."""

from __future__ import annotations

import json
import os
import shutil
import socket
import struct
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from scapy.all import wrpcap

from tests import household
from tests.conftest import homeguard
from tests.test_service_lifecycle import daemon_running, wait_for_text
from tests.tls import make_pki

USER, PASSWORD = "homeguard", "s3cret-mqtt-pw"
# Keys Home Assistant's MQTT discovery requires of each component (its documentation).
REQUIRED = {
    "sensor": {"state_topic"},
    "binary_sensor": {"state_topic"},
    "event": {"state_topic", "event_types"},
}
WATCH_RULE = """format: 1
id: watch-lookups
title: Watched name looked up
severity: critical
category: privacy.tracker
when: dns
match:
  dns.query|endswith: .watched.example
message: "{device.name} looked up {dns.query}."
remediation: "None needed: a test rule."
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def mosquitto(folder: Path, port: int, tls_port: int) -> Iterator[subprocess.Popen[bytes]]:
    if shutil.which("mosquitto") is None:
        if os.environ.get("HOMEGUARD_REQUIRE_SERVICES"):
            pytest.fail("mosquitto is missing: apt-get install mosquitto")
        pytest.skip("mosquitto is not installed")
    passwords = folder / "passwords"
    if not passwords.exists():
        subprocess.run(
            ["mosquitto_passwd", "-b", "-c", str(passwords), USER, PASSWORD], check=True, timeout=30
        )
        os.chmod(passwords, 0o600)
    pki = make_pki(folder) if not (folder / "ca.pem").exists() else None
    ca, certificate, key = (folder / "ca.pem", folder / "server.pem", folder / "server-key.pem")
    assert pki is None or pki.ca == ca
    conf = folder / "mosquitto.conf"
    conf.write_text(
        "user root\nper_listener_settings false\nallow_anonymous false\npersistence false\n"
        f"password_file {passwords}\n"
        f"listener {port} 127.0.0.1\n"
        f"listener {tls_port} 127.0.0.1\ncafile {ca}\ncertfile {certificate}\nkeyfile {key}\n"
    )
    proc = subprocess.Popen(["mosquitto", "-c", str(conf)], stderr=(folder / "mosquitto.log").open("ab"))
    deadline = time.monotonic() + 10
    while True:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                break
        assert proc.poll() is None and time.monotonic() < deadline, (folder / "mosquitto.log").read_text()
        time.sleep(0.1)
    try:
        yield proc
    finally:
        proc.terminate()
        proc.wait(timeout=10)


class Listener:
    """A Home Assistant stand-in: subscribes to everything, keeps the last message per topic."""

    def __init__(self, port: int) -> None:
        self.messages: dict[str, str] = {}
        self.events: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"ha-{time.monotonic_ns()}")
        self.client.username_pw_set(USER, PASSWORD)
        self.client.on_connect = lambda c, *_: c.subscribe([("homeassistant/#", 1), ("homeguard/#", 1)])
        self.client.on_message = self._message
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def _message(self, _client: Any, _userdata: Any, message: Any) -> None:
        with self.lock:
            self.messages[message.topic] = message.payload.decode()
            if message.topic == "homeguard/finding":
                self.events.append(json.loads(message.payload))

    def wait(self, condition: Any, what: str, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if condition(self):
                    return
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what}; topics: {sorted(self.messages)[:20]}")

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def replayed_household(folder: Path) -> Path:
    db = folder / "hg.db"
    week, day = folder / "week.pcap", folder / "today.pcap"
    wrpcap(str(week), household.learning_week())
    wrpcap(str(day), household.today())
    homeguard("replay", str(week), "--db", str(db))
    homeguard("replay", str(day), "--db", str(db))
    return db


def configs(listener: Listener) -> dict[str, dict[str, Any]]:
    return {t: json.loads(p) for t, p in listener.messages.items() if t.endswith("/config") and p}


def lookup_watched(name: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
        labels = b"".join(bytes([len(part)]) + part.encode() for part in name.split("."))
        client.sendto(
            struct.pack("!HHHHHH", 7, 0x100, 1, 0, 0, 0) + labels + b"\0\0\1\0\1", ("127.0.0.1", 53)
        )


def test_home_assistant_gets_devices_states_and_findings_and_survives_the_broker(tmp_path: Path) -> None:
    port, tls_port = free_port(), free_port()
    replayed_household(tmp_path)
    rules = tmp_path / "rules.d"
    rules.mkdir()
    (rules / "watch.yml").write_text(WATCH_RULE)
    config = tmp_path / "config.yaml"
    config.write_text(
        f"stats_interval: 1\nflush_interval: 1\nweb_listen: never\nrules_dir: {rules}\n"
        f"mqtt_url: mqtt://{USER}:{PASSWORD}@127.0.0.1:{port}\n"
    )
    macs = {
        row["mac"]
        for row in json.loads(homeguard("devices", "--db", str(tmp_path / "hg.db"), "--json").stdout)
    }
    with mosquitto(tmp_path, port, tls_port) as broker, daemon_running(tmp_path, config) as (_, log):
        listener = Listener(port)
        nodes = {"homeguard_" + mac.replace(":", "") for mac in macs}
        listener.wait(
            lambda lis: all(f"homeguard/device/{n}" in lis.messages for n in nodes), "every device's state"
        )
        found = configs(listener)
        for topic, payload in found.items():
            component = topic.split("/")[1]
            assert REQUIRED[component] <= set(payload), (topic, payload)
            assert payload["unique_id"] and payload["availability_topic"] == "homeguard/status"
        presence = [p for t, p in found.items() if t.endswith("/presence/config")]
        assert {p["device"]["connections"][0][1] for p in presence} == macs  # the MAC as a connection
        assert all(p["device"]["connections"][0][0] == "mac" for p in presence)
        assert listener.messages["homeguard/status"] == "online"
        camera = json.loads(
            listener.messages["homeguard/device/homeguard_" + household.CAMERA[0].replace(":", "")]
        )
        assert camera["findings"] >= 2 and camera["serious"] >= 1  # the malware camera of the household
        # the household's day was a replay: the live daemon on loopback writes the newest
        # statistics row, and sees only its own traffic there
        listener.wait(
            lambda lis: '"capture": "capturing"' in lis.messages["homeguard/household"], "capture health"
        )
        state = json.loads(listener.messages["homeguard/household"])
        assert state["attention"] >= len(household.EXPECTED_FINDINGS) // 2
        assert state["visibility"] in ("nothing", "broadcast_only")

        lookup_watched("anna.watched.example")  # a new finding, live
        listener.wait(
            lambda lis: any(e["rule"] == "watch-lookups" for e in lis.events), "the finding as an event"
        )
        event = next(e for e in listener.events if e["rule"] == "watch-lookups")
        assert event["event_type"] == "critical" and "anna.watched.example" in event["message"], event
        assert PASSWORD not in log.read_text()  # masked wherever the URL is logged

        broker.terminate()  # the broker goes away: capture goes on
        broker.wait(timeout=10)
        listener.close()
        lookup_watched("bob.watched.example")
        wait_for_text(log, "kernel drops")
        with mosquitto(tmp_path, port, tls_port):  # back, empty (no persistence): all again
            again = Listener(port)
            again.wait(lambda lis: len(configs(lis)) >= len(found), "discovery published again", timeout=30)
            again.wait(lambda lis: lis.messages.get("homeguard/status") == "online", "online again")
            again.close()


def test_a_tls_broker_is_reached_with_the_households_ca(tmp_path: Path) -> None:
    port, tls_port = free_port(), free_port()
    replayed_household(tmp_path)
    config = tmp_path / "config.yaml"
    with mosquitto(tmp_path, port, tls_port):
        config.write_text(
            f"stats_interval: 1\nflush_interval: 1\nweb_listen: never\n"
            f"mqtt_url: mqtts://{USER}:{PASSWORD}@127.0.0.1:{tls_port}\nmqtt_ca_file: {tmp_path / 'ca.pem'}\n"
        )
        with daemon_running(tmp_path, config) as (_, log):
            listener = Listener(port)
            listener.wait(lambda lis: lis.messages.get("homeguard/status") == "online", "HomeGuard over TLS")
            assert configs(listener)
            listener.close()
        assert "publishing to Home Assistant through mqtts://homeguard:****@127.0.0.1" in log.read_text()
