"""`homeguard run` and `homeguard replay`: the two ways packets come in, wired by
homeguard.app into the very same household."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from homeguard.cli.options import command_clock, config_option, setup_logging, version_option
from homeguard.errors import ConfigError
from homeguard.settings import Config, load_config

if TYPE_CHECKING:
    from homeguard.capture.source import LiveCapture
    from homeguard.outputs.metrics import MetricsServer
    from homeguard.pipeline.core import Pipeline
    from homeguard.pipeline.feed import Feed
    from homeguard.service.daemon import Daemon
    from homeguard.service.intercept import Interceptor

events_option = click.option(
    "--events",
    "events_file",
    type=click.Path(dir_okay=False, writable=True),
    help="Also write every event to this file, one JSON object per line ('-' for stdout).",
)


REPLAY_EXPORT_PATIENCE = 60.0


@click.command()
@click.option("-i", "--interface", help="Interface to capture on. Default: the one with the default route.")
@config_option
@click.option("--db", "db_path", help="The SQLite database. Default: see 'homeguard settings'.")
@click.option("--filter", "bpf_filter", help="A BPF filter in tcpdump syntax, such as 'not port 22'.")
@events_option
@version_option
def run(
    interface: str | None,
    config_file: str | None,
    db_path: str | None,
    bpf_filter: str | None,
    events_file: str | None,
) -> None:
    """Capture live on an interface and keep watch until stopped (SIGTERM or Ctrl-C)."""
    from homeguard import app
    from homeguard.capture.live import check_interface, default_interface, interface_mac, machine_addresses
    from homeguard.service.daemon import Daemon, RuleReloader
    from homeguard.service.dashboard_watch import DashboardWatch
    from homeguard.service.live_config import LiveConfig
    from homeguard.workers.pool import CapturePool

    clock = command_clock()
    overrides = {
        "interface": interface,
        "db_path": db_path,
        "bpf_filter": bpf_filter,
        "events_file": events_file,
    }
    config = load_config(config_file, overrides)
    setup_logging(config.values["log_level"])
    interface = config.values["interface"] or default_interface()
    check_interface(interface)
    household = app.build(config, clock)
    household.pipeline.visibility.own_mac = interface_mac(interface)
    household.pipeline.visibility.own_ips = machine_addresses()
    dashboard = None
    try:
        source = app.open_capture(household, interface)
        from homeguard.store.database import database_path
        from homeguard.web.serve import Dashboard

        db_file = database_path(config.values["db_path"])
        dashboard = Dashboard(config, db_file, clock, source.name)
        with app.background(household) as restart_sender:
            live = LiveConfig(
                config_file, overrides, config, household.pipeline, household.alerts, restart_sender
            )
            daemon = Daemon(household.pipeline, source, config.values["stats_interval"], clock)
            daemon.reload_config = live.reload
            if isinstance(source, CapturePool):  # the workers' pipelines follow the config too
                live.followers.append(source.reconfigure)
            daemon.dashboard = DashboardWatch(db_file)
            daemon.feeds = [spec.start() for spec in household.registry.sources()]
            feeds = daemon.feeds
            problems: list[Feed | LiveCapture] = [*feeds, source]
            household.pipeline.source_problems = lambda now: [p for f in problems if (p := f.problem(now))]
            daemon.rules = RuleReloader(
                household.engine, household.ruleset, app.rule_loader(household, lambda: live.config)
            )
            metrics = serve_metrics(config, daemon, db_file)
            interceptor = intercept(config, source.name, household.pipeline, db_file)
            daemon.install_signal_handlers()
            try:
                daemon.run()
            finally:
                if interceptor is not None:
                    interceptor.close()  # the devices get their gateway back first
                if metrics is not None:
                    metrics.close()
    finally:
        if dashboard is not None:
            dashboard.close()
        household.close()


def intercept(config: Config, interface: str, pipeline: Pipeline, db_file: Path) -> Interceptor | None:
    """Interception for the devices intercept_devices names (opt-in: docs/sources.md)."""
    if not config.values["intercept_devices"]:
        return None
    from homeguard.service.intercept import start_interception

    return start_interception(config.values, interface, pipeline, intercept_state_file(db_file))


def intercept_state_file(db_file: Path) -> Path:
    return db_file.parent / "intercept.json"


@click.command("intercept-restore")
@config_option
@click.option(
    "--db", "db_path", help="The database whose interception to end (default: db_path in the config)."
)
@version_option
def intercept_restore(config_file: str | None, db_path: str | None) -> None:
    """Tell intercepted devices their gateway's real address again, and put IP forwarding
    back: after any stop of `run`, a crash included (the unit's ExecStopPost). Does
    nothing when nothing was intercepted."""
    from homeguard.service.intercept import restore
    from homeguard.store.database import database_path

    config = load_config(config_file, {"db_path": db_path})
    setup_logging(config.values["log_level"])
    state_file = intercept_state_file(database_path(config.values["db_path"]))
    click.echo("interception ended" if restore(state_file) else "nothing was intercepted")


def serve_metrics(config: Config, daemon: Daemon, db_file: Path) -> MetricsServer | None:
    """The Prometheus endpoint, when metrics_listen asks for one."""
    listen, per_device = config.values["metrics_listen"], config.values["metrics_per_device"]
    if not listen:
        return None
    from homeguard.outputs.metrics import MetricsServer
    from homeguard.pipeline.flow_export import parse_listen
    from homeguard.service.metrics import daemon_metrics

    host, port = parse_listen(listen)
    try:
        return MetricsServer(host, port, lambda: daemon_metrics(daemon, db_file, per_device))
    except OSError as exc:
        raise ConfigError(f"metrics_listen {listen}: cannot listen there: {exc.strerror}") from exc


@click.command()
@click.argument("captures", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--db", "db_path", help="Store devices, flows and DNS in this database. Default: none (summary only)."
)
@events_option
@config_option
@click.option("--rules-dir", help="Your rules directory (default: rules_dir in the config).")
@click.option("--no-rules", is_flag=True, help="Decode and store only; run no rules.")
@click.option(
    "--separate",
    is_flag=True,
    help="Each capture is its own network: nothing one teaches (address owners, routers, DHCP "
    "servers, devices) is used for the next. For captures from different places, such as a test corpus.",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Decode in this many processes, each taking the flows of its share of the address pairs. "
    "Faster on several cores. Events come in the files' order, the same on every run; a worker "
    "ends idle flows by its own share's clock, so a flow may end a little later than in one "
    "process. 1 keeps one process's result exactly.",
)
@version_option
def replay(
    captures: tuple[str, ...],
    db_path: str | None,
    events_file: str | None,
    config_file: str | None,
    rules_dir: str | None,
    no_rules: bool,
    separate: bool,
    workers: int,
) -> None:
    """Run pcap or pcapng files through the same pipeline as live capture, rules included.
    Alerts are queued, not sent: the daemon or `homeguard alerts send` sends them."""
    from homeguard import app
    from homeguard.pipeline.replay import replay_files, total_bytes

    if separate and workers > 1:
        raise click.UsageError("--separate replays one network after another: use it with --workers 1")

    overrides = {"rules_dir": rules_dir, "db_path": db_path, "events_file": events_file}
    config = load_config(config_file, overrides)
    setup_logging(config.values["log_level"])
    household = app.build(config, command_clock(), store=db_path is not None, rules=not no_rules, replay=True)
    paths = list(captures)
    try:
        with contextlib.ExitStack() as stack:
            on_bytes = None
            if sys.stderr.isatty():
                bar = click.progressbar(length=total_bytes(paths), label="replaying", file=sys.stderr)
                on_bytes = stack.enter_context(bar).update
            if workers > 1:
                summary = app.replay_in_workers(household, paths, workers, on_bytes)
            else:
                summary = replay_files(household.pipeline, paths, on_bytes, separate)
    finally:
        household.close()
    if db_path is not None:
        _deliver_exports(config)
    for line in summary.failed:
        click.echo(f"error: {line}", err=True)
    for path in summary.truncated:
        click.echo(
            f"warning: {path}: the capture ends mid-packet (cut short); everything before the cut was read",
            err=True,
        )
    stats = household.pipeline.stats
    click.echo(
        f"{summary.files} file(s): {summary.packets} packets, {stats.events} events, "
        f"{summary.devices} devices, {stats.flows_ended} flows, "
        f"{household.engine.findings} findings, "
        f"{stats.malformed} malformed, in {summary.seconds:.2f} s ({summary.pps:,.0f} pps)",
        err=True,
    )
    if stats.flood_skipped:
        click.echo(
            f"{stats.flood_skipped} packets from unknown devices were skipped during a flood of "
            "made-up device addresses (see the mac-flood finding)",
            err=True,
        )
    if db_path is None:
        click.echo(
            "nothing was stored: pass --db FILE to keep devices and findings "
            "(homeguard devices and findings show the daemon's database)",
            err=True,
        )
    if summary.failed:
        sys.exit(1)


def _deliver_exports(config: Config) -> None:
    """A replay's exported findings go to the syslog destination before it ends (at most
    REPLAY_EXPORT_PATIENCE seconds); what is left waits on disk for the daemon."""
    from homeguard.outputs.export.sender import deliver, sender_for
    from homeguard.store.database import database_path, open_database

    sender = sender_for(config.values, command_clock())
    if sender is None:
        return
    db = open_database(database_path(config.values["db_path"]))
    try:
        left = deliver(db, sender, REPLAY_EXPORT_PATIENCE)
    finally:
        db.close()
    if left:
        click.echo(
            f"export: {left} document(s) wait for {sender.destination} (the daemon sends them)", err=True
        )
