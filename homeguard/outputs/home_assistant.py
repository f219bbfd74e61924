"""Home Assistant over MQTT (`mqtt_url`): every device as a Home Assistant device, found
by MQTT discovery, with its presence, open findings and what it sent today; a household
sensor of findings needing attention; and each new finding as an event an automation can
react to ("flash a light on critical").

- **Discovery** configs are retained under `<mqtt_discovery_prefix>/<component>/homeguard_<mac>/...`,
  each device carrying its MAC as a connection, so Home Assistant merges it with what other
  integrations know of the same device. A device no longer in the database has its configs
  cleared (an empty retained message), which removes it from Home Assistant.
- **Availability**: `<mqtt_topic>/status` is `online` while connected, and the broker says
  `offline` (the last will) when HomeGuard goes away.
- **States** are published at each connect and every STATE_INTERVAL seconds, read from the
  store on a connection of this thread's own.
- **Findings** come from the rule engine's thread into a bounded queue; what does not fit
  is counted, so a broker that is down never holds capture. paho-mqtt reconnects by itself
  (1 to 60 s), and everything is published again on reconnect.

Names a device chose are already made safe where they entered; here they travel inside
JSON (json.dumps), never as topic names: topics use the MAC only.
"""

from __future__ import annotations

import json
import logging
import queue
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from homeguard.clock import Clock
from homeguard.errors import ConfigError
from homeguard.findings.model import Finding
from homeguard.settings import ConfigValues
from homeguard.state.visibility import visibility_verdict
from homeguard.store.home_assistant import device_states, last_capture_stats, open_findings

log = logging.getLogger("homeguard.mqtt")
PUBLISHED_ON = frozenset({"device_new", "capture_stats"})  # the events that change what is published
STATE_INTERVAL = 60.0
MAX_QUEUED = 1000
HOME_FOR = 600.0  # seconds since last seen within which a device is home
STALE_STATS = 300.0  # a statistics row older than this: the capture has stopped
SEVERITIES = ["info", "low", "medium", "high", "critical"]


def broker_of(url: str) -> tuple[str, int, bool, str | None, str | None]:
    """(host, port, tls, user, password) from mqtt://user:pass@host:1883 or mqtts://..."""
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
        raise ConfigError(f"mqtt_url: {mask(url)!r} is not mqtt://[user:password@]host[:port] or mqtts://...")
    tls = parts.scheme == "mqtts"
    user = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else None
    return parts.hostname, parts.port or (8883 if tls else 1883), tls, user, password


def mask(url: str) -> str:
    """The URL fit for a log: its password replaced by stars."""
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":****@", 1)
    return url


