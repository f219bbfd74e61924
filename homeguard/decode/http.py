"""HTTP/1.x message heads, logins in them, and form posts that carry passwords."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from homeguard.decode.text import TEXT_LIMIT, network_text
from homeguard.errors import DecodeError

METHODS = frozenset(
    b"GET POST PUT DELETE HEAD OPTIONS PATCH CONNECT TRACE SUBSCRIBE UNSUBSCRIBE NOTIFY M-SEARCH "
    b"PROPFIND PROPPATCH MKCOL COPY MOVE LOCK UNLOCK".split()
)
MAX_HEAD = 8192
PASSWORD_FIELDS = re.compile(
    r"^(pass|passwd|password|pwd|pw|passphrase|secret|pin|wachtwoord)$|password", re.I
)
USER_FIELDS = re.compile(r"^(user|username|login|email|e-mail|userid|user_id|account|name|uname)$", re.I)
_DIGEST_USER = re.compile(r'username="?([^",]*)"?', re.I)


@dataclass(slots=True)
class HttpHead:
    is_response: bool
    method: str = ""
    uri: str = ""
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names; repeats joined with ", "

    def header(self, name: str) -> str | None:
        return self.headers.get(name)


def looks_like_request(data: bytes) -> bool:
    word = data[:12].split(b" ", 1)[0]
    return word in METHODS and b" " in data[:12]


def looks_like_response(data: bytes) -> bool:
    return data.startswith((b"HTTP/1.", b"HTTP/2 "))


METHOD_LIMIT = 32
# What network_text would escape, besides the line breaks that end header lines.
_ACTING = re.compile(r"[\x00-\x09\x0b\x0c\x0e-\x1f\x7f]")
URI_LIMIT = 4096  # long query strings are common (trackers, CDNs); a head is at most MAX_HEAD


def _text(value: str, limit: int = TEXT_LIMIT) -> str:
    """A header value or URI: split as latin-1, made safe as the UTF-8 it usually is."""
    if value.isascii() and value.isprintable() and len(value) <= limit:
        return value  # nearly every header: no round trip through bytes
    return network_text(value.encode("latin-1"), limit)


def parse_head(head: bytes) -> HttpHead:
    """A request or response head: the start line and headers, without the blank line."""
    text = head.decode("latin-1")
    # One look at the whole head: printable ASCII (nearly every head) needs no escaping
    # header by header, only the length caps.
    crlf = "\r\n" in text
    lines = text.split("\r\n") if crlf else text.split("\n")
    breaks = len(lines) - 1  # every CR and LF must be one of these line ends
    plain = (
        text.isascii()
        and _ACTING.search(text) is None
        and text.count("\n") == breaks
        and text.count("\r") == (breaks if crlf else 0)
    )
    start = lines[0].split(" ", 2)
    if len(start) < 2:
        raise DecodeError(f"not an HTTP start line: {lines[0][:40]!r}")
    if start[0].startswith("HTTP/"):
        try:
            message = HttpHead(True, status=int(start[1]))
        except ValueError as exc:
            raise DecodeError(f"HTTP status {start[1][:10]!r} is not a number") from exc
    else:
        method, uri = start[0], start[1]
        if not plain or len(method) > METHOD_LIMIT or len(uri) > URI_LIMIT:
            method, uri = _text(method, METHOD_LIMIT), _text(uri, URI_LIMIT)
        message = HttpHead(False, method=method, uri=uri)
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep and name and " " not in name:
            key = name.strip().lower()
            value = value.strip()
            if not plain or len(value) > TEXT_LIMIT:
                value = _text(value)
            message.headers[key] = f"{message.headers[key]}, {value}" if key in message.headers else value
    return message


@dataclass(slots=True, frozen=True)
class HttpLogin:
    scheme: str  # basic, digest, form
    username: str | None
    password: str | None  # held only to compare with known defaults, then dropped


def authorization_login(value: str) -> HttpLogin | None:
    scheme, _, credentials = value.strip().partition(" ")
    scheme = scheme.lower()
    if scheme == "basic":
        try:
            decoded = base64.b64decode(credentials.strip(), validate=False).decode("utf-8", "replace")
        except (binascii.Error, ValueError):
            return HttpLogin("basic", None, None)
        user, sep, password = decoded.partition(":")
        return HttpLogin("basic", network_text(user), password if sep else None)
    if scheme == "digest":
        match = _DIGEST_USER.search(credentials)
        return HttpLogin("digest", network_text(match.group(1)) if match else None, None)
    return None


def form_login(body: bytes) -> HttpLogin | None:
    """A urlencoded form with a password-like field."""
    try:
        pairs = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True, max_num_fields=100)
    except ValueError:
        return None
    password = next((v for k, v in pairs if PASSWORD_FIELDS.search(k)), None)
    if password is None:
        return None
    user = next((network_text(v) for k, v in pairs if USER_FIELDS.match(k)), None)
    return HttpLogin("form", user, password)
