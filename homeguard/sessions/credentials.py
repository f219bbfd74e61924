"""Logins seen in clear text become `auth` events. The password is compared with the
known factory defaults here, in memory, and then dropped: it never reaches an event,
the database, a log line or an alert."""

from __future__ import annotations

import functools
from importlib import resources
from typing import Any

from homeguard.errors import HomeGuardError


class DefaultCredentials:
    """username:password pairs from homeguard/data/default_credentials.txt."""

    def __init__(self, pairs: frozenset[tuple[str, str]]) -> None:
        self.pairs = pairs

    @classmethod
    def shipped(cls) -> DefaultCredentials:
        return cls(_shipped_pairs())

    @staticmethod
    def parse(text: str) -> frozenset[tuple[str, str]]:
        pairs = set()
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip() or line.startswith("#"):
                continue
            user, sep, password = line.partition(":")
            if not sep:
                raise HomeGuardError(f"default_credentials.txt:{number}: write username:password")
            pairs.add((user, password))
        return frozenset(pairs)

    def known(self, username: str | None, password: str | bytes | None) -> bool:
        if password is None:
            return False
        if isinstance(password, bytes):
            password = password.decode("utf-8", "replace")
        return (username or "", password) in self.pairs


@functools.cache  # the shipped file does not change while we run: parse it once
def _shipped_pairs() -> frozenset[tuple[str, str]]:
    text = resources.files("homeguard").joinpath("data/default_credentials.txt").read_text("utf-8")
    return DefaultCredentials.parse(text)


def auth_fields(
    defaults: DefaultCredentials,
    protocol: str,
    method: str,
    username: str | None,
    password: str | bytes | None,
    password_seen: bool | None = None,
) -> dict[str, Any]:
    """The fields of an auth event. `password` is looked at here and nowhere else."""
    fields: dict[str, Any] = {
        "auth.protocol": protocol,
        "auth.method": method,
        "auth.password_seen": password is not None if password_seen is None else password_seen,
        "auth.default_credentials": defaults.known(username, password),
    }
    if username:
        fields["auth.username"] = username[:128]
    return fields
