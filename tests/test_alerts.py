"""Alerts through apprise to real receivers on loopback: a JSON webhook and an SMTP
server. What arrived is asserted: how many, in which language, saying what."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from scapy.all import IP, TCP, Ether, wrpcap  # type: ignore[attr-defined]
from sqlite_utils import Database

from homeguard.clock import ManualClock
from homeguard.notify.delivery import AppriseNotifier
from homeguard.notify.sender import Sender
from homeguard.settings import load_config
from homeguard.store.database import open_database
from tests.conftest import TS0, homeguard
from tests.conversations import tcp_conversation
from tests.household import CAMERA, LAPTOP, ROUTER
from tests.receivers import Mailbox, Webhook

TELNET_LOGIN = [(False, b"login: "), (True, b"root\r\n"), (False, b"Password: "), (True, b"xc3511\r\n")]
# One telnet login with Mirai's root/xc3511: telnet-in-use (high), default-password
# (critical) and cleartext-password (high): three alerts.
EXPECTED_RULES = {"telnet-in-use", "default-password", "cleartext-password"}


def telnet_capture(folder: Path) -> Path:
    path = folder / "telnet.pcap"
    wrpcap(str(path), tcp_conversation(TELNET_LOGIN, 23, 41000, client=LAPTOP, server=CAMERA))
    return path


def flood_capture(folder: Path, count: int = 500) -> Path:
    """The laptop opens telnet to `count` addresses on the internet: as many findings."""
    path = folder / "flood.pcap"
    packets = []
    for i in range(count):
        server = f"198.18.{i // 250}.{i % 250 + 1}"
        packets += accepted_telnet((LAPTOP[0], LAPTOP[1]), server, 30000 + i)
    wrpcap(str(path), packets)
    return path


def accepted_telnet(client: tuple[str, str], server: str, sport: int) -> list[Any]:
    """A telnet connection the server accepts: its SYN and the SYN-ACK (telnet in use)."""
    return [
        Ether(src=client[0], dst=ROUTER[0])
        / IP(src=client[1], dst=server)
        / TCP(sport=sport, dport=23, flags="S"),
        Ether(src=ROUTER[0], dst=client[0])
        / IP(src=server, dst=client[1])
        / TCP(sport=23, dport=sport, flags="SA"),
    ]


def write_config(folder: Path, targets: list[dict[str, Any]], **settings: Any) -> Path:
    config = folder / "config.yaml"
    lines = [f"rules_dir: {folder / 'rules.d'}", f"db_path: {folder / 'homeguard.db'}"]
    lines += [f"{name}: {json.dumps(value)}" for name, value in settings.items()]
    lines.append("notify:")
    for target in targets:
        lines.append(f"  - name: {target['name']}")
        lines += [f"    {k}: {json.dumps(v)}" for k, v in target.items() if k != "name"]
    config.write_text("\n".join(lines) + "\n")
    return config


def replay(capture: Path, config: Path) -> Any:
    db = config.parent / "homeguard.db"
    return homeguard("replay", str(capture), "--db", str(db), "--config", str(config))


def send(config: Path, *extra: str) -> Any:
    return homeguard("alerts", "send", "--config", str(config), *extra)


def outbox(config: Path, *flags: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads(
        homeguard("alerts", "--json", "--config", str(config), *flags).stdout
    )
    return rows


def test_alerts_arrive_by_webhook_and_by_mail_in_dutch(
    tmp_path: Path, webhook: Webhook, mailbox: Mailbox
) -> None:
    config = write_config(
        tmp_path,
        [
            {"name": "hook", "url": webhook.url},
            {"name": "mail", "url": mailbox.url, "min_severity": "critical"},
        ],
        language="nl",
    )
    replay(telnet_capture(tmp_path), config)
    send(config)
    titles = sorted(item["title"] for item in webhook.received)
    assert titles == sorted(
        [
            "Telnet-verbinding (onversleutelde inlog op afstand)",
            "Een apparaat accepteert zijn fabriekswachtwoord",
            "Een wachtwoord ging onversleuteld over het netwerk",
        ]
    )
    default = next(i for i in webhook.received if "fabriekswachtwoord" in i["title"])
    assert default["message"].startswith("Iemand logde in op 192.168.1.50 via telnet met een standaard")
    assert "Stel vandaag een sterk, uniek wachtwoord in" in default["message"]  # the advice travels along
    assert [m["Subject"] for m in mailbox.messages] == ["Een apparaat accepteert zijn fabriekswachtwoord"]
    assert {row["state"] for row in outbox(config)} == {"delivered"}


def test_an_outage_loses_nothing_and_sends_nothing_twice(tmp_path: Path) -> None:
    hook = Webhook()  # not started: the service is down
    config = write_config(tmp_path, [{"name": "hook", "url": hook.url}])
    replay(telnet_capture(tmp_path), config)
    first = send(config)
    assert "0 delivered, 3 to retry" in first.stdout
    waiting = outbox(config, "--pending")
    assert len(waiting) == 3 and all(row["attempts"] == 1 for row in waiting)
    assert all("Connection error" in row["last_error"] for row in waiting)
    hook.start()  # the service is back; HomeGuard restarts (every command is a new process)
    try:
        send(config, "--retry-now")
        send(config, "--retry-now")  # and again: nothing may arrive twice
    finally:
        hook.stop()
    assert len(hook.received) == 3
    assert len({item["title"] for item in hook.received}) == 3
    assert outbox(config, "--pending") == []
    assert {row["state"] for row in outbox(config)} == {"delivered"}


def test_a_flood_gives_the_capped_pushes_and_one_digest_that_counts_the_rest(
    tmp_path: Path, webhook: Webhook, mailbox: Mailbox
) -> None:
    config = write_config(
        tmp_path,
        [
            {"name": "hook", "url": webhook.url, "max_pushes_per_day": 5},
            {"name": "mail", "url": mailbox.url, "mode": "digest", "digest": "daily"},
        ],
    )
    replay(flood_capture(tmp_path), config)
    send(config)
    assert len(webhook.received) == 5 and mailbox.messages == []
    db = open_database(tmp_path / "homeguard.db")
    # past the next 08:00 digest time, whenever the replay queued the alerts
    tomorrow = ManualClock(queued_at(db) + 86400 + 3600)
    sender = Sender(db, load_config(config).values["notify"], AppriseNotifier(), clock=tomorrow)
    summary = sender.run_once()
    assert summary.digests == 2 and summary.delivered == 2
    sender.run_once()  # nothing more
    db.close()
    assert len(webhook.received) == 6
    digest = webhook.received[5]
    assert digest["title"] == "HomeGuard: 495 alerts"
    assert "495 x Telnet connection (unencrypted remote login)" in digest["message"]
    [mail] = mailbox.messages
    assert mail["Subject"] == "HomeGuard: 500 alerts"
    parts = Mailbox.parts(mail)
    # grouped by device (the laptop gave no name in this capture), then by kind
    assert "<h3>Intel Corporate device f4:7b:09:00:00:20</h3>" in parts["text/html"]
    assert "500 &times; Telnet connection (unencrypted remote login)" in parts["text/html"]
    assert "500" in parts["text/plain"] and "Telnet connection (unencrypted" in parts["text/plain"]


@pytest.fixture
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def queued_at(db: Database) -> float:
    """When the replay (a child process, on the system clock) queued its first alert."""
    return float(db.execute("SELECT min(created) FROM outbox").fetchone()[0])


def next_local(after: float, hour: int, minute: int) -> float:
    """The first local hour:minute after a moment."""
    day = time.localtime(after)
    at = time.mktime((day.tm_year, day.tm_mon, day.tm_mday, hour, minute, 0, 0, 0, -1))
    return (
        at
        if at > after
        else time.mktime((day.tm_year, day.tm_mon, day.tm_mday + 1, hour, minute, 0, 0, 0, -1))
    )


def test_quiet_hours_hold_all_but_critical_alerts(tmp_path: Path, webhook: Webhook, utc: None) -> None:
    config = write_config(tmp_path, [{"name": "hook", "url": webhook.url}], quiet_hours="22:00-07:00")
    replay(telnet_capture(tmp_path), config)
    db = open_database(tmp_path / "homeguard.db")
    clock = ManualClock(next_local(queued_at(db), 23, 30))
    sender = Sender(
        db,
        load_config(config).values["notify"],
        AppriseNotifier(),
        quiet=load_config(config).values["quiet_hours"],
        clock=clock,
    )
    summary = sender.run_once()
    assert [item["title"] for item in webhook.received] == ["A device accepts its factory-default password"]
    assert summary.deferred == 2
    clock.advance(7 * 3600 + 29 * 60)  # 06:59 the next morning
    sender.run_once()
    assert len(webhook.received) == 1  # still quiet
    clock.advance(60)  # 07:00
    sender.run_once()
    db.close()
    assert len(webhook.received) == 3


def test_mute_a_device_or_a_rule_then_unmute(tmp_path: Path, webhook: Webhook) -> None:
    config = write_config(tmp_path, [{"name": "hook", "url": webhook.url}])
    db_arg = ("--config", str(config))
    replay(telnet_capture(tmp_path), config)
    assert (
        "muted device f4:7b:09:00:00:20 until" in homeguard("mute", LAPTOP[0], "--for", "7d", *db_arg).stdout
    )
    send(config)
    assert webhook.received == []
    assert {row["state"] for row in outbox(config)} == {"muted"}
    homeguard("unmute", LAPTOP[0], *db_arg)
    homeguard("mute", "telnet-in-use", *db_arg)  # a rule, by its id
    replay(telnet_capture(tmp_path), config)  # the same again: suppressed, counted, no new alerts
    homeguard("replay", str(flood_capture(tmp_path, 3)), "--db", str(tmp_path / "homeguard.db"), *db_arg)
    send(config)
    assert webhook.received == []  # the three new findings are all telnet-in-use: muted
    assert homeguard("mute", "no-such-thing", *db_arg, check=False).returncode != 0


def test_no_secret_is_ever_printed(tmp_path: Path) -> None:
    password, token = "S3cretPassw0rd", "T0kenValue123"
    hook = Webhook()  # down, so errors are logged and stored
    config = write_config(
        tmp_path,
        [
            {"name": "hook", "url": f"json://anna:{password}@127.0.0.1:{hook.port}/hook/{token}"},
            {"name": "broken", "url": f"nosuchservice://anna:{password}@{token}"},
        ],
    )
    outputs = [
        homeguard(
            "replay",
            str(telnet_capture(tmp_path)),
            "--db",
            str(tmp_path / "homeguard.db"),
            "--config",
            str(config),
        ),
        send(config),
        homeguard("alerts", "--config", str(config)),
        homeguard("alerts", "--pending", "--json", "--config", str(config)),
        homeguard("notify", "test", "--config", str(config), check=False),
    ]
    text = "\n".join(o.stdout + o.stderr for o in outputs)
    assert password not in text and token not in text
    assert "notify target 'broken': apprise cannot use this URL" in text  # and it names the line:
    assert f"{config}:6: notify target 'broken'" in text
    assert "hook (json://anna:****@127.0.0.1" in text
    db = open_database(tmp_path / "homeguard.db")
    stored = json.dumps(db.execute("SELECT * FROM outbox").fetchall())
    db.close()
    assert password not in stored and token not in stored


def test_notify_test_says_per_target_whether_it_arrived(tmp_path: Path, webhook: Webhook) -> None:
    down = Webhook()
    config = write_config(tmp_path, [{"name": "up", "url": webhook.url}, {"name": "down", "url": down.url}])
    done = homeguard("notify", "test", "--config", str(config), check=False)
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert lines[0].startswith("up (json://127.0.0.1") and lines[0].endswith(": arrived")
    assert lines[1].startswith("down (json://127.0.0.1") and "FAILED: " in lines[1]
    assert [item["title"] for item in webhook.received] == ["HomeGuard: test message"]
    only = homeguard("notify", "test", "--target", "up", "--config", str(config))
    assert only.stdout.count("arrived") == 1


def test_a_bad_notify_config_names_the_line(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(
        "notify:\n  - name: phone\n    url: ntfy://ntfy.sh/x\n  - name: mail\n    mode: sometimes\n"
    )
    done = homeguard("notify", "test", "--config", str(config), check=False)
    assert done.returncode != 0
    assert f"{config}:4: target 'mail' needs an apprise url:" in done.stderr
    config.write_text("quiet_hours: 25:00-07:00\n")
    done = homeguard("alerts", "--config", str(config), check=False)
    assert f"{config}:1: quiet_hours must look like 22:00-07:00" in done.stderr
    assert os.path.exists(config)


def test_alerts_for_a_target_removed_from_the_config_are_closed_by_the_daemon(tmp_path: Path) -> None:
    hook = Webhook()  # down: the alerts stay pending
    config = write_config(
        tmp_path, [{"name": "old-phone", "url": hook.url}, {"name": "hook", "url": hook.url}]
    )
    replay(telnet_capture(tmp_path), config)
    db = open_database(tmp_path / "homeguard.db")
    kept = load_config(config).values["notify"][1:]  # the config now lists only "hook"
    Sender(db, kept, AppriseNotifier(), clock=ManualClock(TS0), configured={"hook"})
    states = dict(
        db.execute("SELECT target, group_concat(DISTINCT state) FROM outbox GROUP BY target").fetchall()
    )
    reasons = {
        r[0] for r in db.execute("SELECT last_error FROM outbox WHERE target = 'old-phone'").fetchall()
    }
    db.close()
    assert states == {"old-phone": "failed", "hook": "pending"}
    assert reasons == {"the target is no longer in the config"}


def test_a_digest_of_a_flood_stays_small_and_counts_the_rest() -> None:
    """20,000 findings from 20,000 made-up devices: the top devices, then one line."""
    from homeguard.notify.digest import MAX_DEVICES, digest_text

    rows = [
        {
            "device": f"“made-up-{i:05d}”",
            "device_mac": f"02:00:00:00:{i // 256:02x}:{i % 256:02x}",
            "category": "network.new-device",
            "severity": "low",
            "title": "A new device joined your network",
        }
        for i in range(20_000)
    ]
    title, text, page = digest_text(rows, TS0, "en")
    assert title == "HomeGuard: 20000 alerts"
    assert len(text.encode()) < 100_000 and len(page.encode()) < 100_000
    assert text.count("A new device joined your network") == MAX_DEVICES
    assert "… and 19,980 more alerts from 19,980 more devices." in text
    assert "nog 19,980 meldingen van 19,980 andere apparaten" in digest_text(rows, TS0, "nl")[1]


def telnet_syns(folder: Path, name: str, sources: list[tuple[str, str]]) -> Path:
    """Each (MAC, IP) opens telnet to a new address on the internet: one high alert each."""
    path = folder / name
    packets = []
    for i, (mac, ip) in enumerate(sources):
        packets += accepted_telnet((mac, ip), f"198.18.9.{i + 1}", 31000 + i)
    wrpcap(str(path), packets)
    return path


def test_one_noisy_device_cannot_starve_the_alerts_about_the_others(tmp_path: Path, webhook: Webhook) -> None:
    from tests.household import PI, TV

    config = write_config(tmp_path, [{"name": "hook", "url": webhook.url, "max_pushes_per_day": 4}])
    replay(flood_capture(tmp_path, 20), config)  # the laptop: 20 high alerts
    send(config)
    assert len(webhook.received) == 4  # the cap, spent by one device
    replay(telnet_syns(tmp_path, "others.pcap", [TV, PI, TV]), config)
    summary = send(config).stdout
    assert "2 delivered" in summary and "1 to the digest" in summary
    about = [row["title"] for row in outbox(config) if row["state"] == "delivered"]
    assert len(about) == 6 and len(webhook.received) == 6  # the TV's and the Pi's first alerts arrived
    states = {(r["id"], r["state"]) for r in outbox(config)}
    assert sum(state == "digest" for _, state in states) == 16 + 1  # the laptop's rest, the TV's second
