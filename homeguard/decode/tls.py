"""TLS handshake messages: ClientHello, ServerHello and the server's Certificate.

Recognised by content, on any port. JA3 and JA4 (the BSD-licensed client part,
JA4_a_b_c) are computed here, from the ClientHello as it was sent.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass, field

from homeguard.decode.text import network_name, network_text
from homeguard.errors import DecodeError

HANDSHAKE = 22
CHANGE_CIPHER_SPEC = 20
CLIENT_HELLO, SERVER_HELLO, CERTIFICATE = 1, 2, 11
EXT_SNI, EXT_SUPPORTED_GROUPS, EXT_EC_POINT_FORMATS = 0, 10, 11
EXT_SIGNATURE_ALGORITHMS, EXT_ALPN, EXT_SUPPORTED_VERSIONS = 13, 16, 43
VERSION_NAMES = {
    0x0300: "SSLv3", 0x0301: "TLS 1.0", 0x0302: "TLS 1.1", 0x0303: "TLS 1.2", 0x0304: "TLS 1.3",
    0xFEFF: "DTLS 1.0", 0xFEFD: "DTLS 1.2", 0xFEFC: "DTLS 1.3",
}  # fmt: skip
JA4_VERSIONS = {
    0x0304: "13", 0x0303: "12", 0x0302: "11", 0x0301: "10", 0x0300: "s3", 0x0002: "s2",
    0xFEFF: "d1", 0xFEFD: "d2", 0xFEFC: "d3",
}  # fmt: skip
DTLS_MAJOR = 0xFE  # DTLS counts down: 1.0 is 0xfeff, 1.2 is 0xfefd, 1.3 is 0xfefc


def is_grease(value: int) -> bool:
    """RFC 8701 values (0x0a0a, 0x1a1a, ...) that JA3 and JA4 leave out."""
    return value & 0x0F0F == 0x0A0A and value >> 8 == value & 0xFF


def version_text(value: int) -> str:
    return f"0x{value:04x}"


@dataclass(slots=True)
class ClientHello:
    version: int
    ciphers: list[int]
    extensions: list[int]
    sni: str | None = None
    alpn: list[str] = field(default_factory=list)
    supported_versions: list[int] = field(default_factory=list)
    groups: list[int] = field(default_factory=list)
    point_formats: list[int] = field(default_factory=list)
    signature_algorithms: list[int] = field(default_factory=list)
    first_alpn: bytes = b""  # the first ALPN value as sent (JA4 reads its bytes, not the text)

    @property
    def max_version(self) -> int:
        """The newest version offered: supported_versions (GREASE left out), else the legacy
        field. DTLS numbers count down, so its newest is the smallest."""
        offered = [v for v in self.supported_versions if not is_grease(v)] or [self.version]
        return max(offered, key=lambda v: 0xFFFF - v if v >> 8 == DTLS_MAJOR else v)

    @property
    def ja4_version(self) -> int:
        """JA4's version: the highest value in supported_versions, else the legacy field."""
        offered = [v for v in self.supported_versions if not is_grease(v)]
        return max(offered) if offered else self.version

    def ja3_string(self) -> str:
        parts = [
            str(self.version),
            "-".join(str(c) for c in self.ciphers if not is_grease(c)),
            "-".join(str(e) for e in self.extensions if not is_grease(e)),
            "-".join(str(g) for g in self.groups if not is_grease(g)),
            "-".join(str(p) for p in self.point_formats),
        ]
        return ",".join(parts)

    def ja3(self) -> str:
        return hashlib.md5(self.ja3_string().encode(), usedforsecurity=False).hexdigest()

    def ja4(self, transport: str = "t") -> str:
        """JA4 (client): protocol, version, SNI, counts and ALPN; sorted cipher and extension hashes."""
        version = JA4_VERSIONS.get(self.ja4_version, "00")
        ciphers = [c for c in self.ciphers if not is_grease(c)]
        extensions = [e for e in self.extensions if not is_grease(e)]
        alpn_code = ja4_alpn(self.first_alpn)
        a = (
            f"{transport}{version}{'d' if self.sni else 'i'}{min(len(ciphers), 99):02d}"
            f"{min(len(extensions), 99):02d}{alpn_code}"
        )
        b = _sha12(",".join(f"{c:04x}" for c in sorted(ciphers))) if ciphers else "000000000000"
        hashed = sorted(e for e in extensions if e not in (EXT_SNI, EXT_ALPN))  # counted above, not hashed
        ext_part = ",".join(f"{e:04x}" for e in hashed)
        sigs = ",".join(f"{s:04x}" for s in self.signature_algorithms)
        c = _sha12(f"{ext_part}_{sigs}" if sigs else ext_part) if hashed else "000000000000"
        return f"{a}_{b}_{c}"


