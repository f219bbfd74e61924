"""Central configuration: bundles signed by `homeguard fleet sign` (or minisign itself),
served over HTTPS from loopback with a CA made in the test, fetched and applied by
`homeguard fleet pull`. A tampered, older or overreaching bundle is refused and the one in
force stays; a good one's rules fire in a running daemon within seconds."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlite_utils import Database

from homeguard.clock import ManualClock
from homeguard.errors import FleetError
from homeguard.fleet.minisign import PublicKey, SecretKey, sign, verify
from homeguard.rules.configured import load_rules_for
from homeguard.settings import load_config
from homeguard.store.database import open_database
from tests.conftest import TS0, homeguard
from tests.netns_lab import wait_for
from tests.test_service_lifecycle import daemon_running, wait_for_text
from tests.test_web import Browser, serving
from tests.tls import TestPki, https_server, make_pki

BUNDLE_RULE = """\
format: 1
id: it-remote-shell-port
title: Connection to a remote-shell port
severity: high
category: threat.known-bad
when: flow_start
match:
  proto: tcp
  dst.port: 4444
message: "{device.name} connected to port 4444 of {dst.ip}, a port remote shells use."
remediation: "Tell the IT department."
tests:
  - event: {proto: tcp, dst.port: 4444, dst.ip: 192.0.2.1}
    expect: match
