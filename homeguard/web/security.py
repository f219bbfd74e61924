"""The dashboard's locks: passwords, sessions, CSRF tokens, failed-login slowdown,
security headers and where it may listen.

- Passwords are hashed with scrypt (stdlib), n=2**14, r=8, p=1, a 16-byte salt.
- A session is a random 32-byte token in a cookie (HttpOnly, SameSite=Strict, Secure
  under TLS); the database keeps only its SHA-256, so a copy of the database opens no
  session. Sessions last SESSION_DAYS.
- Every form that changes something carries the session's CSRF token.
- After FREE_FAILURES failed logins from one client, each try waits 2**n seconds more,
  at most MAX_DELAY, before it is even checked.
- The dashboard listens on loopback or private (LAN) addresses only, unless told
  otherwise in so many words.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import secrets

from homeguard.errors import ConfigError

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
SESSION_DAYS = 30
FREE_FAILURES = 3
MAX_DELAY = 60.0
COOKIE = "homeguard_session"
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    "Cache-Control": "no-store",
}


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    encoded = base64.b64encode(salt).decode(), base64.b64encode(digest).decode()
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${encoded[0]}${encoded[1]}"


def check_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    computed = hashlib.scrypt(
        password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p), dklen=32
    )
    return hmac.compare_digest(computed, base64.b64decode(digest))


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def same_token(given: str | None, expected: str) -> bool:
    return bool(given) and hmac.compare_digest(str(given), expected)


def login_delay(failures: int) -> float:
    """Seconds a client waits before its next login is checked."""
    if failures < FREE_FAILURES:
        return 0.0
    return float(min(MAX_DELAY, 2 ** (failures - FREE_FAILURES)))


def check_listen(host: str, anywhere: bool) -> None:
    """Refuse an address outside loopback and the LAN, and the every-address ones,
    unless `anywhere` (the --any-address flag) says so."""
    if anywhere:
        return
    try:
        address = ipaddress.ip_address(host)
    except ValueError as exc:
        raise ConfigError(
            f"--listen: {host!r} is not an IP address; give the LAN address to listen on"
        ) from exc
    if address.is_unspecified:
        raise ConfigError(
            f"--listen {host}: every address, the internet's too if the router forwards it; give the "
            "LAN address (such as 192.168.1.10), or add --any-address if you mean it"
        )
    if not (address.is_loopback or address.is_private or address.is_link_local):
        raise ConfigError(
            f"--listen {host}: not a LAN address; the dashboard shows a household's private life, so "
            "it only listens on the LAN unless --any-address says otherwise"
        )
