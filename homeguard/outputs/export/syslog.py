"""Syslog to an IT department's relay or SIEM: RFC 5424 messages, over TLS (RFC 5425,
octet-counted framing), plain TCP (the same framing, RFC 6587) or UDP (RFC 5426, one
message a datagram).

The standard has no acknowledgements, so the sender (sender.py) treats a message as
delivered only once the connection is seen alive a while after it was written; a
connection the server closed means the recent messages go again (same event.id).
"""

from __future__ import annotations

import contextlib
import datetime
import select
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from homeguard.errors import ConfigError

FACILITY_LOCAL0 = 16
# RFC 5424 severities: 2 critical, 3 error, 4 warning, 5 notice, 6 informational
SYSLOG_SEVERITY = {"critical": 2, "high": 3, "medium": 4, "low": 5, "info": 6}
SCHEMES = {"tls": 6514, "tcp": 601, "udp": 514}
CONNECT_TIMEOUT = 5.0
MAX_UDP = 8192  # larger datagrams are cut by relays; a longer message goes anyway, and is logged


@dataclass(frozen=True, slots=True)
class Destination:
    scheme: str
    host: str
    port: int

    @classmethod
    def parse(cls, url: str) -> Destination:
        parts = urlsplit(url)
        if parts.scheme not in SCHEMES or not parts.hostname:
            raise ConfigError(
                f"export_syslog {url!r}: write tls://HOST:PORT, tcp://HOST:PORT or udp://HOST:PORT, "
                "such as tls://siem.example.org:6514"
            )
        return cls(parts.scheme, parts.hostname, parts.port or SCHEMES[parts.scheme])

    def __str__(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"


def message(body: str, severity: str, hostname: str, msgid: str, ts: float) -> bytes:
    """One RFC 5424 message: <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD MSG."""
    pri = FACILITY_LOCAL0 * 8 + SYSLOG_SEVERITY.get(severity, 6)
    stamp = datetime.datetime.fromtimestamp(ts, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    host = "".join(c for c in hostname if 33 <= ord(c) <= 126)[:255] or "-"  # PRINTUSASCII only
    return f"<{pri}>1 {stamp} {host} homeguard - {msgid} - {body}".encode()


def framed(payload: bytes) -> bytes:
    """Octet counting (RFC 5425 section 4.3): the length, a space, the message."""
    return str(len(payload)).encode() + b" " + payload


class Connection:
    """One connection to the destination; raises OSError when it cannot be made or used."""

    def __init__(self, destination: Destination, ca_file: str | None = None) -> None:
        self.destination = destination
        self.stream = destination.scheme != "udp"
        if not self.stream:
            self.sock: socket.socket = socket.socket(_family(destination.host), socket.SOCK_DGRAM)
            self.sock.connect((destination.host, destination.port))
            return
        raw = socket.create_connection((destination.host, destination.port), timeout=CONNECT_TIMEOUT)
        if destination.scheme == "tls":
            context = ssl.create_default_context(cafile=ca_file)
            context.minimum_version = ssl.TLSVersion.TLSv1_2
            try:
                raw = context.wrap_socket(raw, server_hostname=destination.host)
            except (OSError, ssl.SSLError):
                raw.close()
                raise
        raw.settimeout(CONNECT_TIMEOUT)
        self.sock = raw

    def send(self, payload: bytes) -> None:
        if self.stream:
            self.sock.sendall(framed(payload))
        else:
            self.sock.send(payload)

    def closed_by_peer(self) -> bool:
        """True when the server has closed or reset the connection. A syslog server sends
        no data; over TLS 1.3 it does send session tickets, which a non-blocking read
        takes in without returning anything."""
        if not self.stream:
            return False
        try:
            readable, _, _ = select.select([self.sock], [], [], 0)
            if not readable:
                return False
            self.sock.setblocking(False)
            try:
                return self.sock.recv(1) == b""
            finally:
                self.sock.settimeout(CONNECT_TIMEOUT)
        except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError):
            return False  # nothing to read after all (a ticket, a renegotiation)
        except (OSError, ValueError):
            return True

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET
