"""`homeguard report`: where the household's data went, per device, organisation and
country (homeguard/report/, docs/report.md)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from homeguard.cli.options import command_clock, config_option, version_option
from homeguard.errors import HomeGuardError


@click.command()
@click.option("--db", "db_path", help="The database to read. Default: see 'homeguard settings'.")
@config_option
@click.option("--since", default="7d", show_default=True, help="The period, ending today: 7d, 30d, 1w…")
@click.option("--device", help="Only this device: its MAC or its name.")
@click.option("--language", type=click.Choice(["en", "nl"]), help="Default: the language setting.")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "html"]),
    default="text",
    show_default=True,
)
@click.option(
    "--output", type=click.Path(dir_okay=False, writable=True), help="Write to this file, not stdout."
)
@version_option
def report(
    db_path: str | None,
    config_file: str | None,
    since: str,
    device: str | None,
    language: str | None,
    output_format: str,
    output: str | None,
) -> None:
    """Where the household's data went: per device, the organisations, both countries
    (the servers', and whose law applies), trackers, and what changed."""
    from homeguard.report.build import build_report
    from homeguard.report.render import render_html, render_text
    from homeguard.rules.durations import parse_duration
    from homeguard.settings import load_config
    from homeguard.store.database import database_path, open_existing_database
    from homeguard.store.queries import device_named

    config = load_config(config_file, {})
    try:
        days = max(1, round(parse_duration(since) / 86400))
    except ValueError as exc:
        raise HomeGuardError(f"--since: {exc}") from exc
    db = open_existing_database(database_path(config.values["db_path"], db_path))
    mac = None
    if device:
        mac = device.lower() if ":" in device else device_named(db, device)
        if mac is None:
            raise HomeGuardError(f"--device: no device is named {device!r}; 'homeguard devices' lists them")
    built = build_report(db, command_clock().time(), days, language or config.values["language"], mac)
    db.close()
    if output_format == "json":
        text = json.dumps(built, indent=2, ensure_ascii=False)
    elif output_format == "html":
        text = render_html(built)
    else:
        text = render_text(built)
    if output:
        Path(output).write_text(text + ("" if text.endswith("\n") else "\n"), encoding="utf-8")
    else:
        click.echo(text)
