"""Line-based protocols with logins in clear text: FTP, POP3, IMAP, SMTP, telnet, and
the greetings (banners) of those servers and of SSH."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from homeguard.decode.text import network_text
from homeguard.sessions.base import MAX_LINE, Emitted, Lines
from homeguard.sessions.credentials import DefaultCredentials, auth_fields

REDACTED = "<redacted>"
_IMAP_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|\S+')


def _text(line: bytes) -> str:
    """A line from the network, made safe (decode/text.py); as long as a line may be."""
    return network_text(line, MAX_LINE)


def _b64(text: str) -> str | None:
    try:
        return base64.b64decode(text.strip(), validate=True).decode("utf-8", "replace")
    except (binascii.Error, ValueError):
        return None


def _unquote(token: str) -> str:
    return token[1:-1].replace('\\"', '"').replace("\\\\", "\\") if token.startswith('"') else token


def _plain(defaults: DefaultCredentials, protocol: str, encoded: str) -> dict[str, Any] | None:
    """SASL PLAIN: base64 of authzid NUL user NUL password."""
    decoded = _b64(encoded)
    if decoded is None or decoded.count("\0") != 2:
        return None
    _authzid, user, password = decoded.split("\0")
    return auth_fields(defaults, protocol, "AUTH PLAIN", user, password)


class LineProtocol:
    """Two line streams; subclasses read client and server lines."""

    protocol = ""
    control_channel = True
    starts_tls = False  # set when the session switches to TLS (the Session then reads TLS)

    def __init__(self, defaults: DefaultCredentials) -> None:
        self.defaults = defaults
        self.client_lines = Lines()
        self.server_lines = Lines()
        self.done = False
        self.greeted = False
        self.awaiting_plain = False

    def feed(self, from_client: bool, data: bytes | None) -> Emitted:
        out: Emitted = []
        if from_client:
            for line in self.client_lines.feed(data):
                if self.awaiting_plain:  # the SASL PLAIN response, on its own line after AUTH
                    self.awaiting_plain = False
                    plain = _plain(self.defaults, self.protocol, _text(line))
                    out += [("auth", plain)] if plain else []
                else:
                    out += self.client_line(line)
        else:
            for line in self.server_lines.feed(data):
                out += self.server_line(line)
        return out

    def banner(self, line: bytes) -> Emitted:
        if self.greeted:
            return []
        self.greeted = True
        return [("banner", {"banner.protocol": self.protocol, "banner.text": _text(line)[:256]})]

    def client_line(self, line: bytes) -> Emitted:
        return []

    def server_line(self, line: bytes) -> Emitted:
        return self.banner(line)


class Ftp(LineProtocol):
    protocol = "ftp"

    def __init__(self, defaults: DefaultCredentials) -> None:
        super().__init__(defaults)
        self.user: str | None = None
        self.tls_requested = False

    def client_line(self, line: bytes) -> Emitted:
        command, _, arg = _text(line).partition(" ")
        command = command.upper()
        if not command.isalpha() or len(command) > 8:
            return []
        fields: dict[str, Any] = {"ftp.command": command}
        if command == "PASS":
            return [("ftp", fields), ("auth", auth_fields(self.defaults, "ftp", "USER/PASS", self.user, arg))]
        fields["ftp.arg"] = arg
        if command == "USER":
            self.user = arg
        elif command == "AUTH":
            self.tls_requested = True
        return [("ftp", fields)]

    def server_line(self, line: bytes) -> Emitted:
        if self.tls_requested and line.startswith(b"234"):
            self.starts_tls = True  # the rest is a TLS handshake, then encrypted
        return self.banner(line) if line[:3] == b"220" else []


class Pop3(LineProtocol):
    protocol = "pop3"

    def __init__(self, defaults: DefaultCredentials) -> None:
        super().__init__(defaults)
        self.user: str | None = None
        self.tls_requested = False

    def client_line(self, line: bytes) -> Emitted:
        text = _text(line)
        command, _, arg = text.partition(" ")
        command = command.upper()
        if not command.isalpha() or len(command) > 8:
            return []
        fields: dict[str, Any] = {"pop3.command": command}
        out: Emitted = [("pop3", fields)]
        if command == "PASS":
            out.append(("auth", auth_fields(self.defaults, "pop3", "USER/PASS", self.user, arg)))
            return out
        fields["pop3.arg"] = arg
        if command == "USER":
            self.user = arg
        elif command == "APOP":  # a digest, not the password: the user name is still in clear
            user = arg.split(" ", 1)[0]
            out.append(("auth", auth_fields(self.defaults, "pop3", "APOP", user, None)))
        elif command == "AUTH" and arg.upper().startswith("PLAIN"):
            fields["pop3.arg"] = "PLAIN"
            initial = arg[5:].strip()
            if initial:
                plain = _plain(self.defaults, "pop3", initial)
                out += [("auth", plain)] if plain else []
            else:
                self.awaiting_plain = True
        elif command == "STLS":
            self.tls_requested = True
        return out

    def server_line(self, line: bytes) -> Emitted:
        if self.tls_requested and line.startswith(b"+OK"):
            self.starts_tls = True
        return self.banner(line) if line.startswith(b"+OK") else []


class Imap(LineProtocol):
    protocol = "imap"

    def __init__(self, defaults: DefaultCredentials) -> None:
        super().__init__(defaults)
        self.tls_tag: str | None = None

    def client_line(self, line: bytes) -> Emitted:
        text = _text(line)
        tokens = _IMAP_TOKEN.findall(text)
        if len(tokens) < 2:
            return []
        tag, command = tokens[0], tokens[1].upper()
        out: Emitted = []
        request = text
        if command == "LOGIN" and len(tokens) >= 4:
            request = " ".join([*tokens[:3], REDACTED])
            out.append(
                (
                    "auth",
                    auth_fields(self.defaults, "imap", "LOGIN", _unquote(tokens[2]), _unquote(tokens[3])),
                )
            )
        elif command == "AUTHENTICATE" and len(tokens) >= 3 and tokens[2].upper() == "PLAIN":
            request = " ".join(tokens[:3])
            if len(tokens) >= 4:
                plain = _plain(self.defaults, "imap", tokens[3])
                out += [("auth", plain)] if plain else []
            else:
                self.awaiting_plain = True
        elif command == "STARTTLS":
            self.tls_tag = tag
        fields = {"imap.tag": tag, "imap.command": command, "imap.request": request[:512]}
        return [("imap", fields), *out]

    def server_line(self, line: bytes) -> Emitted:
        if self.tls_tag and line.startswith(self.tls_tag.encode() + b" OK"):
            self.starts_tls = True
        return self.banner(line) if line.startswith(b"* OK") else []


class Smtp(LineProtocol):
    protocol = "smtp"

    def __init__(self, defaults: DefaultCredentials) -> None:
        super().__init__(defaults)
        self.in_body = False
        self.data_requested = False
        self.login_step: str | None = None  # "user", then "password", during AUTH LOGIN
        self.login_user: str | None = None
        self.tls_requested = False
        self.client_lines.skip_after = self.bdat_size

    def bdat_size(self, line: bytes) -> int:
        """BDAT N: a chunk of exactly N raw bytes follows the line, with no terminator."""
        if self.in_body or self.login_step or self.awaiting_plain or line[:5].upper() != b"BDAT ":
            return 0
        size = line[5:].split(b" ", 1)[0]
        return int(size) if size.isdigit() else 0

    def client_line(self, line: bytes) -> Emitted:
        text = _text(line)
        if self.in_body:
            if text == ".":
                self.in_body = False
            return []
        if self.login_step == "user":
            self.login_user, self.login_step = _b64(text), "password"
            return []
        if self.login_step == "password":
            self.login_step = None
            return [
                ("auth", auth_fields(self.defaults, "smtp", "AUTH LOGIN", self.login_user, _b64(text) or ""))
            ]
        command, _, arg = text.partition(" ")
        command = command.upper()
        if not command.isalpha() or len(command) > 10:
            return []
        out: Emitted = []
        if command == "AUTH":
            mechanism, _, initial = arg.partition(" ")
            arg = mechanism.upper()
            if arg == "PLAIN":
                plain = _plain(self.defaults, "smtp", initial) if initial else None
                self.awaiting_plain = not initial
                out += [("auth", plain)] if plain else []
            elif arg == "LOGIN":
                if initial:
                    self.login_user, self.login_step = _b64(initial), "password"
                else:
                    self.login_step = "user"
        elif command == "DATA":
            self.data_requested = True

        elif command == "STARTTLS":
            self.tls_requested = True
        return [("smtp", {"smtp.command": command, "smtp.arg": arg[:512]}), *out]

    def server_line(self, line: bytes) -> Emitted:
        if self.data_requested and line.startswith(b"354"):
            self.data_requested, self.in_body = False, True
        elif self.tls_requested and line.startswith(b"220") and self.greeted:
            self.starts_tls = True
        return self.banner(line) if line[:3] == b"220" else []


class Ssh(LineProtocol):
    protocol = "ssh"

    def feed(self, from_client: bool, data: bytes | None) -> Emitted:
        # Only the first line of each side is text; the rest is binary key exchange.
        lines = (self.client_lines if from_client else self.server_lines).feed(data)
        self.done = True
        for line in lines:
            if line.startswith(b"SSH-"):
                self.done = False
                software = _text(line).split("-", 2)[-1]
                side = "client" if from_client else "server"
                return [
                    (
                        "banner",
                        {
                            "banner.protocol": "ssh",
                            "banner.text": _text(line)[:256],
                            "banner.software": software[:128],
                            "banner.side": side,
                        },
                    )
                ]
        self.done = False
        return []


IAC, SB, SE = 255, 250, 240


def strip_telnet(data: bytes) -> bytes:
    """Telnet text without its option negotiation (IAC sequences)."""
    out = bytearray()
    i = 0
    while i < len(data):
        b = data[i]
        if b != IAC:
            out.append(b)
            i += 1
        elif i + 1 < len(data) and data[i + 1] == SB:
            end = data.find(bytes((IAC, SE)), i + 2)
            i = len(data) if end < 0 else end + 2
        elif i + 1 < len(data) and data[i + 1] == IAC:
            out.append(IAC)
            i += 2
        else:
            i += 3 if i + 1 < len(data) and 251 <= data[i + 1] <= 254 else 2
    return bytes(out)


class Telnet:
    """A prompt-driven login: the server asks "login:" and "Password:", the client types."""

    def __init__(self, defaults: DefaultCredentials) -> None:
        self.defaults = defaults
        self.done = False
        self.expecting: str | None = None  # "user" or "password"
        self.typed = b""
        self.user: str | None = None

    def feed(self, from_client: bool, data: bytes | None) -> Emitted:
        if data is None:
            self.typed = b""
            return []
        text = strip_telnet(data)
        if not from_client:
            tail = text[-64:].lower().rstrip()
            if tail.endswith((b"password:", b"passcode:")):
                self.expecting = "password"
            elif tail.endswith((b"login:", b"username:", b"user:", b"user name:")):
                self.expecting = "user"
            return []
        out: Emitted = []
        for byte in text:
            if byte in (13, 10, 0):
                if self.typed:
                    out += self._line(self.typed.decode("utf-8", "replace"))
                self.typed = b""
            elif byte in (8, 127):
                self.typed = self.typed[:-1]
            elif len(self.typed) < 256:
                self.typed += bytes((byte,))
        return out

    def _line(self, line: str) -> Emitted:
        if self.expecting == "user":
            self.user, self.expecting = line, None
            return []
        if self.expecting == "password":
            self.expecting = None
            return [("auth", auth_fields(self.defaults, "telnet", "login prompt", self.user, line))]
        return []
