"""Plugins: the shipped parts register as plugins, and a third-party plugin (the very
one docs/plugins.md walks through, kept in tests/plugins/homeguard-tld) is installed into
this environment with pip, found through its entry point, and extends a real replay:
its field reaches the events, the catalog, `rules check` and a rule's finding, and its
event sink writes what it watches for."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from scapy.all import wrpcap

from tests.conftest import homeguard, read_jsonl
from tests.household import LAPTOP, lookup

PLUGIN = Path(__file__).resolve().parent / "plugins" / "homeguard-tld"
SHIPPED = {"homeguard.default_protocols", "homeguard.default_enrichers", "homeguard.default_outputs"}
RULE = """format: 1
id: risky-tld
title: A lookup in a top-level domain made for phishing
severity: medium
category: threat.known-bad
when: dns
match:
  server.tld: [zip, mov]
message: "{device.name} looked up {dns.query}."
remediation: "Check what opened it."
tests:
  - event: {server.tld: zip, dns.query: invoice.zip}
    expect: match
  - event: {server.tld: com, dns.query: example.com}
    expect: no_match
"""


def pip(*args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", *args], check=True, capture_output=True
    )


def plugins_listing() -> list[dict[str, object]]:
    listing: list[dict[str, object]] = json.loads(homeguard("plugins", "--json").stdout)
    return listing


def test_the_shipped_protocols_enricher_and_outputs_are_plugins() -> None:
    listing = {p["name"]: p for p in plugins_listing()}
    assert set(listing) >= SHIPPED
    provides = listing["homeguard.default_protocols"]["provides"]
    assert isinstance(provides, dict)
    protocols = {p["name"]: p for p in provides["protocols"]}
    assert {"dns", "dhcp", "tls", "http", "telnet", "arp", "snmp"} <= set(protocols)
    assert protocols["dns"]["udp"] == [53] and protocols["dns"]["tcp"] == [53]
    assert protocols["tls"]["tcp"] == "by content"
    enrichers = listing["homeguard.default_enrichers"]["provides"]
    assert isinstance(enrichers, dict) and "server.company" in enrichers["enrichers"][0]["fields"]
    assert "server.tld" not in homeguard("fields").stdout  # no plugin installed yet


WORKER_LOADS = """
import json, os, sys
from homeguard.clock import SystemClock
from homeguard.settings import load_config
from homeguard.workers.worker import WorkerSetup, worker_pipeline
_, batches = os.pipe()
pipeline, _outbox = worker_pipeline(WorkerSetup(0, load_config(None), "", 0, -1, batches, -1), SystemClock())
print(json.dumps([spec.name for spec in pipeline.protocols.specs]))
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in ("sqlite3", "ssl", "http")
      or ".outputs" in m or m.startswith("homeguard.plugins.default_") and not m.endswith("_protocols"))))
"""


def test_a_capture_worker_loads_the_protocols_and_not_the_outputs() -> None:
    """A worker only decodes: it calls the protocols' hook alone, and never loads the
    shipped outputs, sources and enrichers, nor SQLite, TLS or HTTP (3 MiB a worker)."""
    done = subprocess.run([sys.executable, "-c", WORKER_LOADS], capture_output=True, text=True, check=True)
    protocols, loaded = done.stdout.splitlines()
    assert {"dns", "dhcp", "tls", "http", "mdns"} <= set(json.loads(protocols))
    assert json.loads(loaded) == []


@pytest.fixture(scope="module")
def installed_plugin() -> Iterator[None]:
    pip("install", "--no-deps", "--no-build-isolation", "--no-index", str(PLUGIN))
    yield
    pip("uninstall", "--yes", "homeguard-tld")


def test_homeguard_plugins_lists_the_installed_plugin(installed_plugin: None) -> None:
    listing = {p["name"]: p for p in plugins_listing()}
    assert listing["tld"]["package"] == "homeguard-tld 1.0"
    assert listing["tld"]["provides"] == {
        "enrichers": [{"name": "tld", "fields": ["server.tld"]}],
        "event outputs": True,
    }
    assert "server.tld" in homeguard("fields").stdout


def test_a_replay_runs_through_the_plugin(installed_plugin: None, tmp_path: Path) -> None:
    capture = tmp_path / "lookups.pcap"
    packets = [
        *lookup(LAPTOP, "invoice.zip", "198.51.100.7", qid=1),
        *lookup(LAPTOP, "example.com", "198.51.100.8", qid=2),
    ]
    wrpcap(str(capture), packets)
    rules = tmp_path / "rules.d"
    rules.mkdir()
    (rules / "risky-tld.yml").write_text(RULE)
    assert "1 rule(s) ok, 0 error(s)" in homeguard("rules", "check", str(rules)).stderr  # the plugin's field
    assert homeguard("rules", "test", str(rules)).returncode == 0
    log = tmp_path / "tld.log"
    env = {**os.environ, "HOMEGUARD_TLD_LOG": str(log)}
    db, events = tmp_path / "hg.db", tmp_path / "events.jsonl"
    homeguard(
        "replay", str(capture), "--db", str(db), "--events", str(events), "--rules-dir", str(rules), env=env
    )
    tlds = {e["dns.query"]: e.get("server.tld") for e in read_jsonl(events) if e["type"] == "dns"}
    assert tlds == {"invoice.zip": "zip", "example.com": "com"}
    # the sink saw the query and its answer for .zip, nothing for .com
    assert log.read_text().splitlines() == [f"dns {LAPTOP[0]} invoice.zip", f"dns {LAPTOP[0]} invoice.zip"]
    found = json.loads(homeguard("findings", "--db", str(db), "--json").stdout)
    assert [(f["rule"], f["count"]) for f in found if f["rule"] == "risky-tld"] == [("risky-tld", 2)]


def test_a_broken_plugin_is_an_error_that_names_it(tmp_path: Path) -> None:
    """An entry point that fails to import stops HomeGuard with one clear line."""
    site = tmp_path / "site"
    dist = site / "broken_plugin-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[homeguard]\nbroken = no_such_module_anywhere\n")
    env = {**os.environ, "PYTHONPATH": str(site)}
    done = homeguard("plugins", env=env, check=False)
    assert done.returncode == 1
    assert "plugin in the entry-point group 'homeguard' failed to load" in done.stderr
    assert "no_such_module_anywhere" in done.stderr
