"""`homeguard web`: the dashboard (homeguard/web/), and `homeguard web passwd` to set its
password."""

from __future__ import annotations

import contextlib
import sys

import click

from homeguard.cli.options import command_clock, config_option, version_option
from homeguard.errors import ConfigError

DEFAULT_LISTEN = "127.0.0.1:8780"


@click.group(invoke_without_command=True)
@click.option(
    "--listen",
    default=DEFAULT_LISTEN,
    show_default=True,
    help="ADDR:PORT to serve on: loopback or a LAN address (the machine's address on the household network).",
)
@click.option(
    "--any-address", is_flag=True, help="Allow an address outside the LAN, or every address (0.0.0.0)."
)
@click.option(
    "--tls",
    is_flag=True,
    help="Serve over HTTPS (as the web_tls setting): your certificate if set, else a self-signed one.",
)
@click.option("--db", "db_path", help="The database. Default: see 'homeguard settings'.")
@config_option
@version_option
@click.pass_context
def web(
    ctx: click.Context,
    listen: str,
    any_address: bool,
    tls: bool,
    db_path: str | None,
    config_file: str | None,
) -> None:
    """Serve the dashboard: devices, findings and where the household's data goes."""
    ctx.meta["homeguard.web"] = (db_path, config_file)
    if ctx.invoked_subcommand is not None:
        return
    from homeguard.settings import load_config
    from homeguard.store.database import database_path, open_existing_database
    from homeguard.web.app import create_app
    from homeguard.web.security import check_listen
    from homeguard.web.serve import tls_files
    from homeguard.web.server import WebServer

    host, _, port = listen.rpartition(":")
    host = host.strip("[]")
    if not host or not port.isdigit():
        raise ConfigError(f"--listen {listen!r}: write it as ADDR:PORT, such as 192.168.1.10:8780")
    check_listen(host, any_address)
    config = load_config(config_file, {"db_path": db_path, "web_tls": tls or None})
    path = database_path(config.values["db_path"])
    open_existing_database(path).close()  # a clear error now rather than on the first page
    clock = command_clock()
    files = tls_files(config, host, path, clock)
    app = create_app(config, path, clock, secure_cookies=files is not None)
    server = WebServer(app, host, int(port), files)
    click.echo(f"HomeGuard's dashboard on {server.url} (Ctrl-C stops it)", err=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve()


@web.command()
@click.option("--user", default="admin", show_default=True, help="The account to set.")
@click.option("--viewer", is_flag=True, help="A read-only account, for the rest of the household.")
@version_option
@click.pass_context
def passwd(ctx: click.Context, user: str, viewer: bool) -> None:
    """Set a dashboard password, read from standard input (never from the command line)."""
    from homeguard.settings import load_config
    from homeguard.store.database import database_path, open_database
    from homeguard.store.web import set_user
    from homeguard.web.security import hash_password

    db_path, config_file = ctx.meta["homeguard.web"]
    password = sys.stdin.readline().rstrip("\n")
    if len(password) < 10:
        raise ConfigError("the password must have 10 characters or more (type it, then Enter)")
    config = load_config(config_file, {"db_path": db_path})
    db = open_database(database_path(config.values["db_path"]))
    set_user(db, user, "viewer" if viewer else "admin", hash_password(password), command_clock().time())
    db.close()
    click.echo(f"password set for {user!r} ({'viewer' if viewer else 'admin'}); old sessions ended", err=True)
