"""Commands for rules and findings: check, test, explain, and list findings."""

from __future__ import annotations

import difflib
import json
import sys
import time
from typing import Any

import click

from homeguard.cli.options import command_clock, config_option, version_option
from homeguard.decode.text import terminal_safe
from homeguard.errors import HomeGuardError
from homeguard.rules.configured import load_rules_for
from homeguard.rules.loader import RuleSet
from homeguard.settings import Config, load_config


@click.group()
@version_option
def rules() -> None:
    """Check, test and explain rules."""


@rules.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
@config_option
@version_option
def check(paths: tuple[str, ...], config_file: str | None) -> None:
    """Validate rule files and lists; report every error as file:line:col: message."""
    ruleset = _load_rules(load_config(config_file), paths)
    for error in ruleset.errors:
        click.echo(str(error))
    for skipped in ruleset.skipped_lines:
        click.echo(f"warning: {skipped}")
    count = len(ruleset.rules)
    click.echo(
        f"{count} rule(s) ok, {len(ruleset.errors)} error(s), "
        f"{sum(len(x) for x in ruleset.lists.values())} list entries",
        err=True,
    )
    if ruleset.errors:
        sys.exit(1)


@rules.command(name="test")
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
@config_option
@version_option
def test_rules(paths: tuple[str, ...], config_file: str | None) -> None:
    """Run the test cases embedded in rules, one line per rule."""
    from homeguard.rules.testing import run_rule_tests

    ruleset = _load_rules(load_config(config_file), paths)
    for error in ruleset.errors:
        click.echo(str(error))
    failed = 0
    for rule in sorted(ruleset.rules.values(), key=lambda r: r.id):
        results = run_rule_tests(rule)
        bad = [r for r in results if not r.passed]
        failed += len(bad)
        status = "ok  " if not bad and results else ("FAIL" if bad else "none")
        click.echo(f"{status} {rule.id}: {len(results) - len(bad)}/{len(results)} cases passed ({rule.path})")
        for result in bad:
            name = f" ({result.case.name})" if result.case.name else ""
            click.echo(f"     case at {rule.path}:{result.case.line}{name}")
            for line in result.detail:
                click.echo(f"       {line}")
    if failed or ruleset.errors:
        sys.exit(1)


@rules.command()
@click.argument("rule_id")
@click.option(
    "--event", "event_json", help='One event as JSON, such as \'{"type": "dns", "dns.query": "x.example"}\'.'
)
@click.option(
    "--capture", type=click.Path(exists=True, dir_okay=False), help="Explain every event of this capture."
)
@click.option("--all", "show_all", is_flag=True, help="With --capture: also the events that did not match.")
@config_option
@version_option
def explain(
    rule_id: str, event_json: str | None, capture: str | None, show_all: bool, config_file: str | None
) -> None:
    """Show, condition by condition, why events matched RULE_ID or not."""
    from homeguard.rules.conditions import suggest
    from homeguard.rules.explain import event_text
    from homeguard.rules.explain import explain as explain_rule

    if (event_json is None) == (capture is None):
        raise click.UsageError("give either --event JSON or --capture FILE")
    config = load_config(config_file)
    ruleset = _load_rules(config)
    rule = ruleset.rules.get(rule_id)
    if rule is None:
        raise HomeGuardError(f"no rule {rule_id!r}{suggest(rule_id, ruleset.rules)}")
    if event_json is not None:
        try:
            event = json.loads(event_json)
        except json.JSONDecodeError as exc:
            raise HomeGuardError(f"--event is not valid JSON: {exc}") from exc
        for line in explain_rule(rule, event):
            click.echo(line)
        return
    events = _capture_events(config, str(capture), rule.when)
    shown = 0
    for event in events:
        if show_all or rule.matches(event):
            click.echo(f"-- frame {event.get('capture.frame')}: {event_text(event)[:200]}")
            for line in explain_rule(rule, event):
                click.echo("   " + line)
            shown += 1
    click.echo(f"{shown} of {len(events)} {'/'.join(rule.when)} events shown", err=True)


