"""Options every command shares, declared once."""

from __future__ import annotations

import click

from homeguard import __version__

version_option = click.version_option(__version__, "--version", prog_name="homeguard")
config_option = click.option(
    "--config", "config_file", type=click.Path(dir_okay=False), help="A YAML config file."
)
