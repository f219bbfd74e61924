"""`homeguard fleet`: central configuration for an IT department's sensors: make a key,
sign a bundle, fetch and apply it, and show the household what is configured and what
leaves the house (docs/fleet.md)."""

from __future__ import annotations

import time
from pathlib import Path

import click

from homeguard.cli.options import command_clock, config_option, version_option
from homeguard.errors import FleetError
from homeguard.settings import Config


@click.group(name="fleet")
@version_option
def fleet_group() -> None:
    """Bundles of rules and settings from an IT department, and what is exported."""


@fleet_group.command()
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@version_option
def keygen(folder: Path) -> None:
    """Make a signing key pair in FOLDER: homeguard-fleet.key (secret, no password, as
    minisign -W writes it) and homeguard-fleet.pub (for fleet_public_key)."""
    from homeguard.fleet.minisign import SecretKey

    folder.mkdir(parents=True, exist_ok=True)
    secret_path, public_path = folder / "homeguard-fleet.key", folder / "homeguard-fleet.pub"
    if secret_path.exists():
        raise FleetError(f"{secret_path} exists: keep it, or move it away first")
    secret = SecretKey.generate()
    secret_path.touch(mode=0o600)
    secret_path.write_text(secret.text())
    public_path.write_text(secret.public.text())
    click.echo(f"secret key: {secret_path} (keep it off the sensors)")
    click.echo(
        f"public key: {public_path}; on each sensor: fleet_public_key: {secret.public.text().split()[-1]}"
    )


@fleet_group.command()
@click.argument("source", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--bundle-version",
    "bundle_version",
    type=int,
    required=True,
    help="The bundle's version: higher than the last.",
)
@click.option(
    "--key", "key_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Where to write the bundle.",
)
@version_option
def sign(source: Path, bundle_version: int, key_path: Path, out: Path) -> None:
    """Bundle SOURCE (config.yaml, rules/*.yml, lists/*.txt) and sign it: OUT/bundle.tar and
    OUT/bundle.tar.minisig, to put on any static HTTPS server."""
    from homeguard.fleet.bundle import build, signed
    from homeguard.fleet.minisign import SecretKey

    secret = SecretKey.parse(key_path.read_text())
    data = build(source, bundle_version, time.time())
    out.mkdir(parents=True, exist_ok=True)
    (out / "bundle.tar").write_bytes(data)
    (out / "bundle.tar.minisig").write_text(signed(data, secret, bundle_version))
    made = out / "bundle.tar"
    click.echo(f"version {bundle_version}: {made} ({len(data):,} bytes), signed by {secret.public.id_text}")


@fleet_group.command()
@config_option
@version_option
def pull(config_file: str | None) -> None:
    """Fetch the bundle at fleet_url, verify its signature, apply it if newer, and tell a
    running HomeGuard (it takes the rules and settings up within seconds)."""
    from homeguard.fleet.pull import pull as fetch_and_apply
    from homeguard.settings import load_config

    config = load_config(config_file)
    try:
        pulled = fetch_and_apply(config)
    except FleetError as exc:
        raise FleetError(f"{exc}; the bundle in force stays") from None
    if pulled is None:
        click.echo("no fleet_url set: nothing to fetch")
        return
    if not pulled.applied:
        click.echo(f"version {pulled.version} is in force already")
        return
    _tell_the_daemon(config)
    click.echo(f"version {pulled.version} applied ({pulled.path})")


def _tell_the_daemon(config: Config) -> None:
    """Count a change the running daemon looks for (as the dashboard's): it reloads."""
    from homeguard.store.database import database_path, open_existing_database
    from homeguard.store.web import note_change

    path = database_path(config.values["db_path"])
    if path.exists():
        db = open_existing_database(path)
        try:
            note_change(db, command_clock().time())
        finally:
            db.close()


@fleet_group.command(name="status")
@config_option
@version_option
def fleet_status_command(config_file: str | None) -> None:
    """What the IT department configured on this sensor, and what leaves the house."""
    from homeguard.fleet.status import EXPORTED, NOT_EXPORTED, fleet_status
    from homeguard.settings import load_config

    status = fleet_status(load_config(config_file))
    if status.url is None and status.version is None and not status.exporting:
        click.echo("No IT department configures this sensor, and nothing is exported.")
        return
    click.echo(f"Bundles from: {status.url or '(none)'}, signed by key {status.key_id or '(none)'}")
    if status.version is not None:
        click.echo(
            f"In force: version {status.version}, made {status.created} ({status.signed or 'unsigned'})"
        )
        click.echo(
            f"  rules: {', '.join(status.rules) or 'none'}; lists: {', '.join(status.lists) or 'none'}"
        )
        for name, value in status.settings.items():
            click.echo(f"  setting {name}: {value}")
    click.echo(f"Work devices: {', '.join(status.work_devices) or 'none'}")
    if not status.exporting:
        click.echo("Nothing is exported.")
        return
    click.echo(f"Exported to: {'; '.join(status.outputs)}")
    click.echo("What leaves the house:")
    for line in EXPORTED:
        click.echo(f"  - {line}")
    click.echo("What never does:")
    for line in NOT_EXPORTED:
        click.echo(f"  - {line}")
