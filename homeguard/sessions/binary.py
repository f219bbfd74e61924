"""Binary protocols read from their first client message: MQTT CONNECT and the SMB
dialect negotiation."""

from __future__ import annotations

from typing import Any

from homeguard.decode.mqtt import parse_connect
from homeguard.decode.smb import parse_negotiate
from homeguard.errors import DecodeError
from homeguard.sessions.base import Emitted
from homeguard.sessions.credentials import DefaultCredentials, auth_fields


class FirstClientMessage:
    """Collects the client's first bytes, up to `wanted`, then reads them once."""

    wanted = 4096

    def __init__(self, defaults: DefaultCredentials) -> None:
        self.defaults = defaults
        self.buf = b""
        self.done = False

    def feed(self, from_client: bool, data: bytes | None) -> Emitted:
        if not from_client:
            return []
        if data is None:
            self.done = True
            return []
        self.buf += data
        try:
            out = self.read(self.buf)
        except DecodeError:
            if len(self.buf) >= self.wanted:
                self.done = True
            return []
        self.done = True
        return out

    def read(self, data: bytes) -> Emitted:
        raise NotImplementedError


class Mqtt(FirstClientMessage):
    def read(self, data: bytes) -> Emitted:
        connect = parse_connect(data)
        fields: dict[str, Any] = {
            "mqtt.client_id": connect.client_id[:128],
            "mqtt.protocol_level": connect.protocol_level,
        }
        out: Emitted = [("mqtt", fields)]
        if connect.username is not None or connect.password is not None:
            out.append(
                ("auth", auth_fields(self.defaults, "mqtt", "CONNECT", connect.username, connect.password))
            )
        return out


class Smb(FirstClientMessage):
    def read(self, data: bytes) -> Emitted:
        negotiated = parse_negotiate(data)
        if negotiated is None:
            return []
        version, dialects = negotiated
        return [("smb", {"smb.version": version, "smb.dialects": dialects[:16]})]
