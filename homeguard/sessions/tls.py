"""The TLS handshake of a connection: the client's hello, the server's answer, and
(TLS 1.2 and older, where it is not encrypted) the server's certificate."""

from __future__ import annotations

import struct
from typing import Any

from homeguard.decode.tls import (
    CERTIFICATE,
    CHANGE_CIPHER_SPEC,
    CLIENT_HELLO,
    HANDSHAKE,
    SERVER_HELLO,
    VERSION_NAMES,
    ClientHello,
    first_certificate,
    is_sslv2_client_hello,
    parse_client_hello,
    parse_server_hello,
    parse_sslv2_client_hello,
    version_text,
)
from homeguard.decode.x509 import parse_certificate
from homeguard.errors import DecodeError
from homeguard.sessions.base import Emitted

MAX_HANDSHAKE = 65536
# RFC 8446 4.1.3: a ServerHello with this random is a HelloRetryRequest.
HELLO_RETRY_RANDOM = bytes.fromhex("cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c")


def looks_like_tls(data: bytes) -> bool:
    record = len(data) >= 6 and data[0] == HANDSHAKE and data[1] == 3 and data[2] <= 4 and data[5] in (1, 2)
    return record or is_sslv2_client_hello(data)


class TlsSide:
    def __init__(self) -> None:
        self.records = b""
        self.handshake = b""
        self.finished = False


class Tls:
    def __init__(self) -> None:
        self.client = TlsSide()
        self.server = TlsSide()
        self.sni: str | None = None
        self.retry = False  # the server asked for a second ClientHello (HelloRetryRequest)

    @property
    def done(self) -> bool:
        return self.client.finished and self.server.finished

    def feed(self, from_client: bool, data: bytes | None) -> Emitted:
        side = self.client if from_client else self.server
        if side.finished:
            return []
        if data is None:
            side.finished = True
            return []
        side.records += data
        out: Emitted = []
        if from_client and is_sslv2_client_hello(side.records):
            try:
                hello = parse_sslv2_client_hello(side.records)
            except DecodeError:
                return []  # wait for the rest
            side.finished = True
            return [
                (
                    "tls_client_hello",
                    {
                        "tls.version": version_text(hello.version),
                        "tls.ciphers": [f"0x{c:06x}" for c in hello.ciphers],
                        "tls.sslv2_format": True,
                    },
                )
            ]
        try:
            self._records(side, from_client, out)
        except DecodeError:
            side.finished = True
        return out

    def _records(self, side: TlsSide, from_client: bool, out: Emitted) -> None:
        while len(side.records) >= 5 and not side.finished:
            content_type, _version, length = struct.unpack_from("!BHH", side.records, 0)
            if len(side.records) < 5 + length:
                return
            fragment, side.records = side.records[5 : 5 + length], side.records[5 + length :]
            if content_type == CHANGE_CIPHER_SPEC and self.retry:
                continue  # TLS 1.3 compatibility mode sends one before the second ClientHello
            if content_type != HANDSHAKE:  # alerts, data, a real ChangeCipherSpec: readable part over
                side.finished = True
                return
            side.handshake += fragment
            if len(side.handshake) > MAX_HANDSHAKE:
                raise DecodeError("TLS handshake larger than we read")
            self._messages(side, from_client, out)

    def _messages(self, side: TlsSide, from_client: bool, out: Emitted) -> None:
        while len(side.handshake) >= 4 and not side.finished:
            kind = side.handshake[0]
            length = int.from_bytes(side.handshake[1:4], "big")
            if len(side.handshake) < 4 + length:
                return
            body, side.handshake = side.handshake[4 : 4 + length], side.handshake[4 + length :]
            if from_client and kind == CLIENT_HELLO:
                out.append(("tls_client_hello", self._client_hello(body)))
                side.finished = not self.retry
                self.retry = False
            elif not from_client and kind == SERVER_HELLO:
                fields = self._server_hello(body)
                out.append(("tls_server_hello", fields))
                if body[2:34] == HELLO_RETRY_RANDOM:  # HelloRetryRequest: a second ClientHello comes
                    self.retry = True
                    self.client.finished = False
                elif (
                    fields["tls.negotiated_version"] == "0x0304"
                    or fields["tls.negotiated_version"][:4] == "0x7f"
                ):
                    side.finished = True  # TLS 1.3 encrypts the rest, the certificate included
            elif not from_client and kind == CERTIFICATE:
                out.append(("tls_certificate", self._certificate(body)))
                side.finished = True

    def _client_hello(self, body: bytes) -> dict[str, Any]:
        hello = parse_client_hello(body)
        self.sni = hello.sni
        return client_hello_fields(hello)

    def _server_hello(self, body: bytes) -> dict[str, Any]:
        hello = parse_server_hello(body)
        fields: dict[str, Any] = {
            "tls.version": version_text(hello.version),
            "tls.negotiated_version": version_text(hello.negotiated),
            "tls.negotiated_name": VERSION_NAMES.get(hello.negotiated, version_text(hello.negotiated)),
            "tls.cipher": f"0x{hello.cipher:04x}",
        }
        if hello.selected_version is not None:
            fields["tls.selected_version"] = version_text(hello.selected_version)
        if self.sni:
            fields["tls.sni"] = self.sni
        return fields

    def _certificate(self, body: bytes) -> dict[str, Any]:
        cert = parse_certificate(first_certificate(body))
        fields: dict[str, Any] = {
            "tls.cert_subject": cert.subject[:256],
            "tls.cert_issuer": cert.issuer[:256],
            "tls.cert_self_signed": cert.self_signed,
        }
        if cert.not_before is not None:
            fields["tls.cert_not_before"] = cert.not_before
        if cert.not_after is not None:
            fields["tls.cert_not_after"] = cert.not_after
        if self.sni:
            fields["tls.sni"] = self.sni
        return fields


def client_hello_fields(hello: ClientHello, transport: str = "t") -> dict[str, Any]:
    """A ClientHello's event fields, over TCP (JA4 "t") or QUIC ("q")."""
    fields: dict[str, Any] = {
        "tls.version": version_text(hello.version),
        "tls.supported_versions": [version_text(v) for v in hello.supported_versions],
        "tls.ciphers": [f"0x{c:04x}" for c in hello.ciphers],
        "tls.alpn": hello.alpn,
        "tls.ja3": hello.ja3(),
        "tls.ja4": hello.ja4(transport),
        "tls.client_max_name": VERSION_NAMES.get(hello.max_version, version_text(hello.max_version)),
    }
    if hello.sni:
        fields["tls.sni"] = hello.sni
    return fields
