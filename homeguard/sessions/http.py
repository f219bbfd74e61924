"""HTTP/1.x on any port: requests and responses, logins in them, personal data in
URIs and headers, and UPnP port mappings asked for over SOAP."""

from __future__ import annotations

from typing import Any

from homeguard.decode.http import (
    MAX_HEAD,
    HttpHead,
    authorization_login,
    form_login,
    looks_like_request,
    looks_like_response,
    parse_head,
)
from homeguard.decode.pii import redact, scan
from homeguard.decode.portmap import parse_soap_port_mapping
from homeguard.errors import DecodeError
from homeguard.sessions.base import Emitted
from homeguard.sessions.credentials import DefaultCredentials, auth_fields

MAX_BODY = 8192  # bytes of a request body read for form logins and SOAP
NOT_SCANNED = frozenset({"authorization", "proxy-authorization", "content-length"})


class HttpSide:
    """One direction: heads, and bodies skipped by Content-Length."""

    def __init__(self) -> None:
        self.buf = b""
        self.head: HttpHead | None = None
        self.body_left = 0
        self.body = b""
        self.stopped = False  # a body we cannot delimit (chunked, or until close)


class Http:
    def __init__(self, defaults: DefaultCredentials) -> None:
        self.defaults = defaults
        self.client = HttpSide()
        self.server = HttpSide()
        self.connect_requested = False
        self.starts_tls = False  # after CONNECT and 200, a tunnel: usually TLS

    @property
    def done(self) -> bool:
        return self.client.stopped and self.server.stopped

    def feed(self, from_client: bool, data: bytes | None) -> Emitted:
        side = self.client if from_client else self.server
        if data is None:  # lost bytes: we cannot tell where the next message starts
            side.stopped = True
            return []
        if side.stopped:
            return []
        side.buf += data
        out: Emitted = []
        while not side.stopped and side.buf:
            progress = self._step(side, from_client, out)
            if not progress:
                break
        return out

    def _step(self, side: HttpSide, from_client: bool, out: Emitted) -> bool:
        if side.head is None:
            if not (looks_like_request(side.buf) if from_client else looks_like_response(side.buf)):
                side.stopped = len(side.buf) >= 16 or not side.buf[:1].isalpha()
                return False
            end = side.buf.find(b"\r\n\r\n")
            sep = 4
            if end < 0:
                end, sep = side.buf.find(b"\n\n"), 2
            if end < 0:
                side.stopped = len(side.buf) > MAX_HEAD
                return False
            try:
                side.head = parse_head(side.buf[:end])
            except DecodeError:
                side.stopped = True
                return False
            side.buf = side.buf[end + sep :]
            side.body_left, side.stopped = self._body_length(side.head, from_client)
            side.body = b""
        take = min(side.body_left, len(side.buf))
        if from_client and len(side.body) < MAX_BODY:
            side.body += side.buf[: min(take, MAX_BODY - len(side.body))]
        side.buf = side.buf[take:]
        side.body_left -= take
        if side.body_left and not side.stopped:
            return False
        out += self._message(side.head, side.body, from_client)
        side.head = None
        return True

    @staticmethod
    def _body_length(head: HttpHead, from_client: bool) -> tuple[int, bool]:
        if "chunked" in (head.header("transfer-encoding") or "").lower():
            return 0, True
        length = head.header("content-length")
        if length is not None:
            try:
                return max(0, int(length.split(",")[0])), False
            except ValueError:
                return 0, True
        if from_client or head.status in (204, 304) or 100 <= head.status < 200:
            return 0, False
        return 0, True  # a response body that lasts until the connection closes

    def _message(self, head: HttpHead, body: bytes, from_client: bool) -> Emitted:
        if from_client and head.method == "CONNECT":
            self.connect_requested = True
        elif self.connect_requested and 200 <= head.status < 300:
            self.starts_tls = True
        if not from_client:
            fields: dict[str, Any] = {"http.is_response": True, "http.status": head.status}
            if head.header("server"):
                fields["http.server"] = head.headers["server"][:256]
            return [("http", fields)]
        host = head.header("host") or ""
        # Personal data never stays in a stored field: it is redacted where it is found.
        fields = {"http.is_response": False, "http.method": head.method, "http.uri": redact(head.uri[:2048])}
        for header, name in (
            ("host", "http.host"),
            ("user-agent", "http.user_agent"),
            ("content-type", "http.content_type"),
        ):
            if head.header(header):
                fields[name] = redact(head.headers[header][:512])
        out: Emitted = [("http", fields)]
        out += self._logins(head, body, fields)
        out += self._personal_data(head, host)
        soap = head.header("soapaction")
        if soap:
            mapping = parse_soap_port_mapping(soap, body)
            if mapping is not None:
                out.append(("port_mapping", mapping_fields(mapping)))
        return out

    def _logins(self, head: HttpHead, body: bytes, fields: dict[str, Any]) -> Emitted:
        out: Emitted = []
        authorization = head.header("authorization")
        if authorization:
            fields["http.authorization"] = authorization.split(" ", 1)[0]
            login = authorization_login(authorization)
            if login is not None:
                method = "Basic" if login.scheme == "basic" else "Digest"
                seen = login.scheme == "basic" and login.password is not None
                out.append(
                    (
                        "auth",
                        auth_fields(
                            self.defaults, "http", method, login.username, login.password, password_seen=seen
                        ),
                    )
                )
        if head.method == "POST" and "urlencoded" in (head.header("content-type") or "") and body:
            form = form_login(body)
            if form is not None:
                out.append(("auth", auth_fields(self.defaults, "http", "form", form.username, form.password)))
        return out

    @staticmethod
    def _personal_data(head: HttpHead, host: str) -> Emitted:
        out: Emitted = []
        places = [("uri", head.uri)] + [
            (f"header:{k}", v) for k, v in head.headers.items() if k not in NOT_SCANNED
        ]
        for where, text in places:
            for item in scan(text):
                out.append(
                    (
                        "pii",
                        {
                            "pii.kind": item.kind,
                            "pii.sample": item.sample,
                            "pii.location": where,
                            "pii.host": host,
                        },
                    )
                )
        return out[:5]


def mapping_fields(mapping: Any) -> dict[str, Any]:
    fields = {
        "mapping.method": mapping.method,
        "mapping.action": mapping.action,
        "mapping.protocol": mapping.protocol,
        "mapping.internal_port": mapping.internal_port,
        "mapping.external_port": mapping.external_port,
    }
    for name in ("lifetime", "internal_client", "description"):
        value = getattr(mapping, name)
        if value is not None:
            fields[f"mapping.{name}"] = value
    return fields