def _capture_events(config: Config, capture: str, types: tuple[str, ...]) -> list[dict[str, Any]]:
    from homeguard import app
    from homeguard.events.wanted import TypedSink
    from homeguard.pipeline.replay import replay_files

    events: list[dict[str, Any]] = []
    household = app.build(config, command_clock(), store=False, rules=False, replay=True)
    household.pipeline.sinks = [TypedSink(events.append, frozenset(types))]
    household.pipeline.want_events()
    try:
        summary = replay_files(household.pipeline, [capture])
    finally:
        household.close()
    if summary.failed:
        raise HomeGuardError(summary.failed[0])
    return events


def _load_rules(config: Config, paths: tuple[str, ...] = ()) -> RuleSet:
    """The rules, checked against the fields of the shipped protocols and the plugins."""
    from homeguard.app import registry_for

    return load_rules_for(config, paths, catalog=registry_for(config).catalog)


SEVERITIES = ("info", "low", "medium", "high", "critical")


@click.command()
@click.option("--db", "db_path", help="The database to read. Default: see 'homeguard settings'.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.option("--since", help="Only findings seen in this long ago, such as 1d or 12h.")
@click.option("--severity", type=click.Choice(SEVERITIES), help="Only findings of at least this severity.")
@click.option("--category", help="Only this category, or a group such as 'privacy'.")
@version_option
def findings(
    db_path: str | None, as_json: bool, since: str | None, severity: str | None, category: str | None
) -> None:
    """List what the rules found, most recent first."""
    from homeguard.rules.durations import parse_duration
    from homeguard.store.database import database_path, open_existing_database
    from homeguard.store.queries import finding_listing

    try:
        after = command_clock().time() - parse_duration(since) if since else None
    except ValueError as exc:
        raise HomeGuardError(f"--since: {exc}") from exc
    if category is not None:
        _known_category(category)
    db = open_existing_database(database_path(None, db_path))
    rows = finding_listing(
        db, after=after, min_severity=SEVERITIES.index(severity) if severity else 0, category=category
    )
    db.close()
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        filters = [
            f"--{n} {v}" for n, v in (("since", since), ("severity", severity), ("category", category)) if v
        ]
        click.echo(f"no findings{' with ' + ' '.join(filters) if filters else ''}", err=True)
    for row in rows:
        seen = time.strftime("%Y-%m-%d %H:%M", time.localtime(row["last_seen"]))
        # a message holds names devices chose: escaped again for the terminal, for rows
        # written before names were made safe where they enter
        click.echo(f"[{row['severity']}] {seen}  {row['title']}  ({row['category']}, {row['count']}x)")
        click.echo(f"    {terminal_safe(row['message'] or '')}")


def _known_category(category: str) -> None:
    """A category of the taxonomy, or a group of them such as 'privacy'."""
    from homeguard.rules.taxonomy import CATEGORIES

    known = {*CATEGORIES, *(name.split(".")[0] for name in CATEGORIES)}
    if category not in known:
        close = difflib.get_close_matches(category, sorted(known), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise HomeGuardError(f"--category: no category {category!r}{hint} (all of them: docs/rules.md)")


@click.group(name="lists")
@version_option
def lists_group() -> None:
    """Threat and tracker lists maintained by others (see docs/lists.md)."""


@lists_group.command()
@config_option
@version_option
def update(config_file: str | None) -> None:
    """Fetch the threat_lists and tracker_lists URLs over HTTPS, check them, and swap them
    in; a failed or empty download keeps the last good copy. Exits 1 if any failed."""
    from homeguard.rules.feeds import lists_directory, update_lists

    config = load_config(config_file)
    lists_dir = lists_directory(config)
    results = update_lists(config, lists_dir, command_clock().time())
    for r in results:
        if r.updated:
            click.echo(f"ok    {r.list_name}: {r.url}: {r.entries} entries")
        else:
            kept = f"keeping the last good copy ({r.entries} entries)" if r.entries else "no copy yet"
            click.echo(f"FAIL  {r.list_name}: {r.url}: {r.problem}; {kept}")
    click.echo(f"lists in {lists_dir}; the running daemon picks them up within seconds", err=True)
    if any(not r.updated for r in results):
        sys.exit(1)
