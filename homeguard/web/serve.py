"""Serving the dashboard from `homeguard run`: on the capture interface's LAN address
(web_listen: auto), in a thread of its own with its own connections, so capture never
waits for a page; and, while no account exists, a one-time setup code in the journal so
that the first password is chosen in the browser, not in a terminal."""

from __future__ import annotations

import logging
import socket
from pathlib import Path

import psutil

from homeguard.clock import Clock
from homeguard.errors import ConfigError
from homeguard.settings import Config
from homeguard.store.database import open_existing_database
from homeguard.store.web import setup_code
from homeguard.web.security import check_listen
from homeguard.web.server import TlsFiles, WebServer

log = logging.getLogger("homeguard.web")
DEFAULT_PORT = 8780


def lan_address(interface: str) -> str | None:
    for address in psutil.net_if_addrs().get(interface, []):
        if address.family == socket.AF_INET:
            return str(address.address)
    return None


def listen_address(setting: str, interface: str) -> tuple[str, int] | None:
    """Where to serve: None for never; auto is the interface's LAN address, port 8780."""
    if setting == "never":
        return None
    if setting == "auto":
        return lan_address(interface) or "127.0.0.1", DEFAULT_PORT
    host, _, port = setting.rpartition(":")
    if not host or not port.isdigit():
        raise ConfigError(
            f"web_listen {setting!r}: write auto, never, or ADDR:PORT such as 192.168.1.10:8780"
        )
    return host.strip("[]"), int(port)


class Dashboard:
    """The dashboard's server thread; close() stops it."""

    def __init__(self, config: Config, db_path: Path, clock: Clock, interface: str) -> None:
        self.server: WebServer | None = None
        try:
            where = listen_address(config.values["web_listen"], interface)
        except ConfigError as exc:
            log.error("%s", exc)
            return
        if where is None:
            return
        from homeguard.web.app import create_app

        host, port = where
        try:
            check_listen(host, anywhere=False)
            tls = tls_files(config, host, db_path, clock)
            app = create_app(config, db_path, clock, secure_cookies=tls is not None)
            self.server = WebServer(app, host, port, tls)
        except (OSError, ConfigError) as exc:  # capture matters more than the page: go on without it
            log.error(
                "no dashboard on %s:%d: %s; set web_listen to a free LAN ADDR:PORT, or never", host, port, exc
            )
            return
        self.server.start()
        log.info("dashboard on %s", self.server.url)
        db = open_existing_database(db_path)
        try:
            code = setup_code(db, clock.time())
        finally:
            db.close()
        if code is not None:
            log.warning(
                "no dashboard account yet: open %ssetup and enter the setup code %s", self.server.url, code
            )

    def close(self) -> None:
        if self.server is not None:
            self.server.close()


def tls_files(config: Config, host: str, db_path: Path, clock: Clock) -> TlsFiles | None:
    """None without web_tls; else the household's own certificate, or a self-signed one
    kept beside the database (its fingerprint is logged, to check the browser's warning)."""
    if not config.values["web_tls"]:
        return None
    from homeguard.web.tls import check_files, fingerprint, self_signed

    files = check_files(config.values["web_tls_certificate"], config.values["web_tls_key"])
    if files is None:
        files = self_signed(db_path.parent, host, clock)
        log.info(
            "dashboard certificate (self-signed, %s): SHA-256 fingerprint %s; a browser warns about it "
            "once: check that its fingerprint is this one",
            files.certificate,
            fingerprint(files.certificate),
        )
    return files
