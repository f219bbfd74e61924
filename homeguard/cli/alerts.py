"""Commands for alerts: the outbox, sending, muting, and testing the targets."""

from __future__ import annotations

import json
import re
import sys
import time
from typing import Any

import click

from homeguard.cli.options import command_clock, config_option, version_option
from homeguard.decode.text import terminal_safe
from homeguard.errors import HomeGuardError
from homeguard.settings import Config, load_config
from homeguard.store import outbox
from homeguard.store.queries import device_named, rules_with_findings

MAC = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")


def _db(config: Config, db_path: str | None) -> Any:
    from homeguard.store.database import database_path, open_existing_database

    return open_existing_database(database_path(config.values["db_path"], db_path))


def _masker(config: Config) -> Any:
    targets = {t.name: t for t in config.values["notify"]}

    def masked(target: str, text: str | None) -> str:
        if not text:
            return ""
        return targets[target].masked(text) if target in targets else text

    return masked


db_option = click.option("--db", "db_path", help="The database. Default: see 'homeguard settings'.")


@click.group(invoke_without_command=True)
@click.option("--pending", "only", flag_value="pending", help="Only alerts still to be sent (or retried).")
@click.option("--failed", "only", flag_value="failed", help="Only alerts that failed for good.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@db_option
@config_option
@version_option
@click.pass_context
def alerts(
    ctx: click.Context, only: str | None, as_json: bool, db_path: str | None, config_file: str | None
) -> None:
    """The outbox: every alert, per target, and whether it arrived (and if not, why)."""
    if ctx.invoked_subcommand is not None:
        return
    config = load_config(config_file)
    db = _db(config, db_path)
    rows = outbox.listing(db, only)
    db.close()
    masked = _masker(config)
    for row in rows:
        row["last_error"] = masked(row["target"], row["last_error"])
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(row["created"]))
        state = row["state"] + (f" (digest #{row['digest_id']})" if row["digest_id"] else "")
        click.echo(f"#{row['id']} {when} {row['target']:<10} {row['kind']:<6} {state:<18} {row['title']}")
        if row["last_error"]:
            # the reason is a service's own words: escaped for the terminal
            click.echo(f"    after {row['attempts']} attempt(s): {terminal_safe(row['last_error'])}")
    click.echo(f"{len(rows)} alert(s)", err=True)


@alerts.command()
@click.option("--retry-now", is_flag=True, help="Retry alerts waiting for their next attempt now.")
@db_option
@config_option
@version_option
def send(retry_now: bool, db_path: str | None, config_file: str | None) -> None:
    """Work the outbox once, as the daemon does every few seconds."""
    from homeguard.notify.delivery import AppriseNotifier
    from homeguard.notify.sender import Sender
    from homeguard.notify.service import usable_targets
    from homeguard.report.render import report_for_mail

    config = load_config(config_file)
    db = _db(config, db_path)
    from homeguard.store.web import with_dashboard_changes

    with_dashboard_changes(config, db)
    if retry_now:
        outbox.retry_now(db)
    sender = Sender(
        db,
        usable_targets(config),
        AppriseNotifier(),
        quiet=config.values["quiet_hours"],
        digest_hour=config.values["digest_hour"],
        language=config.values["language"],
        clock=command_clock(),
        report=report_for_mail,
        report_period=config.values["report_email"],
    )
    summary = sender.run_once()
    db.close()
    click.echo(
        f"{summary.delivered} delivered, {summary.failed_attempts} to retry, {summary.gave_up} failed, "
        f"{summary.to_digest} to the digest, {summary.digests} digest(s) made, {summary.muted} muted, "
        f"{summary.deferred} held for quiet hours"
    )


def _mute_subject(db: Any, subject: str, config: Config) -> tuple[str, str]:
    """('device', MAC) or ('rule', id): a MAC, a device's name, or a rule id; `rule:ID` or
    `device:NAME` where a device has named itself like a rule (a device chooses its name,
    so a plain word that is both is never guessed)."""
    kind, sep, rest = subject.partition(":")
    wanted = kind if sep and kind in ("rule", "device") else None
    word = rest if wanted else subject
    if wanted != "rule" and MAC.match(word.lower()):
        return "device", word.lower()
    mac = device_named(db, word.lower()) if wanted != "rule" else None
    from homeguard.rules.configured import load_rules_for

    rules = rules_with_findings(db) | set(load_rules_for(config).rules) if wanted != "device" else set()
    if mac is not None and word in rules:
        raise HomeGuardError(
            f"{word!r} is a rule and also the name a device gave itself: "
            f"say 'rule:{word}' for the rule, or 'device:{word}' (or its MAC {mac}) for the device"
        )
    if mac is not None:
        return "device", mac
    if word in rules:
        return "rule", word
    raise HomeGuardError(f"{subject!r} is no device (MAC or name) and no rule id; see 'homeguard devices'")


@click.command()
@click.argument("subject")
@click.option("--for", "duration", help="How long, such as 7d or 12h. Default: until unmuted.")
@db_option
@config_option
@version_option
def mute(subject: str, duration: str | None, db_path: str | None, config_file: str | None) -> None:
    """Stop alerts about a device (MAC or name) or from a rule (its id); 'rule:ID' or
    'device:NAME' where a device named itself like a rule. Findings are still recorded."""
    from homeguard.rules.durations import parse_duration

    config = load_config(config_file)
    db = _db(config, db_path)
    kind, value = _mute_subject(db, subject, config)
    try:
        now = command_clock().time()
        until = now + parse_duration(duration) if duration else None
    except ValueError as exc:
        raise HomeGuardError(f"--for: {exc}") from exc
    outbox.mute(db, kind, value, until, now)
    db.close()
    ends = time.strftime("%Y-%m-%d %H:%M", time.localtime(until)) if until else "you unmute it"
    click.echo(f"muted {kind} {value} until {ends}")


@click.command()
@click.argument("subject")
@db_option
@config_option
@version_option
def unmute(subject: str, db_path: str | None, config_file: str | None) -> None:
    """Alerts about a device, or from a rule, again."""
    config = load_config(config_file)
    db = _db(config, db_path)
    kind, value = _mute_subject(db, subject, config)
    gone = outbox.unmute(db, kind, value)
    db.close()
    click.echo(f"unmuted {kind} {value}" if gone else f"{kind} {value} was not muted")


@click.group(name="notify")
@version_option
def notify_group() -> None:
    """Notification targets."""


@notify_group.command(name="test")
@click.option("--target", "only", help="Only this target (its name in the config).")
@config_option
@version_option
def notify_test(only: str | None, config_file: str | None) -> None:
    """Send a test message to each target and say, per target, whether it arrived."""
    from homeguard.notify.delivery import AppriseNotifier, apprise_problem, masked_url

    config = load_config(config_file)
    targets = [t for t in config.values["notify"] if only is None or t.name == only]
    if not targets:
        raise HomeGuardError(
            f"no notify target named {only!r} in the config" if only else "no notify targets in the config"
        )
    nl = config.values["language"] == "nl"
    title = "HomeGuard: testbericht" if nl else "HomeGuard: test message"
    body = (
        "Als je dit leest, komen meldingen van HomeGuard aan."
        if nl
        else "If you can read this, HomeGuard's alerts reach you."
    )
    failures = 0
    for target in targets:
        problem = apprise_problem(target) or AppriseNotifier().send(target, title, body)
        verdict = "arrived" if problem is None else f"FAILED: {target.masked(problem)}"
        click.echo(f"{target.name} ({masked_url(target)}): {verdict}")
        failures += problem is not None
    if failures:
        sys.exit(1)
