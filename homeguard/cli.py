"""The command line: a thin click layer over the core. Errors become one line each."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
from typing import IO, Any

import click

from homeguard.cli_alerts import alerts, mute, notify_group, unmute
from homeguard.cli_options import command_clock, version_option
from homeguard.cli_rules import findings, lists_group, load_rules_for, rules
from homeguard.cli_service import config_group, doctor, setup, status
from homeguard.clock import Clock, SystemClock
from homeguard.errors import HomeGuardError
from homeguard.events import Event
from homeguard.events.catalog import FIELDS, catalog_markdown
from homeguard.settings import Config, load_config, settings_markdown

CONTEXT = {"help_option_names": ["-h", "--help"]}


def setup_logging(level: str) -> None:
    under_journal = "JOURNAL_STREAM" in os.environ  # journald adds its own timestamps
    fmt = (
        "%(levelname)s %(name)s: %(message)s"
        if under_journal
        else ("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    logging.basicConfig(stream=sys.stderr, level=level.upper(), format=fmt)


def _open_store(config: Config) -> tuple[Any, Any]:
    from homeguard.store.database import database_path, open_database
    from homeguard.store.writer import BatchWriter

    db = open_database(database_path(config["db_path"]))
    return db, BatchWriter(db, config["flush_max_rows"])


def _pipeline(config: Config, writer: Any, db: Any, sinks: list[Any]) -> Any:
    from homeguard.pipeline import Pipeline
    from homeguard.store.queries import load_device_rows

    pipeline = Pipeline(config, writer, sinks, clock=command_clock())
    if db is not None:
        pipeline.devices.restore(*load_device_rows(db, config["max_devices"]))
        pipeline.infrastructure.restore(db.execute("SELECT kind, value FROM infrastructure").fetchall())
    return pipeline


def _rule_engine(
    config: Config, db: Any, writer: Any, enabled: bool = True, targets: list[Any] | None = None
) -> tuple[Any, Any]:
    """The rules, loaded and compiled, with findings going to the database when there is one,
    and alerts queued for the targets. Rule errors are logged, never fatal: the good rules run."""
    from homeguard.findings.book import DatabaseFirstSeenStore, FindingsBook
    from homeguard.notify.queue import AlertQueue
    from homeguard.rules.engine import FindingSink, RuleEngine
    from homeguard.rules.loader import RuleSet

    ruleset = load_rules_for(config) if enabled else RuleSet()
    log = logging.getLogger("homeguard.rules")
    for error in ruleset.errors:
        log.error("%s", error)
    queue = AlertQueue(targets, config["language"]) if targets else None
    sinks: list[FindingSink] = [FindingsBook(writer, command_clock(), queue)] if writer is not None else []
    store = DatabaseFirstSeenStore(db, writer) if db is not None else None
    engine = RuleEngine(ruleset, sinks, store)
    log.info("%d rules loaded", len(ruleset.rules))
    return engine, ruleset


@click.group(context_settings=CONTEXT)
@version_option
def cli() -> None:
    """HomeGuard watches your home network: every device, privacy leaks and insecure devices."""


@cli.command()
@click.option("-i", "--interface", help="Interface to capture on. Default: the one with the default route.")
@click.option("--config", "config_file", type=click.Path(dir_okay=False), help="A YAML config file.")
@click.option("--db", "db_path", help="The SQLite database. Default: see 'homeguard settings'.")
@click.option("--filter", "bpf_filter", help="A BPF filter in tcpdump syntax, such as 'not port 22'.")
@click.option(
    "--events",
    "events_file",
    type=click.Path(dir_okay=False, writable=True),
    help="Also write every event to this file, one JSON object per line (for debugging).",
)
@version_option
def run(
    interface: str | None,
    config_file: str | None,
    db_path: str | None,
    bpf_filter: str | None,
    events_file: str | None,
) -> None:
    """Capture live on an interface and keep watch until stopped (SIGTERM or Ctrl-C)."""
    from homeguard.capture.live import LiveSource, default_interface
    from homeguard.daemon import Daemon, RuleReloader

    clock = command_clock()
    overrides = {"interface": interface, "db_path": db_path, "bpf_filter": bpf_filter}
    config = load_config(config_file, overrides)
    setup_logging(config["log_level"])
    iface = config["interface"] or default_interface()
    source = LiveSource(
        iface,
        config["bpf_filter"],
        promiscuous=config["promiscuous"],
        buffer_bytes=config["socket_buffer_mb"] << 20,
        clock=clock,
    )
    from homeguard.live_config import LiveConfig
    from homeguard.notify.service import sender_thread, usable_targets
    from homeguard.store.background import PeriodicThread
    from homeguard.store.database import database_path

    db, writer = _open_store(config)
    targets = usable_targets(config)
    engine, ruleset = _rule_engine(config, db, writer, targets=targets)
    alerts = next((s.alerts for s in engine.sinks if hasattr(s, "alerts")), None)
    with contextlib.ExitStack() as stack:
        stack.callback(db.close)
        db_file = database_path(config["db_path"])
        senders: list[Any] = []

        def start_sender(current: Config) -> None:
            for old in senders:
                old.close()
            senders.clear()
            fresh = usable_targets(current)
            if fresh:
                senders.append(sender_thread(db_file, fresh, current, clock))
                senders[0].start()

        stack.callback(lambda: [s.close() for s in senders])
        if targets:
            start_sender(config)
        sinks: list[Any] = [engine]
        if events_file:
            sinks.append(JsonlEvents(stack.enter_context(click.open_file(events_file, "w"))))
        pipeline = _pipeline(config, writer, db, sinks)
        live = LiveConfig(config_file, overrides, config, pipeline, alerts, start_sender)
        retention = PeriodicThread(
            "retention", db_file, config["retention_interval"], lambda d: _retain(d, live.config, clock)
        )
        retention.start()
        stack.callback(retention.close)
        daemon = Daemon(pipeline, source, config["stats_interval"], clock)
        daemon.reload_config = live.reload
        daemon.rules = RuleReloader(
            engine, ruleset, lambda previous: load_rules_for(live.config, previous=previous)
        )
        daemon.install_signal_handlers()
        daemon.run()


def _retain(db: Any, config: Config, clock: Clock) -> None:
    from homeguard.store.retention import enforce

    report = enforce(db, config, clock.time())
    if report.deleted or report.shed or report.rolled_up:
        logging.getLogger("homeguard.store").info("retention: %s", report)


class JsonlEvents:
    """An event sink that writes one JSON object per line."""

    def __init__(self, out: IO[str]) -> None:
        self.out = out

    def __call__(self, event: Event) -> None:
        self.out.write(json.dumps(event, separators=(",", ":")) + "\n")


@cli.command()
@click.argument("captures", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option(
    "--db", "db_path", help="Store devices, flows and DNS in this database. Default: none (summary only)."
)
@click.option(
    "--events",
    "events_file",
    type=click.Path(dir_okay=False, writable=True),
    help="Write every event to this file, one JSON object per line ('-' for stdout).",
)
@click.option("--config", "config_file", type=click.Path(dir_okay=False), help="A YAML config file.")
@click.option("--rules-dir", help="Your rules directory (default: rules_dir in the config).")
@click.option("--no-rules", is_flag=True, help="Decode and store only; run no rules.")
@version_option
def replay(
    captures: tuple[str, ...],
    db_path: str | None,
    events_file: str | None,
    config_file: str | None,
    rules_dir: str | None,
    no_rules: bool,
) -> None:
    """Run pcap or pcapng files through the same pipeline as live capture, rules included."""
    from homeguard.notify.service import usable_targets
    from homeguard.replay import replay_files, total_bytes

    config = load_config(config_file, {"rules_dir": rules_dir})
    setup_logging(config["log_level"])
    db = writer = None
    targets: list[Any] = []
    if db_path:
        config.set("db_path", db_path, "--db")
        db, writer = _open_store(config)
        targets = usable_targets(config)  # alerts are queued; the daemon or `alerts send` sends them
    paths = list(captures)
    with contextlib.ExitStack() as stack:
        if db is not None:
            stack.callback(db.close)
        sinks: list[Any] = []
        if events_file:
            sinks.append(JsonlEvents(stack.enter_context(click.open_file(events_file, "w"))))
        engine, _ruleset = _rule_engine(config, db, writer, enabled=not no_rules, targets=targets)
        sinks.append(engine)
        pipeline = _pipeline(config, writer, db, sinks)
        if sys.stderr.isatty():
            bar = stack.enter_context(
                click.progressbar(length=total_bytes(paths), label="replaying", file=sys.stderr)
            )
            summary = replay_files(pipeline, paths, bar.update)
        else:
            summary = replay_files(pipeline, paths)
    for line in summary.failed:
        click.echo(f"error: {line}", err=True)
    for path in summary.truncated:
        click.echo(
            f"warning: {path}: the capture ends mid-packet (cut short); everything before the cut was read",
            err=True,
        )
    stats = pipeline.stats
    click.echo(
        f"{summary.files} file(s): {summary.packets} packets, {stats.events} events, "
        f"{len(pipeline.devices)} devices, {stats.flows_ended} flows, {engine.findings} findings, "
        f"{stats.malformed} malformed, in {summary.seconds:.2f} s ({summary.pps:,.0f} pps)",
        err=True,
    )
    if summary.failed:
        sys.exit(1)


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
    click.echo(f"{'MAC':<18} {'IP addresses':<32} {'name':<24} {'vendor':<28} last seen")
    for row in rows:
        flag = " (private MAC)" if row["randomized"] else ""
        click.echo(
            f"{row['mac']:<18} {', '.join(row['ips'])[:32]:<32} "
            f"{(row['name'] or '-')[:24]:<24} {(row['vendor'] or '-')[:28]:<28} "
            f"{row['last_seen_text']}{flag}"
        )


@cli.command()
@click.option("--markdown", is_flag=True, help="Print the Markdown page docs/fields.md.")
@version_option
def fields(markdown: bool) -> None:
    """List the event fields that rules match on and --events writes."""
    if markdown:
        click.echo(catalog_markdown(), nl=False)
        return
    for spec in FIELDS:
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


cli.add_command(rules)
cli.add_command(findings)
cli.add_command(lists_group)
cli.add_command(alerts)
cli.add_command(mute)
cli.add_command(unmute)
cli.add_command(notify_group)
cli.add_command(setup)
cli.add_command(config_group)
cli.add_command(doctor)
cli.add_command(status)


def main() -> None:
    try:
        cli(prog_name="homeguard", obj=SystemClock())
    except HomeGuardError as exc:
        click.echo(f"homeguard: error: {exc}", err=True)
        sys.exit(1)
