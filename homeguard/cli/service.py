"""Commands for running HomeGuard as a service: setup, and checking the config."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from homeguard.cli.options import command_clock, version_option
from homeguard.decode.text import terminal_safe


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
    from homeguard.service import install

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
    if not uninstall:
        click.echo(f"next: {dashboard_hint(interface, report.setup_code)}")


def dashboard_hint(interface: str | None, code: str | None) -> str:
    """Where the household opens the dashboard, and the code for its first password."""
    from homeguard.capture.live import default_interface
    from homeguard.web.serve import DEFAULT_PORT, lan_address

    try:
        address = lan_address(interface or default_interface()) or "this machine's address"
    except Exception:  # no default route yet: still say where to look
        address = "this machine's address"
    if code is None:
        return f"open http://{address}:{DEFAULT_PORT}/ in a browser on the household network and log in"
    return (
        f"open http://{address}:{DEFAULT_PORT}/setup in a browser on the household network and enter "
        f"the setup code {code} to choose the dashboard's password. It is good for a day; after that, "
        "HomeGuard logs a new one: sudo journalctl -u homeguard | grep 'setup code'"
    )


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
    from homeguard.settings import read_config

    loaded, errors = read_config(path)
    problems = [str(error) for error in errors]
    problems += [
        f"{t.where}: notify target {t.name!r}: {problem}"
        for t in loaded.values["notify"]
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
    from homeguard.service.install import default_config_text

    click.echo(default_config_text(interface), nl=False)


@click.command()
@click.option(
    "-i", "--interface", help="The interface to check. Default: the config's, or the default route's."
)
@click.option(
    "--seconds", default=10.0, show_default=True, help="How long to listen for the visibility check."
)
@click.option("--config", "config_file", type=click.Path(dir_okay=False), help="A YAML config file.")
@click.option("--db", "db_path", help="The database to check. Default: see 'homeguard settings'.")
@version_option
def doctor(interface: str | None, seconds: float, config_file: str | None, db_path: str | None) -> None:
    """Check everything HomeGuard needs, and say in plain words what to fix."""
    from homeguard.capture.live import default_interface
    from homeguard.service.doctor import run_checks
    from homeguard.settings import load_config
    from homeguard.store.database import database_path

    config = load_config(config_file)
    iface = interface or config.values["interface"] or default_interface()
    db = database_path(config.values["db_path"], db_path)
    problems = 0
    for check in run_checks(config, iface, seconds, db, command_clock()):
        click.echo(f"{check.status:<8} {check.name}: {check.summary}")
        if check.advice:
            click.echo(f"         What to do: {check.advice}")
        for figure in check.figures:
            click.echo(f"           {figure}")
        problems += check.status == "PROBLEM"
    if problems:
        sys.exit(1)


@click.command()
@click.option("--config", "config_file", type=click.Path(dir_okay=False), help="A YAML config file.")
@click.option("--db", "db_path", help="The database. Default: see 'homeguard settings'.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@version_option
def status(config_file: str | None, db_path: str | None, as_json: bool) -> None:
    """How the running HomeGuard is doing: uptime, packets, drops, events per second, CPU,
    memory, database size and alerts waiting (from its last statistics rows)."""
    import json

    from homeguard.settings import load_config
    from homeguard.store.database import database_path, open_existing_database

    config = load_config(config_file)
    path = database_path(config.values["db_path"], db_path)
    db = open_existing_database(path)
    from homeguard.store.outbox import waiting_count
    from homeguard.store.queries import latest_capture_stats

    rows = latest_capture_stats(db)
    pending = waiting_count(db)
    db.close()
    if not rows:
        raise click.ClickException(f"{path}: no statistics yet; HomeGuard writes them every stats_interval")
    last = rows[0]
    rate = 0.0
    if len(rows) == 2 and last["ts"] > rows[1]["ts"] and last["started"] == rows[1]["started"]:
        rate = (last["events"] - rows[1]["events"]) / (last["ts"] - rows[1]["ts"])
    report = {
        "source": last["source"],
        "last_report": last["ts"],
        "uptime_seconds": round(last["ts"] - last["started"])
        if last["started"] and last["ts"] >= last["started"]
        else None,
        "packets": last["packets"],
        "kernel_drops": last["kernel_drops"],
        "events_per_second": round(rate, 1),
        "cpu_percent": last["cpu_percent"],
        "rss_mib": round(last["rss_bytes"] / 2**20, 1) if last["rss_bytes"] else None,
        "database_mib": round(path.stat().st_size / 2**20, 1),
        "alerts_waiting": pending,
        "output_drops": last["output_drops"] or 0,
    }
    now = command_clock().time()
    report["state"] = _daemon_state(last, now, config.values["stats_interval"])
    if as_json:
        click.echo(json.dumps(report, indent=2))
    else:
        _print_status(report, now)
    if report["state"] != "running":
        sys.exit(3)  # as systemctl status does for a unit that is not active


REPLAY_SUFFIXES = (".pcap", ".pcapng", ".cap", ".gz")


def _daemon_state(last: dict[str, Any], now: float, stats_interval: float) -> str:
    """running; stopped (its last row says so); gone (no report for two intervals and a
    minute, and no goodbye: killed, or the machine went down); or replay (the rows came
    from `homeguard replay`, whose timestamps are the capture's)."""
    source = str(last["source"])
    if "/" in source or source.endswith(REPLAY_SUFFIXES):
        return "replay"
    if last["stopped"]:
        return "stopped"
    return "running" if now - last["ts"] <= 2 * stats_interval + 60 else "gone"


def _duration(seconds: float) -> str:
    minutes, hours, days = int(seconds // 60), int(seconds // 3600), int(seconds // 86400)
    if days:
        return f"{days} d {hours % 24} h"
    if hours:
        return f"{hours} h {minutes % 60} min"
    return f"{minutes} min" if minutes else f"{seconds:.0f} s"


def _print_status(report: dict[str, Any], now: float) -> None:
    state, source = report["state"], terminal_safe(str(report["source"]))
    if state == "replay":
        click.echo(f"This database holds a replay of {source}, not a running HomeGuard.")
    elif state in ("stopped", "gone"):
        ago = _duration(now - report["last_report"])
        how = "it stopped" if state == "stopped" else "its last report was"
        click.echo(f"HomeGuard is not running: {how} {ago} ago (systemctl status homeguard).")
    else:
        click.echo(
            f"HomeGuard is running on {source} (last report {_duration(now - report['last_report'])} ago)."
        )
    uptime = report["uptime_seconds"]
    lines = [
        ("Up for", _duration(uptime) if uptime is not None and state != "replay" else "-"),
        ("Packets", f"{report['packets']:,}"),
        ("Kernel drops", f"{report['kernel_drops']:,}"),
        ("Events per second", report["events_per_second"]),
        ("CPU", f"{report['cpu_percent']} % of one core" if report["cpu_percent"] is not None else "-"),
        ("Memory", f"{report['rss_mib']} MiB" if report["rss_mib"] is not None else "-"),
        ("Database", f"{report['database_mib']} MiB"),
        ("Alerts waiting", report["alerts_waiting"]),
        ("Output drops", report["output_drops"]),
    ]
    for label, value in lines:
        click.echo(f"  {label:<18} {value}")
