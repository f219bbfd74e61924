"""The command line: a thin click layer over the core, wired through homeguard.app.
Errors become one line each. Installed plugins add their commands (homeguard_commands)."""

from __future__ import annotations

import json
import sys

import click

from homeguard.cli.alerts import alerts, mute, notify_group, unmute
from homeguard.cli.capture import intercept_restore, replay, run
from homeguard.cli.fleet import fleet_group
from homeguard.cli.options import version_option
from homeguard.cli.report import report
from homeguard.cli.rules import findings, lists_group, rules
from homeguard.cli.service import config_group, doctor, setup, status
from homeguard.cli.web import web
from homeguard.clock import SystemClock
from homeguard.errors import HomeGuardError
from homeguard.settings import settings_markdown

CONTEXT = {"help_option_names": ["-h", "--help"]}


class HomeGuardCommands(click.Group):
    """The shipped commands, then those of installed plugins, looked up when asked for."""

    def _plugin_commands(self) -> dict[str, click.Command]:
        from homeguard.plugins.manager import plugin_manager

        found = plugin_manager().hook.homeguard_commands()
        return {c.name: c for commands in found for c in commands if c.name and c.name not in self.commands}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self._plugin_commands()])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return super().get_command(ctx, cmd_name) or self._plugin_commands().get(cmd_name)


@click.group(cls=HomeGuardCommands, context_settings=CONTEXT)
@version_option
def cli() -> None:
    """HomeGuard watches your home network: every device, privacy leaks and insecure devices."""


@cli.command()
@click.option("--db", "db_path", help="The database to read. Default: see 'homeguard settings'.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@version_option
def devices(db_path: str | None, as_json: bool) -> None:
    """List the devices HomeGuard has seen, most recently seen first."""
    from homeguard.store.database import database_path, open_existing_database
    from homeguard.store.queries import device_listing

    db = open_existing_database(database_path(None, db_path))
    rows = device_listing(db)
    db.close()
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    from homeguard.decode.text import terminal_safe

    click.echo(f"{'MAC':<18} {'IP addresses':<32} {'name':<24} {'vendor':<28} last seen")
    for row in rows:
        flag = " (private MAC)" if row["randomized"] else ""
        name = terminal_safe(row["name"] or "-")  # chosen by the device
        click.echo(
            f"{row['mac']:<18} {_cut(', '.join(row['ips']), 32):<32} "
            f"{_cut(name, 24):<24} {_cut(row['vendor'] or '-', 28):<28} "
            f"{row['last_seen_text']}{flag}"
        )


def _cut(text: str, width: int) -> str:
    """Fit a column; a cut shows as an ellipsis, so fe80::1:2… never reads as an address."""
    return text if len(text) <= width else text[: width - 1] + "…"


@cli.command()
@click.option("--markdown", is_flag=True, help="Print the Markdown page docs/fields.md.")
@version_option
def fields(markdown: bool) -> None:
    """List the event fields that rules match on and --events writes, plugins' included."""
    from homeguard.app import registry_for
    from homeguard.settings import Config

    catalog = registry_for(Config()).catalog
    if markdown:
        click.echo(catalog.markdown(), nl=False)
        return
    for spec in catalog.fields:
        click.echo(f"{spec.name:<28} {spec.kind:<10} {spec.help}")


@cli.command()
@click.option("--markdown", is_flag=True, help="Print the Markdown page docs/settings.md.")
@version_option
def settings(markdown: bool) -> None:
    """List every setting with its default."""
    from homeguard.settings import SETTINGS

    if markdown:
        click.echo(settings_markdown(), nl=False)
        return
    for s in SETTINGS:
        click.echo(f"{s.name:<20} {s.default!s:<10} {s.help}")


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@version_option
def plugins(as_json: bool) -> None:
    """List every plugin, the shipped ones included, and what each provides."""
    from homeguard.app import registry_for
    from homeguard.settings import Config

    listing = registry_for(Config()).describe()
    if as_json:
        click.echo(json.dumps(listing, indent=2))
        return
    for plugin in listing:
        click.echo(f"{plugin['name']}  ({plugin['package']})")
        provides = plugin["provides"]
        for spec in provides.get("protocols", []):
            where = ", ".join(
                f"{k} {v}" for k, v in spec.items() if k in ("udp", "udp to", "tcp", "ethertype", "icmpv6")
            )
            click.echo(f"    protocol {spec['name']}: {spec['summary']} [{where}]; {spec['fields']} field(s)")
        for enricher in provides.get("enrichers", []):
            click.echo(f"    enricher {enricher['name']}: {', '.join(enricher['fields'])}")
        for what in ("event outputs", "finding outputs"):
            if provides.get(what):
                click.echo(f"    {what}")
        for command in provides.get("commands", []):
            click.echo(f"    command homeguard {command}")


for command in (
    run,
    replay,
    rules,
    findings,
    lists_group,
    alerts,
    mute,
    unmute,
    notify_group,
    setup,
    config_group,
    doctor,
    status,
    report,
    web,
    fleet_group,
    intercept_restore,
):
    cli.add_command(command)


def main() -> None:
    try:
        cli(prog_name="homeguard", obj=SystemClock())
    except HomeGuardError as exc:
        click.echo(f"homeguard: error: {exc}", err=True)
        sys.exit(1)