class HomeAssistantPublisher:
    def __init__(self, config: ConfigValues, db_path: Path, clock: Clock) -> None:
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        self.url = config["mqtt_url"] or ""
        host, port, tls, user, password = broker_of(self.url)
        self.prefix, self.topic = config["mqtt_discovery_prefix"], config["mqtt_topic"]
        self.db_path, self.clock = db_path, clock
        self.dropped = 0
        self.published = 0
        self.started = clock.time()
        self._findings: queue.Queue[Finding] = queue.Queue(MAX_QUEUED)
        self._published_devices: set[str] = set()
        self._connected = threading.Event()
        self._stop = threading.Event()
        self._refresh = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"homeguard-{self.topic}")
        if user is not None:
            self.client.username_pw_set(user, password)
        if tls:
            self.client.tls_set(ca_certs=config["mqtt_ca_file"] or None)
        self.client.will_set(f"{self.topic}/status", "offline", qos=1, retain=True)
        self.client.reconnect_delay_set(1, 60)
        self.client.max_queued_messages_set(MAX_QUEUED)  # while the link is down: bounded
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = lambda *_: self._connected.clear()
        self.client.connect_async(host, port, keepalive=30)
        self.client.loop_start()
        self._thread = threading.Thread(target=self._run, name="mqtt", daemon=True)
        self._thread.start()
        log.info("publishing to Home Assistant through %s", mask(self.url))

    # -- the rule engine's side: fast, never blocks -----------------------------

    def __call__(self, finding: Finding) -> None:
        try:
            self._findings.put_nowait(finding)
        except queue.Full:
            self.dropped += 1

    def on_event(self, event: dict[str, Any]) -> None:
        """From the output queue: a device that arrived, or a new statistics line (capture
        health and visibility), is published at the next turn."""
        if event.get("type") in PUBLISHED_ON:
            self._refresh.set()

    # -- the publisher's thread ---------------------------------------------

    def _on_connect(self, client: Any, _userdata: Any, _flags: Any, reason: Any, _properties: Any) -> None:
        if reason.is_failure:
            log.warning("the MQTT broker refused HomeGuard: %s", reason)
            return
        log.info("connected to the MQTT broker")
        self._published_devices.clear()  # everything again: the broker may have lost it
        self._connected.set()

    def _run(self) -> None:
        next_states = 0.0
        while not self._stop.is_set():
            if not self._connected.wait(0.5):
                continue
            if not self._published_devices or self._refresh.is_set() or time.monotonic() >= next_states:
                self._refresh.clear()
                try:
                    self._publish_states()
                except sqlite3.Error as exc:  # the database is busy or moving: next round
                    log.debug("cannot read the states: %s", exc)
                next_states = time.monotonic() + STATE_INTERVAL
            try:
                finding = self._findings.get(timeout=0.5)
            except queue.Empty:
                continue
            self._publish(f"{self.topic}/finding", finding_event(finding))

    def _publish(self, topic: str, payload: Any, retain: bool = False) -> None:
        text = payload if isinstance(payload, str) else json.dumps(payload)
        self.client.publish(topic, text, qos=1, retain=retain)
        self.published += 1

    def _publish_states(self) -> None:
        self._publish(f"{self.topic}/status", "online", retain=True)
        from sqlite_utils import Database  # here, not at import: capture workers load this module

        db = Database(sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True, timeout=1.0))
        try:
            day = time.strftime("%Y-%m-%d", time.localtime(self.clock.time()))
            devices = device_states(db, day)
            household = {
                "attention": open_findings(db),
                **capture_state(last_capture_stats(db), self.clock.time(), self.started),
            }
        finally:
            db.close()
        for config_topic, config in household_configs(self.prefix, self.topic):
            self._publish(config_topic, config, retain=True)
        self._publish(f"{self.topic}/household", household, retain=True)
        seen = set()
        for device in devices:
            node = "homeguard_" + device["mac"].replace(":", "")
            seen.add(node)
            if node not in self._published_devices:
                for config_topic, config in device_configs(self.prefix, self.topic, device):
                    self._publish(config_topic, config, retain=True)
            state = device_state(device, self.clock.time())
            self._publish(f"{self.topic}/device/{node}", state, retain=True)
        for node in self._published_devices - seen:  # forgotten: remove it from Home Assistant
            for component, entity in DEVICE_ENTITIES:
                self._publish(f"{self.prefix}/{component}/{node}/{entity}/config", "", retain=True)
        self._published_devices = seen

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        if self._connected.is_set():
            try:  # a clean stop says offline itself; the last will is for a crash
                self.client.publish(f"{self.topic}/status", "offline", qos=1, retain=True).wait_for_publish(2)
            except (RuntimeError, ValueError) as exc:
                log.debug("could not say offline: %s", exc)
        self.client.disconnect()
        self.client.loop_stop()


DEVICE_ENTITIES = (
    ("binary_sensor", "presence"),
    ("sensor", "findings"),
    ("sensor", "serious_findings"),
    ("sensor", "sent_today"),
    ("sensor", "companies_today"),
)


