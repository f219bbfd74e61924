"""Options every command shares, declared once."""

from __future__ import annotations

import logging
import os
import sys

import click

from homeguard import __version__
from homeguard.clock import Clock, SystemClock

version_option = click.version_option(__version__, "--version", prog_name="homeguard")
config_option = click.option(
    "--config", "config_file", type=click.Path(dir_okay=False), help="A YAML config file."
)


def command_clock() -> Clock:
    """The clock the command line was started with (main() hands the system's in as the
    click context's object; a test may hand in its own)."""
    ctx = click.get_current_context(silent=True)
    obj = ctx.find_root().obj if ctx is not None else None
    return obj if obj is not None else SystemClock()


def setup_logging(level: str) -> None:
    under_journal = "JOURNAL_STREAM" in os.environ  # journald adds its own timestamps
    fmt = (
        "%(levelname)s %(name)s: %(message)s"
        if under_journal
        else "%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.basicConfig(stream=sys.stderr, level=level.upper(), format=fmt)
