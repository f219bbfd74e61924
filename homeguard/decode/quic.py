"""QUIC Initial packets, opened the way any on-path observer can: their keys derive from
the Destination Connection ID the client chose (RFC 9001 section 5.2, and RFC 9369 for
QUIC version 2). Inside are CRYPTO frames that carry the TLS ClientHello: server name,
ALPN, and what JA4 fingerprints. Only Initial packets are opened; everything after them
is protected by keys nobody on the path has.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from dataclasses import dataclass

from homeguard.errors import DecodeError

VERSION_1 = 0x00000001
VERSION_2 = 0x6B3343CF
# Per version: the salt, the label prefix, and the long-header type bits of an Initial.
VERSIONS = {
    VERSION_1: (bytes.fromhex("38762cf7f55934b34d179ae6a4c80cadccbb7f0a"), b"quic ", 0),
    VERSION_2: (bytes.fromhex("0dede3def700a6db819381be6e269dcbf9bd2ed9"), b"quicv2 ", 1),
}
FRAME_PADDING, FRAME_PING, FRAME_ACK, FRAME_ACK_ECN, FRAME_CRYPTO = 0x00, 0x01, 0x02, 0x03, 0x06
MAX_CID = 20


@dataclass(frozen=True, slots=True)
class InitialKeys:
    key: bytes
    iv: bytes
    hp: bytes


@dataclass(frozen=True, slots=True)
class Initial:
    version: int
    dcid: bytes
    crypto: list[tuple[int, bytes]]  # (offset, data) of each CRYPTO frame
    length: int  # bytes of the datagram this packet took (coalesced packets may follow)


def varint(buf: bytes, pos: int) -> tuple[int, int]:
    """A QUIC variable-length integer (RFC 9000 section 16) and the position after it."""
    if pos >= len(buf):
        raise DecodeError("QUIC varint past the end")
    size = 1 << (buf[pos] >> 6)
    if pos + size > len(buf):
        raise DecodeError("QUIC varint past the end")
    value = buf[pos] & 0x3F
    for b in buf[pos + 1 : pos + size]:
        value = value << 8 | b
    return value, pos + size


def is_long_header(data: bytes) -> bool:
    """A long-header QUIC packet (Initial, 0-RTT, Handshake, Retry) of a version we know."""
    return len(data) >= 7 and data[0] & 0xC0 == 0xC0 and struct.unpack_from("!I", data, 1)[0] in VERSIONS


def is_initial(data: bytes) -> bool:
    """A long-header QUIC packet of a version we know, of the Initial type."""
    if len(data) < 7 or data[0] & 0xC0 != 0xC0:
        return False
    version = struct.unpack_from("!I", data, 1)[0]
    known = VERSIONS.get(version)
    return known is not None and (data[0] >> 4) & 0x03 == known[2]


def _expand_label(secret: bytes, label: bytes, length: int) -> bytes:
    """HKDF-Expand-Label (RFC 8446 section 7.1) with SHA-256 and an empty context."""
    info = struct.pack("!H", length) + bytes([6 + len(label)]) + b"tls13 " + label + b"\x00"
    out, block, counter = b"", b"", 1
    while len(out) < length:
        block = hmac.new(secret, block + info + bytes([counter]), hashlib.sha256).digest()
        out += block
        counter += 1
    return out[:length]


def client_initial_keys(dcid: bytes, version: int = VERSION_1) -> InitialKeys:
    salt, prefix, _ = VERSIONS[version]
    initial_secret = hmac.new(salt, dcid, hashlib.sha256).digest()  # HKDF-Extract
    client = _expand_label(initial_secret, b"client in", 32)
    return InitialKeys(
        _expand_label(client, prefix + b"key", 16),
        _expand_label(client, prefix + b"iv", 12),
        _expand_label(client, prefix + b"hp", 16),
    )


def open_initial(data: bytes, key_dcid: bytes | None = None) -> Initial:
    """Remove header protection, decrypt, and read the CRYPTO frames of a client Initial.
    The keys come from the client's first Destination Connection ID (`key_dcid`): once the
    server has chosen a new one, later Initials carry it but keep the first keys."""
    try:
        return _open_initial(data, key_dcid)
    except (struct.error, IndexError, KeyError, ValueError) as exc:
        raise DecodeError(f"QUIC Initial malformed ({type(exc).__name__})") from None


def _open_initial(data: bytes, key_dcid: bytes | None) -> Initial:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    version = struct.unpack_from("!I", data, 1)[0]
    pos = 5
    dcid_len = data[pos]
    if dcid_len > MAX_CID:
        raise DecodeError("QUIC connection id longer than 20 bytes")
    dcid = data[pos + 1 : pos + 1 + dcid_len]
    pos += 1 + dcid_len
    if pos >= len(data) or data[pos] > MAX_CID:
        raise DecodeError("QUIC Initial cut short")
    pos += 1 + data[pos]  # the source connection id
    token_len, pos = varint(data, pos)
    pos += token_len
    length, pn_at = varint(data, pos)
    end = pn_at + length
    if end > len(data) or pn_at + 20 > end:
        raise DecodeError("QUIC Initial shorter than its length field")
    keys = client_initial_keys(key_dcid if key_dcid is not None else dcid, version)
    encryptor = Cipher(algorithms.AES(keys.hp), modes.ECB()).encryptor()
    mask = encryptor.update(data[pn_at + 4 : pn_at + 20]) + encryptor.finalize()
    first = data[0] ^ (mask[0] & 0x0F)
    pn_len = (first & 0x03) + 1
    pn_bytes = bytes(b ^ m for b, m in zip(data[pn_at : pn_at + pn_len], mask[1 : 1 + pn_len], strict=True))
    header = bytes([first]) + data[1:pn_at] + pn_bytes
    nonce = bytes(
        a ^ b for a, b in zip(keys.iv, int.from_bytes(pn_bytes, "big").to_bytes(12, "big"), strict=True)
    )
    try:
        plain = AESGCM(keys.key).decrypt(nonce, data[pn_at + pn_len : end], header)
    except InvalidTag:
        raise DecodeError("QUIC Initial does not decrypt: not a client's first flight") from None
    return Initial(version, dcid, _crypto_frames(plain), end)


def _crypto_frames(plain: bytes) -> list[tuple[int, bytes]]:
    """The CRYPTO frames of a decrypted Initial; PADDING, PING and ACK are stepped over,
    and reading stops at any other frame (a client's Initial carries no other kind)."""
    frames, pos = [], 0
    while pos < len(plain):
        kind = plain[pos]
        if kind in (FRAME_PADDING, FRAME_PING):
            pos += 1
        elif kind == FRAME_CRYPTO:
            offset, pos = varint(plain, pos + 1)
            size, pos = varint(plain, pos)
            if pos + size > len(plain):
                raise DecodeError("QUIC CRYPTO frame past the end of its packet")
            frames.append((offset, plain[pos : pos + size]))
            pos += size
        elif kind in (FRAME_ACK, FRAME_ACK_ECN):
            pos = _skip_ack(plain, pos + 1, kind == FRAME_ACK_ECN)
        else:
            break
    return frames


def _skip_ack(plain: bytes, pos: int, ecn: bool) -> int:
    _largest, pos = varint(plain, pos)
    _delay, pos = varint(plain, pos)
    ranges, pos = varint(plain, pos)
    _first, pos = varint(plain, pos)
    for _ in range(min(ranges, 256) * 2):
        _, pos = varint(plain, pos)
    for _ in range(3 if ecn else 0):
        _, pos = varint(plain, pos)
    return pos
