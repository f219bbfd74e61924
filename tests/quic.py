"""QUIC client Initial packets made for tests: a ClientHello in CRYPTO frames, encrypted
and header-protected with the keys its Destination Connection ID gives (RFC 9001 5.2),
the way a browser sends its first flight."""

from __future__ import annotations

import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from homeguard.decode.quic import VERSION_1, VERSIONS, client_initial_keys


def _varint(value: int) -> bytes:
    if value < 64:
        return bytes([value])
    if value < 16384:
        return struct.pack("!H", 0x4000 | value)
    return struct.pack("!I", 0x80000000 | value)


def client_initial(
    dcid: bytes, frames: bytes, pn: int = 0, version: int = VERSION_1, key_dcid: bytes | None = None
) -> bytes:
    """One protected client Initial holding `frames`, padded to 1200 bytes; its keys come
    from `key_dcid` (the client's first DCID) when the header carries a newer one."""
    keys = client_initial_keys(key_dcid or dcid, version)
    type_bits = VERSIONS[version][2]
    pn_bytes = struct.pack("!I", pn)  # a 4-byte packet number
    plain = frames + b"\x00" * max(0, 1200 - 60 - len(frames))  # PADDING frames
    length = len(pn_bytes) + len(plain) + 16
    first = 0xC0 | type_bits << 4 | 0x03
    header = bytes([first]) + struct.pack("!I", version) + bytes([len(dcid)]) + dcid
    header += b"\x08" + b"\x5c" * 8 + _varint(0) + _varint(length)
    nonce = bytes(a ^ b for a, b in zip(keys.iv, pn.to_bytes(12, "big"), strict=True))
    sealed = AESGCM(keys.key).encrypt(nonce, plain, header + pn_bytes)
    encryptor = Cipher(algorithms.AES(keys.hp), modes.ECB()).encryptor()
    mask = encryptor.update(sealed[:16]) + encryptor.finalize()  # sample: 4 bytes after the pn start
    protected_first = bytes([first ^ (mask[0] & 0x0F)])
    protected_pn = bytes(b ^ m for b, m in zip(pn_bytes, mask[1:5], strict=True))
    return protected_first + header[1:] + protected_pn + sealed


def crypto_frame(offset: int, data: bytes) -> bytes:
    return b"\x06" + _varint(offset) + _varint(len(data)) + data


def client_initials(
    hello_record: bytes, dcid: bytes, pieces: int = 1, version: int = VERSION_1
) -> list[bytes]:
    """The hello (a TLS record from tests/conversations.client_hello; QUIC carries the
    handshake message without the record header) in `pieces` Initial packets."""
    message = hello_record[5:]
    size = -(-len(message) // pieces)
    return [
        client_initial(
            dcid, crypto_frame(i * size, message[i * size : (i + 1) * size]), pn=i, version=version
        )
        for i in range(pieces)
    ]
