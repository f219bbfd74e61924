"""Syslog exports into a real rsyslog over TLS (RFC 5425) on loopback: three sensors with
their own site labels, ECS and CEF, and an outage of the server that loses nothing."""

from __future__ import annotations

import contextlib
import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlite_utils import Database

from tests.netns_lab import wait_for
from tests.rsyslog import Rsyslog
from tests.test_export import replay_with_exports
from tests.test_service_lifecycle import daemon_running, wait_for_text


@pytest.fixture
def rsyslog(tmp_path: Path) -> Iterator[Rsyslog]:
    (tmp_path / "rsyslog").mkdir()
    server = Rsyslog(tmp_path / "rsyslog")
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_three_sensors_send_their_findings_over_tls_each_with_its_site(
    rsyslog: Rsyslog, tmp_path: Path
) -> None:
    sent: dict[str, set[str]] = {}
    for site, fmt in (("home-0001", "ecs"), ("home-0002", "ecs"), ("home-0003", "cef")):
        folder = tmp_path / site
        folder.mkdir()
        extra = (
            f"export_syslog: tls://127.0.0.1:{rsyslog.port}\nexport_syslog_ca: {rsyslog.ca}\n"
            f"export_syslog_format: {fmt}\n"
        )
        _, ecs_file = replay_with_exports(folder, extra, site)
        docs = [json.loads(line) for line in ecs_file.read_text().splitlines()]
        sent[site] = {d["event"]["id"] for d in docs}
        assert (
            Database(folder / "homeguard.db").execute("SELECT count(*) FROM export_spool").fetchone()[0] == 0
        )
    lines = rsyslog.lines()
    for site in ("home-0001", "home-0002"):
        got = [json.loads(body) for host, _, body in lines if host == site]
        assert {d["event"]["id"] for d in got} == sent[site]
        assert all(d["labels"]["site"] == site for d in got)
    cef = [body for host, _, body in lines if host == "home-0003"]
    assert cef and all(body.startswith("CEF:0|HomeGuard|HomeGuard|") for body in cef)
    assert {body.split("externalId=")[1].split(" ")[0] for body in cef} == sent["home-0003"]
    assert {msgid for _, msgid, _ in lines} == {"finding", "health"}


def telnet_attempts(first: int, count: int) -> None:
    """Telnet connections to 127.0.0.FIRST.. on loopback, each accepted by a listener made
    for it (telnet-in-use wants an accepted connection, not a bare SYN)."""
    for n in range(first, first + count):
        with socket.socket() as server, socket.socket() as client:
            server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            server.bind((f"127.0.0.{n}", 23))
            server.listen()
            client.settimeout(1)
            with contextlib.suppress(OSError):
                client.connect((f"127.0.0.{n}", 23))


def test_an_outage_of_the_siem_loses_no_finding(rsyslog: Rsyslog, tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(
        f"stats_interval: 1\nflush_interval: 1\nweb_listen: never\nrules_dir: {tmp_path / 'none'}\n"
        f"export_syslog: tls://127.0.0.1:{rsyslog.port}\nexport_syslog_ca: {rsyslog.ca}\n"
        "fleet_work_devices: ['00:00:00:00:00:00']\nfleet_site: home-0099\n"
    )
    with daemon_running(tmp_path, config) as (_, log):
        telnet_attempts(2, 5)
        rsyslog.wait_for(lambda ls: len(_findings(ls)) >= 5, "the first five findings")
        rsyslog.stop()
        telnet_attempts(7, 5)  # while the SIEM is down
        db = Database(tmp_path / "hg.db")
        wait_for(lambda: _waiting(db) >= 5, "the findings made during the outage to wait on disk", 20)
        wait_for_text(log, "cannot connect")  # the daemon has tried, and keeps them
        rsyslog.start()
        lines = rsyslog.wait_for(lambda ls: len(_findings(ls)) >= 10, "all ten findings", timeout=60)
        wait_for(lambda: _stored(db) == 10, "the daemon to store its ten findings")
        docs = _findings(lines)  # every finding the daemon made arrived
        assert len(docs) == 10
        assert {str(d["destination"]["ip"]) for d in docs.values()} == {f"127.0.0.{n}" for n in range(2, 12)}
        bodies: dict[str, set[str]] = {}
        for _, msgid, body in lines:
            if msgid == "finding":
                bodies.setdefault(json.loads(body)["event"]["id"], set()).add(body)
        assert all(len(same) == 1 for same in bodies.values())  # a repeat is the same document
        wait_for_text(log, "connected again after")


def _stored(db: Database) -> int:
    return int(db.execute("SELECT count(*) FROM findings WHERE rule = 'telnet-in-use'").fetchone()[0])


def _findings(lines: list[tuple[str, str, str]]) -> dict[str, dict[str, Any]]:
    """The telnet findings received, by event.id (repeats fold into one)."""
    docs = [json.loads(body) for _, msgid, body in lines if msgid == "finding"]
    return {d["event"]["id"]: d for d in docs if d["rule"]["id"] == "telnet-in-use"}


def _waiting(db: Database) -> int:
    try:
        return int(db.execute("SELECT count(*) FROM export_spool WHERE msgid = 'finding'").fetchone()[0])
    except Exception:
        return 0
