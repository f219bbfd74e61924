"""Commands for running HomeGuard as a service: setup, and checking the config."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from homeguard.cli_options import version_option


@click.command()
@click.option("-i", "--interface", help="The interface to watch (written into the new config).")
@click.option("--uninstall", is_flag=True, help="Undo setup: stop and remove the service and the user.")
@click.option("--purge", is_flag=True, help="With --uninstall: also delete the config and the database.")
@click.option(
    "--root", default="/", type=click.Path(file_okay=False), help="Install into this directory instead of /."
)
@click.option("--no-start", is_flag=True, help="Install, but do not enable and start the service.")
@version_option
def setup(interface: str | None, uninstall: bool, purge: bool, root: str, no_start: bool) -> None:
    """Install HomeGuard as a hardened systemd service (as root). Safe to run again."""
    from homeguard import install

    root_path = Path(root)
    report = (
        install.uninstall(root_path, purge)
        if uninstall
        else install.setup(root_path, interface, not no_start)
    )
    for line in report.done:
        click.echo(f"done: {line}")
    for line in report.kept:
        click.echo(f"kept: {line}")
    for line in report.todo:
        click.echo(f"todo: {line}")


@click.group(name="config")
@version_option
def config_group() -> None:
    """The config file."""


@config_group.command()
@click.argument("path", type=click.Path(dir_okay=False))
@version_option
def check(path: str) -> None:
    """Validate a config file: every error with file:line and a did-you-mean."""
    from homeguard.notify.delivery import apprise_problem
    from homeguard.settings import load_config

    loaded = load_config(path)
    problems = [
        f"{t.where}: notify target {t.name!r}: {problem}"
        for t in loaded["notify"]
        if (problem := apprise_problem(t)) is not None
    ]
    for line in problems:
        click.echo(line)
    if problems:
        sys.exit(1)
    click.echo(f"{path}: ok ({len(loaded.source)} setting(s) set, the rest default)")


@config_group.command()
@click.option("-i", "--interface", help="Fill in the interface.")
@version_option
def default(interface: str | None) -> None:
    """Print the commented default config file (what setup writes)."""
    from homeguard.install import default_config_text

    click.echo(default_config_text(interface), nl=False)
