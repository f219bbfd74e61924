"""Ed25519 signatures in minisign's format, so that an IT department may sign bundles with
`homeguard fleet sign` or with minisign itself, and check them with either.

Public key: an untrusted comment line, then base64("Ed" || key id (8) || key (32)).
Signature:  an untrusted comment line; base64("ED" || key id || Ed25519(BLAKE2b-512(file)));
            "trusted comment: TEXT"; base64(Ed25519(signature || TEXT)), which binds TEXT.
Secret key (unencrypted, as `minisign -G -W` writes it): base64("Ed" || "\\0\\0" || "B2" ||
            salt (32) || opslimit (8) || memlimit (8) || key id || seed+key (64) ||
            BLAKE2b-256("Ed" || key id || seed+key)).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
from dataclasses import dataclass

from homeguard.errors import FleetError

# cryptography is imported where a key signs or checks, not at the top: every daemon's
# dashboard reads the installed key's id, and the library would add about 7 MiB to it.

KEY_ALGORITHM = b"Ed"
PREHASHED = b"ED"  # the signature covers BLAKE2b-512 of the file: minisign's default
LEGACY = b"Ed"  # the signature covers the file itself
NO_KDF = b"\0\0"
CHECKSUM_ALGORITHM = b"B2"


@dataclass(frozen=True, slots=True)
class PublicKey:
    key_id: bytes
    key: bytes

    @classmethod
    def parse(cls, text: str) -> PublicKey:
        """The key's base64 line, alone or in its .pub file."""
        raw = _base64(_last_line(text), "public key")
        if len(raw) != 42 or raw[:2] != KEY_ALGORITHM:
            raise FleetError(
                "not a minisign Ed25519 public key (its base64 line is 56 characters, starting RW)"
            )
        return cls(raw[2:10], raw[10:])

    @property
    def id_text(self) -> str:
        return self.key_id[::-1].hex().upper()  # as minisign prints it

    def text(self) -> str:
        line = base64.b64encode(KEY_ALGORITHM + self.key_id + self.key).decode()
        return f"untrusted comment: minisign public key {self.id_text}\n{line}\n"


@dataclass(frozen=True, slots=True)
class SecretKey:
    key_id: bytes
    seed: bytes

    @classmethod
    def generate(cls) -> SecretKey:
        return cls(secrets.token_bytes(8), secrets.token_bytes(32))

    @classmethod
    def parse(cls, text: str) -> SecretKey:
        raw = _base64(_last_line(text), "secret key")
        if len(raw) != 158 or raw[:2] != KEY_ALGORITHM or raw[4:6] != CHECKSUM_ALGORITHM:
            raise FleetError("not a minisign Ed25519 secret key")
        if raw[2:4] != NO_KDF:
            raise FleetError(
                "this minisign secret key is protected by a password: sign with minisign itself, "
                "or make an unencrypted copy for a signing machine (minisign -C -W)"
            )
        key_id, secret, checksum = raw[54:62], raw[62:126], raw[126:158]
        computed = hashlib.blake2b(KEY_ALGORITHM + key_id + secret, digest_size=32).digest()
        if checksum != computed and checksum != bytes(32):  # minisign -W leaves it zero
            raise FleetError("the secret key's checksum does not match: the file is damaged")
        return cls(key_id, secret[:32])

    @property
    def public(self) -> PublicKey:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

        key = Ed25519PrivateKey.from_private_bytes(self.seed).public_key()
        return PublicKey(self.key_id, key.public_bytes(Encoding.Raw, PublicFormat.Raw))

    def text(self) -> str:
        secret = self.seed + self.public.key
        checksum = hashlib.blake2b(KEY_ALGORITHM + self.key_id + secret, digest_size=32).digest()
        unused_kdf = bytes(32 + 8 + 8)  # salt, opslimit, memlimit: no password
        raw = KEY_ALGORITHM + NO_KDF + CHECKSUM_ALGORITHM + unused_kdf + self.key_id + secret + checksum
        return f"untrusted comment: minisign secret key (no password)\n{base64.b64encode(raw).decode()}\n"


def sign(data: bytes, secret: SecretKey, trusted_comment: str) -> str:
    """The .minisig text for `data` (prehashed, as minisign signs by default)."""
    if "\n" in trusted_comment or "\r" in trusted_comment:
        raise FleetError("a trusted comment is one line")
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    private = Ed25519PrivateKey.from_private_bytes(secret.seed)
    signature = private.sign(hashlib.blake2b(data, digest_size=64).digest())
    global_signature = private.sign(signature + trusted_comment.encode())
    return (
        f"untrusted comment: signature from homeguard fleet sign, key {secret.public.id_text}\n"
        f"{base64.b64encode(PREHASHED + secret.key_id + signature).decode()}\n"
        f"trusted comment: {trusted_comment}\n"
        f"{base64.b64encode(global_signature).decode()}\n"
    )


def verify(data: bytes, signature_text: str, public: PublicKey) -> str:
    """The trusted comment, when the signature is `public`'s over `data`; else FleetError."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    lines = signature_text.splitlines()
    if len(lines) < 4 or not lines[2].startswith("trusted comment: "):
        raise FleetError("the signature file is not in minisign's format (4 lines)")
    raw = _base64(lines[1], "signature")
    if len(raw) != 74 or raw[:2] not in (PREHASHED, LEGACY):
        raise FleetError("the signature is not a minisign Ed25519 signature")
    if raw[2:10] != public.key_id:
        raise FleetError(
            f"the bundle was signed with key {raw[2:10][::-1].hex().upper()}, not with the installed key "
            f"{public.id_text} (fleet_public_key)"
        )
    signature = raw[10:]
    message = hashlib.blake2b(data, digest_size=64).digest() if raw[:2] == PREHASHED else data
    comment = lines[2][len("trusted comment: ") :]
    key = Ed25519PublicKey.from_public_bytes(public.key)
    try:
        key.verify(signature, message)
    except InvalidSignature:
        raise FleetError("the signature does not match the bundle: it was changed after signing") from None
    try:
        key.verify(_base64(lines[3], "global signature"), signature + comment.encode())
    except InvalidSignature:
        raise FleetError("the signature's trusted comment was changed after signing") from None
    return comment


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""


def _base64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise FleetError(f"the {what} is not valid base64") from None