def device_configs(prefix: str, topic: str, device: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Home Assistant's MQTT discovery configs of one device's entities."""
    node = "homeguard_" + device["mac"].replace(":", "")
    ha_device = {
        "identifiers": [node],
        "connections": [["mac", device["mac"]]],
        "name": device["name"] or f"{device['vendor'] or 'Device'} {device['mac'][-8:]}",
        "via_device": "homeguard",
    }
    if device["vendor"]:
        ha_device["manufacturer"] = device["vendor"]
    common = {
        "device": ha_device,
        "availability_topic": f"{topic}/status",
        "state_topic": f"{topic}/device/{node}",
    }
    measured = {"state_class": "measurement"}
    entities: dict[str, dict[str, Any]] = {
        "presence": {"name": "Presence", "device_class": "presence", "payload_on": "home",
                     "payload_off": "away"},
        "findings": {"name": "Open findings", **measured},
        "serious_findings": {"name": "Serious findings", **measured},
        "sent_today": {"name": "Data sent today", "device_class": "data_size", "unit_of_measurement": "B",
                       "state_class": "total"},
        "companies_today": {"name": "Companies today", **measured},
    }  # fmt: skip
    fields = {"presence": "presence", "findings": "findings", "serious_findings": "serious",
              "sent_today": "sent", "companies_today": "companies"}  # fmt: skip
    configs = []
    for component, entity in DEVICE_ENTITIES:
        config = {**common, **entities[entity], "unique_id": f"{node}_{entity}"}
        config["value_template"] = "{{ value_json." + fields[entity] + " }}"
        configs.append((f"{prefix}/{component}/{node}/{entity}/config", config))
    return configs


def household_configs(prefix: str, topic: str) -> list[tuple[str, dict[str, Any]]]:
    device = {"identifiers": ["homeguard"], "name": "HomeGuard", "manufacturer": "HomeGuard"}
    return [
        (
            f"{prefix}/sensor/homeguard/attention/config",
            {"name": "Findings needing attention", "unique_id": "homeguard_attention", "device": device,
             "state_topic": f"{topic}/household", "value_template": "{{ value_json.attention }}",
             "availability_topic": f"{topic}/status", "state_class": "measurement"},
        ),
        (
            f"{prefix}/sensor/homeguard/capture/config",
            {"name": "Capture", "unique_id": "homeguard_capture", "device": device,
             "state_topic": f"{topic}/household", "value_template": "{{ value_json.capture }}",
             "availability_topic": f"{topic}/status"},
        ),
        (
            f"{prefix}/sensor/homeguard/visibility/config",
            {"name": "What HomeGuard sees", "unique_id": "homeguard_visibility", "device": device,
             "state_topic": f"{topic}/household", "value_template": "{{ value_json.visibility }}",
             "availability_topic": f"{topic}/status"},
        ),
        (
            f"{prefix}/event/homeguard/finding/config",
            {"name": "New finding", "unique_id": "homeguard_finding", "device": device,
             "state_topic": f"{topic}/finding", "event_types": SEVERITIES,
             "availability_topic": f"{topic}/status"},
        ),
    ]  # fmt: skip


def capture_state(rows: list[dict[str, Any]], now: float, started: float) -> dict[str, str]:
    """The household's capture health (starting, capturing, dropping, stopped) and what
    HomeGuard sees (the overview's and doctor's verdict: sees_all, one_way, broadcast_only,
    nothing). Rows from before this daemon started are an earlier run's."""
    if not rows or float(rows[0]["ts"]) < started:
        return {"capture": "starting", "visibility": "nothing"}
    newest = rows[0]
    if newest["stopped"] or now - float(newest["ts"]) > STALE_STATS:
        capture = "stopped"
    elif len(rows) > 1 and (newest["kernel_drops"] or 0) > (rows[1]["kernel_drops"] or 0):
        capture = "dropping"
    else:
        capture = "capturing"
    between = newest["flows_between_others"] or 0
    other = (newest["flows_group"] or 0) + (newest["flows_own"] or 0)
    return {"capture": capture, "visibility": visibility_verdict(between, other, newest["flows_answered"])}


def device_state(device: dict[str, Any], now: float) -> dict[str, Any]:
    return {
        "presence": "home" if now - float(device["last_seen"] or 0) <= HOME_FOR else "away",
        "findings": device["open"],
        "serious": device["serious"],
        "sent": device["sent"],
        "companies": device["companies"],
    }


def finding_event(finding: Finding) -> dict[str, Any]:
    """The event Home Assistant's event entity gets: its type is the severity."""
    return {
        "event_type": finding.severity,
        "rule": finding.rule,
        "category": finding.category,
        "title": finding.titles.get("en", finding.title),
        "device": finding.device,
        "device_mac": finding.device_mac,
        "message": finding.messages.get("en", ""),
    }
