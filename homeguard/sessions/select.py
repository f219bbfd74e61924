"""Which analyzer reads a connection: by its first bytes where they are telling (TLS,
HTTP, SSH, MQTT), else by the server's port."""

from __future__ import annotations

from homeguard.decode.dns import PORT_DNS
from homeguard.decode.http import looks_like_request, looks_like_response
from homeguard.decode.mqtt import is_connect
from homeguard.sessions.base import Analyzer
from homeguard.sessions.binary import Mqtt, Smb
from homeguard.sessions.credentials import DefaultCredentials
from homeguard.sessions.dnstcp import DnsTcp
from homeguard.sessions.http import Http
from homeguard.sessions.textproto import Ftp, Imap, Pop3, Smtp, Ssh, Telnet
from homeguard.sessions.tls import Tls, looks_like_tls

BY_PORT: dict[int, type[Ftp | Telnet | Smtp | Pop3 | Imap | Ssh | Mqtt | Smb]] = {
    21: Ftp,
    23: Telnet,
    2323: Telnet,
    25: Smtp,
    587: Smtp,
    110: Pop3,
    143: Imap,
    22: Ssh,
    1883: Mqtt,
    139: Smb,
    445: Smb,
}


def analyzer_for(
    server_port: int, payload: bytes, from_client: bool, defaults: DefaultCredentials
) -> Analyzer | None:
    if server_port == PORT_DNS:
        return DnsTcp()
    if looks_like_tls(payload):
        return Tls()
    if (from_client and looks_like_request(payload)) or (not from_client and looks_like_response(payload)):
        return Http(defaults)
    if payload.startswith(b"SSH-"):
        return Ssh(defaults)
    if from_client and is_connect(payload):
        return Mqtt(defaults)
    chosen = BY_PORT.get(server_port) or (None if from_client else server_greeting(payload))
    return None if chosen is None else chosen(defaults)


def server_greeting(payload: bytes) -> type[Ftp | Smtp | Pop3 | Imap | Telnet] | None:
    """Servers that speak first say who they are, whatever port they listen on."""
    head = payload[:128]
    if head.startswith(b"220"):
        return Smtp if b"SMTP" in head.upper() else Ftp if b"FTP" in head.upper() else None
    if head.startswith(b"+OK"):
        return Pop3
    if head.startswith(b"* OK"):
        return Imap
    if (head[:1] == b"\xff" and head[1:2] in (b"\xfb", b"\xfd")) or head.rstrip().lower().endswith(b"login:"):
        return Telnet
    return None