"""


@dataclass
class Fleet:
    root: Path  # the IT department's folder: key, sources, what it serves
    served: Path
    url: str
    pki: TestPki
    config: Path  # a sensor's config

    def sign(self, version: int, rule: str = BUNDLE_RULE, settings: str = "fleet_site: home-0007\n") -> None:
        source = self.root / f"source-{version}"
        (source / "rules").mkdir(parents=True)
        (source / "rules" / "it.yml").write_text(rule)
        (source / "lists").mkdir()
        (source / "lists" / "it-blocked.txt").write_text("bad.example\n")
        (source / "config.yaml").write_text(settings)
        key = str(self.root / "homeguard-fleet.key")
        homeguard(
            "fleet",
            "sign",
            str(source),
            "--bundle-version",
            str(version),
            "--key",
            key,
            "--out",
            str(self.served),
        )

    def pull(self) -> subprocess.CompletedProcess[str]:
        return homeguard("fleet", "pull", "--config", str(self.config), check=False)


@pytest.fixture
def fleet(tmp_path: Path) -> Iterator[Fleet]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl makes the test's CA (apt-get install openssl)")
    root, served, sensor = tmp_path / "it", tmp_path / "it" / "www", tmp_path / "sensor"
    served.mkdir(parents=True)
    sensor.mkdir()
    pki = make_pki(root)
    homeguard("fleet", "keygen", str(root))
    public = (root / "homeguard-fleet.pub").read_text().split()[-1]
    with https_server(served, pki) as base:
        config = sensor / "config.yaml"
        config.write_text(
            f"db_path: {sensor / 'hg.db'}\nrules_dir: {sensor / 'rules.d'}\nfleet_url: {base}/bundle.tar\n"
            f"fleet_public_key: {public}\nfleet_ca_file: {pki.ca}\n"
        )
        yield Fleet(root, served, f"{base}/bundle.tar", pki, config)


def test_a_good_bundle_is_applied_and_shown_to_the_household(fleet: Fleet) -> None:
    fleet.sign(1)
    done = fleet.pull()
    assert done.returncode == 0 and "version 1 applied" in done.stdout, done.stderr
    config = load_config(fleet.config)
    assert config.values["fleet_site"] == "home-0007"  # the bundle's setting
    ruleset = load_rules_for(config)
    assert "it-remote-shell-port" in ruleset.rules and "it-blocked" in ruleset.lists
    status = homeguard("fleet", "status", "--config", str(fleet.config)).stdout
    assert (
        "In force: version 1" in status and "it.yml" in status and "setting fleet_site: home-0007" in status
    )
    assert "Nothing is exported." in status
    again = fleet.pull()
    assert again.returncode == 0 and "version 1 is in force already" in again.stdout
    db = fleet.config.parent / "hg.db"
    open_database(db).close()
    with serving(db, config, ManualClock(TS0)) as site:  # the household sees it in the dashboard too
        user = Browser(site)
        user.log_in()
        page = user.get("/settings")[2]
    assert "Your employer&#39;s IT department" in page and "Version in force: 1" in page and "it.yml" in page


def test_a_tampered_older_or_overreaching_bundle_is_refused_and_the_one_in_force_stays(fleet: Fleet) -> None:
    fleet.sign(2)
    assert fleet.pull().returncode == 0
    fleet.sign(3, rule=BUNDLE_RULE.replace("severity: high", "severity: critical"))
    data = bytearray((fleet.served / "bundle.tar").read_bytes())
    data[data.index(b"critical")] ^= 0x20  # one byte changed after signing
    (fleet.served / "bundle.tar").write_bytes(bytes(data))
    tampered = fleet.pull()
    assert tampered.returncode == 1
    assert (
        "the signature does not match the bundle: it was changed after signing; the bundle in force stays"
        in tampered.stderr
    )
    fleet.sign(1)  # an old version, validly signed, served again
    older = fleet.pull()
    assert older.returncode == 1 and "version 1 is older than version 2 in force: refused" in older.stderr
    fleet.sign(4, settings="interface: eth9\nfleet_site: x\n")
    overreaching = fleet.pull()
    assert overreaching.returncode == 1
    assert "config.yaml:1: a fleet bundle may not set interface" in overreaching.stderr
    fleet.sign(5, rule=BUNDLE_RULE.replace("when: flow_start", "when: no_such_event"))
    broken = fleet.pull()
    assert broken.returncode == 1 and "the bundle's rules have errors" in broken.stderr
    other = SecretKey.generate()
    (fleet.served / "bundle.tar.minisig").write_text(
        sign((fleet.served / "bundle.tar").read_bytes(), other, "x")
    )
    assert "not with the installed key" in fleet.pull().stderr
    status = homeguard("fleet", "status", "--config", str(fleet.config)).stdout
    assert "In force: version 2" in status  # through all of it


def test_the_bundles_rule_fires_in_a_running_daemon_within_seconds(fleet: Fleet) -> None:
    sensor = fleet.config.parent
    config = sensor / "config.yaml"
    config.write_text(config.read_text() + "stats_interval: 1\nflush_interval: 1\nweb_listen: never\n")
    with daemon_running(sensor, config) as (_, log):
        fleet.sign(1)
        assert fleet.pull().returncode == 0
        wait_for_text(log, "rules reloaded")
        with socket.socket() as s, contextlib.suppress(OSError):
            s.settimeout(1)
            s.connect(("127.0.0.1", 4444))
        db = sensor / "hg.db"
        wait_for(lambda: _findings_of(db, "it-remote-shell-port") > 0, "the bundle's rule to fire")


def _findings_of(db: Path, rule: str) -> int:
    try:
        return int(Database(db).execute("SELECT count(*) FROM findings WHERE rule = ?", [rule]).fetchone()[0])
    except Exception:  # not written yet
        return 0


def test_minisign_itself_signs_and_checks_what_homeguard_checks_and_signs(tmp_path: Path) -> None:
    if shutil.which("minisign") is None:
        if os.environ.get("HOMEGUARD_REQUIRE_SERVICES"):
            pytest.fail("minisign is required here (apt-get install minisign)")
        pytest.skip("minisign is not installed (apt-get install minisign)")
    pub, key, data = tmp_path / "m.pub", tmp_path / "m.key", tmp_path / "bundle.tar"
    subprocess.run(["minisign", "-G", "-W", "-p", str(pub), "-s", str(key)], check=True, capture_output=True)
    data.write_bytes(b"a bundle's bytes")
    subprocess.run(
        ["minisign", "-S", "-s", str(key), "-m", str(data), "-t", "version 9"],
        check=True,
        capture_output=True,
    )
    public = PublicKey.parse(pub.read_text())
    assert verify(data.read_bytes(), (tmp_path / "bundle.tar.minisig").read_text(), public) == "version 9"
    secret = SecretKey.parse(key.read_text())  # minisign's own unencrypted key
    assert secret.public == public
    (tmp_path / "bundle.tar.minisig").write_text(sign(data.read_bytes(), secret, "signed by homeguard"))
    checked = subprocess.run(
        ["minisign", "-V", "-p", str(pub), "-m", str(data)], capture_output=True, text=True
    )
    assert checked.returncode == 0 and "signed by homeguard" in checked.stdout, checked.stderr
    ours = SecretKey.generate()  # as homeguard fleet keygen writes it: minisign signs with it too
    (tmp_path / "ours.key").write_text(ours.text())
    (tmp_path / "ours.pub").write_text(ours.public.text())
    subprocess.run(
        ["minisign", "-S", "-s", str(tmp_path / "ours.key"), "-m", str(data)], check=True, capture_output=True
    )
    assert verify(data.read_bytes(), (tmp_path / "bundle.tar.minisig").read_text(), ours.public)
    with pytest.raises(FleetError, match="changed after signing"):
        verify(b"another bundle", (tmp_path / "bundle.tar.minisig").read_text(), ours.public)
