"""The weekly data report by e-mail, to a real SMTP server on loopback: once a week, to
the targets that take e-mail, with the HTML report inside; a new install does not mail
a report of its first hours."""

from __future__ import annotations

import time
from pathlib import Path

from click.testing import CliRunner

from homeguard.cli.main import cli
from homeguard.clock import ManualClock
from tests.receivers import Mailbox, Webhook
from tests.test_report import TS0, replay_household


def send(config: Path, db: Path, now: float) -> str:
    done = CliRunner().invoke(
        cli, ["alerts", "send", "--config", str(config), "--db", str(db)], obj=ManualClock(now)
    )
    assert done.exit_code == 0, done.output
    return done.output


def next_monday_at(ts: float, hour: int) -> float:
    day = time.localtime(ts)
    midnight = time.mktime((day.tm_year, day.tm_mon, day.tm_mday, 0, 0, 0, 0, 0, -1))
    days = (7 - day.tm_wday) % 7 or 7
    return time.mktime((*time.localtime(midnight + days * 86400 + 7200)[:3], hour, 0, 0, 0, 0, -1))


def test_the_weekly_report_is_mailed_once_to_the_mail_targets(
    tmp_path: Path, mailbox: Mailbox, webhook: Webhook
) -> None:
    db, config = replay_household(tmp_path)
    config.write_text(
        config.read_text()
        + "report_email: weekly\nlanguage: nl\nnotify:\n"
        + f"  - name: mail\n    url: {mailbox.url}\n  - name: hook\n    url: {webhook.url}\n"
    )
    send(config, db, TS0 + 3600)  # the captures' own day: the ledger holds nothing from before this week
    assert mailbox.messages == []
    monday = next_monday_at(TS0, 9)  # after digest_hour (8) on the Monday after
    send(config, db, monday)
    [mail] = mailbox.messages
    assert mail["Subject"].startswith("Waar je gegevens heen gaan: ")
    html = next(part for part in mail.walk() if part.get_content_type() == "text/html").get_payload(
        decode=True
    )
    assert b"Samsung" in html and b"Zuid-Korea" in html and b"<svg" in html
    send(config, db, monday + 3600)  # the same week: not again
    send(config, db, monday + 2 * 86400)
    assert len(mailbox.messages) == 1
    assert webhook.received == []  # only targets that take e-mail get the report