def ja4_alpn(first: bytes) -> str:
    """JA4's two ALPN characters: the first and last of the first value; "00" for none;
    the first and last hex digits of it when either end byte is not a letter or digit."""
    if not first:
        return "00"
    head, tail = first[0], first[-1]
    if _alnum(head) and _alnum(tail):
        return chr(head) + chr(tail)
    return f"{head:02x}"[0] + f"{tail:02x}"[1]


def _alnum(byte: int) -> bool:
    return 0x30 <= byte <= 0x39 or 0x41 <= byte <= 0x5A or 0x61 <= byte <= 0x7A


def _sha12(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


@dataclass(slots=True)
class ServerHello:
    version: int  # legacy version field
    cipher: int
    selected_version: int | None = None  # from supported_versions: how TLS 1.3 says so

    @property
    def negotiated(self) -> int:
        return self.selected_version or self.version


def _vector(buf: bytes, pos: int, length_size: int) -> tuple[bytes, int]:
    """A length-prefixed field (1, 2 or 3 length bytes) and the position after it."""
    size = buf[pos : pos + length_size]
    if len(size) != length_size:
        raise DecodeError("TLS vector length runs past the end of its message")
    n = int.from_bytes(size, "big")
    start = pos + length_size
    if start + n > len(buf):
        raise DecodeError("TLS vector runs past the end of its message")
    return buf[start : start + n], start + n


DTLS_HEADERS = 13 + 12  # the DTLS record header, then the handshake header with its fragment fields


def dtls_client_hello(datagram: bytes) -> bytes | None:
    """The body of a DTLS ClientHello that a datagram opens with, when it is whole in it
    (the first flight almost always is); None otherwise."""
    if len(datagram) < DTLS_HEADERS or datagram[0] != HANDSHAKE or datagram[1] != DTLS_MAJOR:
        return None
    if datagram[13] != CLIENT_HELLO:
        return None
    length = int.from_bytes(datagram[14:17], "big")
    offset, fragment = int.from_bytes(datagram[19:22], "big"), int.from_bytes(datagram[22:25], "big")
    if offset != 0 or fragment != length or DTLS_HEADERS + length > len(datagram):
        return None
    return datagram[DTLS_HEADERS : DTLS_HEADERS + length]


def parse_client_hello(body: bytes, dtls: bool = False) -> ClientHello:
    """The body of a ClientHello handshake message (after its header); DTLS's has a cookie
    after the session id."""
    try:
        version = struct.unpack_from("!H", body, 0)[0]
        pos = 2 + 32
        _session, pos = _vector(body, pos, 1)
        if dtls:
            _cookie, pos = _vector(body, pos, 1)
        suites, pos = _vector(body, pos, 2)
        _compression, pos = _vector(body, pos, 1)
        hello = ClientHello(
            version, [struct.unpack_from("!H", suites, i)[0] for i in range(0, len(suites) - 1, 2)], []
        )
        if pos + 2 <= len(body):
            extensions, _ = _vector(body, pos, 2)
            _read_client_extensions(hello, extensions)
        return hello
    except (struct.error, IndexError) as exc:
        raise DecodeError("TLS ClientHello cut short") from exc


def _u16_list(data: bytes) -> list[int]:
    return [struct.unpack_from("!H", data, i)[0] for i in range(0, len(data) - 1, 2)]


def _read_client_extensions(hello: ClientHello, data: bytes) -> None:
    pos = 0
    while pos + 4 <= len(data):
        ext_type, ext_len = struct.unpack_from("!HH", data, pos)
        value = data[pos + 4 : pos + 4 + ext_len]
        if len(value) != ext_len:
            raise DecodeError("TLS extension runs past the end of the ClientHello")
        hello.extensions.append(ext_type)
        if ext_type == EXT_SNI and len(value) >= 5 and value[2] == 0:
            name_len = struct.unpack_from("!H", value, 3)[0]
            hello.sni = network_name(value[5 : 5 + name_len])
        elif ext_type == EXT_ALPN and len(value) >= 2:
            protocols, i = value[2:], 0
            while i < len(protocols):
                n = protocols[i]
                if not hello.alpn:
                    hello.first_alpn = bytes(protocols[i + 1 : i + 1 + n])
                hello.alpn.append(network_text(protocols[i + 1 : i + 1 + n], 64))
                i += 1 + n
        elif ext_type == EXT_SUPPORTED_VERSIONS and value:
            hello.supported_versions = _u16_list(value[1 : 1 + value[0]])
        elif ext_type == EXT_SUPPORTED_GROUPS and len(value) >= 2:
            hello.groups = _u16_list(value[2:])
        elif ext_type == EXT_EC_POINT_FORMATS and value:
            hello.point_formats = list(value[1 : 1 + value[0]])
        elif ext_type == EXT_SIGNATURE_ALGORITHMS and len(value) >= 2:
            hello.signature_algorithms = _u16_list(value[2:])
        pos += 4 + ext_len


def parse_server_hello(body: bytes) -> ServerHello:
    try:
        version = struct.unpack_from("!H", body, 0)[0]
        if version >> 8 == 0x7F:  # TLS 1.3 drafts: no session id, no compression method
            cipher, pos = struct.unpack_from("!H", body, 34)[0], 36
        else:
            _session, pos = _vector(body, 2 + 32, 1)
            cipher = struct.unpack_from("!H", body, pos)[0]
            pos += 3  # the cipher and the compression method
        hello = ServerHello(version, cipher)
        if pos + 2 <= len(body):
            extensions, _ = _vector(body, pos, 2)
            i = 0
            while i + 4 <= len(extensions):
                ext_type, ext_len = struct.unpack_from("!HH", extensions, i)
                if ext_type == EXT_SUPPORTED_VERSIONS and ext_len == 2:
                    hello.selected_version = struct.unpack_from("!H", extensions, i + 4)[0]
                i += 4 + ext_len
        return hello
    except (struct.error, IndexError) as exc:
        raise DecodeError("TLS ServerHello cut short") from exc


def first_certificate(body: bytes) -> bytes:
    """The DER bytes of the first (the server's own) certificate in a Certificate message."""
    try:
        chain, _ = _vector(body, 0, 3)
        cert, _ = _vector(chain, 0, 3)
    except (struct.error, IndexError) as exc:
        raise DecodeError("TLS Certificate message cut short") from exc
    return cert


def is_sslv2_client_hello(data: bytes) -> bool:
    """An SSLv2-format ClientHello: old clients send it to offer SSLv3 or TLS 1.0."""
    return len(data) >= 11 and bool(data[0] & 0x80) and data[2] == CLIENT_HELLO and data[3] in (0, 3)


def parse_sslv2_client_hello(data: bytes) -> ClientHello:
    if len(data) < 11:
        raise DecodeError("SSLv2 ClientHello cut short")
    length = ((data[0] & 0x7F) << 8) | data[1]
    if len(data) < 2 + length or length < 9:
        raise DecodeError("SSLv2 ClientHello cut short")
    version, spec_len, _session_len, _challenge_len = struct.unpack_from("!HHHH", data, 3)
    specs = data[11 : 11 + spec_len]
    ciphers = [int.from_bytes(specs[i : i + 3], "big") for i in range(0, len(specs) - 2, 3)]
    return ClientHello(version, ciphers, [])
