"""Words from the network are the attacker's words (issue 12, part 1). A laptop names
itself with terminal escapes, a forged second line, NUL, a bidirectional override,
invalid UTF-8 and HTML; a camera announces itself the same way over SSDP. Then the
laptop logs in to the camera by telnet with Mirai's password, which raises alerts that
name it. Every output is checked on that capture: the terminal, JSON, the push (a
real webhook), and the plain-text and HTML digest (a real SMTP server)."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

from scapy.all import BOOTP, DHCP, IP, UDP, Ether, wrpcap  # type: ignore[attr-defined]

from homeguard.clock import ManualClock
from homeguard.decode.http import parse_head
from homeguard.decode.text import network_text
from homeguard.notify.delivery import AppriseNotifier
from homeguard.notify.sender import Sender
from homeguard.settings import load_config
from homeguard.store.database import open_database
from tests.conftest import homeguard
from tests.conversations import tcp_conversation
from tests.household import CAMERA, LAPTOP, mac_bytes, ssdp_notify
from tests.receivers import Mailbox, Webhook
from tests.test_alerts import TELNET_LOGIN, queued_at, write_config

HOSTILE = (
    b"\x1b[2J\x1b[31mPWNED\x1b]0;title\x07 <b>Your router is safe</b>"
    b"\nFAKE: Your router is safe, ignore all alerts\x00\xe2\x80\xae\xff"
)
FORGED = "FAKE: Your router is safe"


def hostile_capture(folder: Path) -> Path:
    dhcp = (
        Ether(src=LAPTOP[0], dst="ff:ff:ff:ff:ff:ff")
        / IP(src="0.0.0.0", dst="255.255.255.255")
        / UDP(sport=68, dport=67)
        / BOOTP(chaddr=mac_bytes(LAPTOP[0]), xid=9)
        / DHCP(options=[("message-type", "request"), ("hostname", HOSTILE), "end"])
    )
    ssdp = ssdp_notify(CAMERA, "Linux\x1b[2J UPnP/1.0\x07")
    login = tcp_conversation(TELNET_LOGIN, 23, 41000, client=LAPTOP, server=CAMERA)
    path = folder / "hostile.pcap"
    wrpcap(str(path), [dhcp, ssdp, *login])
    return path


def unsafe_characters(text: str) -> list[str]:
    """Characters that would act on a terminal or reorder what a reader sees (the
    output's own line breaks, LF and a mail's CRLF, are allowed)."""
    acting = ("Cc", "Cf", "Zl", "Zp", "Cs")
    return [c for c in text if c not in "\r\n" and unicodedata.category(c) in acting]


def forged_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.lstrip().startswith("FAKE:")]


def test_network_text_escapes_what_acts_and_caps_the_length() -> None:
    safe = network_text(HOSTILE)
    assert unsafe_characters(safe) == [] and "\n" not in safe
    assert "\\x1b[2J" in safe and "\\x00" in safe and "\\u202e" in safe and "\ufffd" in safe
    assert network_text("Küche speaker") == "Küche speaker"  # readable names stay readable
    long = network_text("a" * 1000, 255)
    assert len(long) == 255 and long.endswith("…")
    # an HTTP head split on CRLF: a bare LF inside a header cannot start a line of its own
    head = parse_head(b"GET / HTTP/1.1\r\nHost: a\nFAKE: x\r\nUser-Agent: ok\x1b[2J")
    assert head.headers == {"host": "a\\x0aFAKE: x", "user-agent": "ok\\x1b[2J"}


def test_every_output_shows_the_name_safely_and_in_quotes(
    tmp_path: Path, webhook: Webhook, mailbox: Mailbox
) -> None:
    config = write_config(
        tmp_path,
        [
            {"name": "hook", "url": webhook.url},
            {"name": "mail", "url": mailbox.url, "mode": "digest", "digest": "daily"},
        ],
    )
    db = str(tmp_path / "homeguard.db")
    homeguard("replay", str(hostile_capture(tmp_path)), "--db", db, "--config", str(config))

    # the terminal
    table = homeguard("devices", "--db", db).stdout
    assert unsafe_characters(table) == [] and "\\x1b[2J" in table
    found = homeguard("findings", "--db", db).stdout
    assert unsafe_characters(found) == [] and forged_lines(found) == []
    assert "“\\x1b[2J" in found  # the name, quoted, in the finding's message

    # JSON: valid, and the name holds the visible escapes, not the characters
    [laptop] = [
        d for d in json.loads(homeguard("devices", "--db", db, "--json").stdout) if d["mac"] == LAPTOP[0]
    ]
    assert unsafe_characters(laptop["name"]) == [] and laptop["name"].startswith("\\x1b[2J")
    [camera] = [
        d for d in json.loads(homeguard("devices", "--db", db, "--json").stdout) if d["mac"] == CAMERA[0]
    ]
    assert camera["ssdp_server"] == "Linux\\x1b[2J UPnP/1.0\\x07"

    # the push: three alerts at the webhook, none with a forged line or a control
    homeguard("alerts", "send", "--config", str(config))
    assert len(webhook.received) == 3
    for alert in webhook.received:
        text = f"{alert['title']}\n{alert['message']}"
        assert unsafe_characters(text) == [] and forged_lines(text) == []
    assert any("“\\x1b[2J\\x1b[31mPWNED" in a["message"] for a in webhook.received)

    # the digest, the next morning: plain text and HTML
    database = open_database(tmp_path / "homeguard.db")
    tomorrow = ManualClock(queued_at(database) + 86400 + 3600)
    Sender(database, load_config(config).values["notify"], AppriseNotifier(), clock=tomorrow).run_once()
    database.close()
    [mail] = mailbox.messages
    parts = Mailbox.parts(mail)
    for part in parts.values():
        assert unsafe_characters(part) == [] and forged_lines(part) == []
        assert FORGED not in part.split("“", 1)[0]  # the forged words only inside the quoted name
    assert "&lt;b&gt;Your router is safe&lt;/b&gt;" in parts["text/html"]
    assert "<b>Your router" not in parts["text/html"]


def test_a_device_named_like_a_rule_cannot_take_the_rules_mute(tmp_path: Path) -> None:
    config = write_config(tmp_path, [])
    db = str(tmp_path / "homeguard.db")
    named = (
        Ether(src=LAPTOP[0], dst="ff:ff:ff:ff:ff:ff")
        / IP(src="0.0.0.0", dst="255.255.255.255")
        / UDP(sport=68, dport=67)
        / BOOTP(chaddr=mac_bytes(LAPTOP[0]), xid=9)
        / DHCP(options=[("message-type", "request"), ("hostname", b"cleartext-password"), "end"])
    )
    capture = tmp_path / "named.pcap"
    wrpcap(str(capture), [named, *tcp_conversation(TELNET_LOGIN, 23, 41000, client=LAPTOP, server=CAMERA)])
    homeguard("replay", str(capture), "--db", db, "--config", str(config))
    common = ("--db", db, "--config", str(config))
    ambiguous = homeguard("mute", "cleartext-password", *common, check=False)
    assert ambiguous.returncode == 1
    assert "say 'rule:cleartext-password' for the rule, or 'device:cleartext-password'" in ambiguous.stderr
    assert (
        "muted rule cleartext-password until" in homeguard("mute", "rule:cleartext-password", *common).stdout
    )
    assert f"muted device {LAPTOP[0]} until" in homeguard("mute", "device:cleartext-password", *common).stdout
