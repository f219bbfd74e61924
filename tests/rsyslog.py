"""A real rsyslog (Debian's rsyslogd with its openssl driver) receiving RFC 5425 syslog
over TLS on loopback, with a CA and a server certificate made for the test by openssl.
It writes each message as HOSTNAME|MSGID|MSG, one a line."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.receivers import free_port
from tests.tls import make_pki

CONFIG = """\
global(
  workDirectory="{work}"
  maxMessageSize="64k"
  DefaultNetstreamDriver="ossl"
  DefaultNetstreamDriverCAFile="{work}/ca.pem"
  DefaultNetstreamDriverCertFile="{work}/server.pem"
  DefaultNetstreamDriverKeyFile="{work}/server-key.pem"
)
module(load="imtcp" StreamDriver.Name="ossl" StreamDriver.Mode="1" StreamDriver.AuthMode="anon")
input(type="imtcp" port="{port}")
template(name="line" type="string" string="%hostname%|%msgid%|%msg%\\n")
action(type="omfile" file="{work}/received.log" template="line")
"""


class Rsyslog:
    def __init__(self, work: Path) -> None:
        if shutil.which("rsyslogd") is None or shutil.which("openssl") is None:
            reason = "rsyslogd and openssl are needed (apt-get install rsyslog rsyslog-openssl openssl)"
            if os.environ.get("HOMEGUARD_REQUIRE_SERVICES"):
                pytest.fail(reason)
            pytest.skip(reason)
        self.work = work
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.pki = make_pki(work)
        (work / "rsyslog.conf").write_text(CONFIG.format(work=work, port=self.port))
        self.received = work / "received.log"

    @property
    def ca(self) -> Path:
        return self.pki.ca

    def start(self) -> None:
        log = (self.work / "rsyslogd.log").open("a")
        self.proc = subprocess.Popen(
            ["rsyslogd", "-n", "-f", str(self.work / "rsyslog.conf"), "-i", str(self.work / "rsyslogd.pid")],
            stdout=log,
            stderr=log,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, (self.work / "rsyslogd.log").read_text()
            try:
                import socket

                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.1)
        raise AssertionError("rsyslogd did not listen within 10 s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=10)
        self.proc = None

    def lines(self) -> list[tuple[str, str, str]]:
        """(hostname, msgid, message) for each message received so far."""
        if not self.received.exists():
            return []
        out = []
        for line in self.received.read_text().splitlines():
            host, msgid, body = line.split("|", 2)
            out.append((host, msgid, body.lstrip()))
        return out

    def wait_for(self, condition: object, what: str, timeout: float = 45.0) -> list[tuple[str, str, str]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            lines = self.lines()
            if condition(lines):  # type: ignore[operator]
                return lines
            time.sleep(0.2)
        raise AssertionError(f"timed out after {timeout} s waiting for {what}; got {len(self.lines())} lines")
