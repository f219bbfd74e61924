"""Notification targets from the config: where alerts go, which ones, and how.

    notify:
      - name: phone
        url: ntfy://ntfy.sh/my-homeguard-topic
        min_severity: medium
      - name: mail
        url: mailtos://me:app-password@mail.example.com?to=me@example.com
        mode: digest
        digest: daily

apprise reads the URL, so every service apprise supports works. URLs often hold a
token or password: `masked` makes any text safe to print.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from homeguard.errors import ConfigError

SEVERITIES = ("info", "low", "medium", "high", "critical")
MODES = ("push", "digest")
PERIODS = ("hourly", "daily", "weekly")
TARGET_KEYS = ("name", "url", "min_severity", "tags", "mode", "digest", "max_pushes_per_day")
DEFAULT_MAX_PUSHES = 20
MASK = "****"
MIN_SECRET = 6  # shorter URL parts ("hook", "user") would mask ordinary words in messages


@dataclass(frozen=True, slots=True)
class Target:
    name: str
    url: str
    where: str  # file:line of its entry in the config, for errors
    min_severity: str = "low"
    tags: tuple[str, ...] = ()  # only alerts of rules with one of these tags or categories
    mode: str = "push"
    digest: str = "daily"
    max_pushes_per_day: int = DEFAULT_MAX_PUSHES
    secrets: tuple[str, ...] = field(default=(), compare=False)

    def wants(self, severity: str, category: str, tags: tuple[str, ...]) -> bool:
        if SEVERITIES.index(severity) < SEVERITIES.index(self.min_severity):
            return False
        if not self.tags:
            return True
        labels = {*tags, category, category.split(".", 1)[0]}
        return bool(labels & set(self.tags))

    def masked(self, text: str) -> str:
        """The text with every secret of this target's URL replaced by ****."""
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        return text


def url_secrets(url: str) -> tuple[str, ...]:
    """The parts of an apprise URL that may be credentials: the user and password,
    the path segments (tokens in ntfy, Telegram, Discord, Slack URLs), the host of
    services whose 'host' is a token, and query values. Longest first, so a token that
    contains a shorter one is masked whole."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return ()
    found: set[str] = set()
    always: set[str] = set()
    netloc = parts.netloc.rsplit("@", 1)
    if len(netloc) == 2:
        user, _, password = netloc[0].partition(":")
        found.add(unquote(user))
        always.add(unquote(password))  # a password is masked however short
    where = netloc[-1]
    plain_host = re.fullmatch(r"([\w-]+(?:\.[\w-]+)+|localhost|\[[\w:.]+\])(:\d+)?", where)
    if where and not plain_host:
        found.update({where, *where.split(":")})  # a token in the host position (tgram://id:token/...)
    found.update(unquote(seg) for seg in parts.path.split("/"))
    found.update(value for _key, value in parse_qsl(parts.query))
    secrets = {s for s in found if len(s) >= MIN_SECRET} | {s for s in always if s}
    return tuple(sorted(secrets, key=len, reverse=True))


def parse_targets(value: Any, where: str, item_wheres: list[str] | None = None) -> list[Target]:
    """Targets from the config's `notify:` list; every error names the entry's line."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise ConfigError(f"{where}: notify must be a list of targets, each with a name: and a url:")
    targets: list[Target] = []
    for index, entry in enumerate(value):
        at = item_wheres[index] if item_wheres and index < len(item_wheres) else where
        targets.append(_target(entry, at))
        if [t.name for t in targets].count(targets[-1].name) > 1:
            raise ConfigError(f"{at}: a second target named {targets[-1].name!r}; names must differ")
    return targets


def _target(entry: Any, at: str) -> Target:
    if not isinstance(entry, dict):
        raise ConfigError(f"{at}: a notify target is a mapping with name: and url:, not {entry!r}")
    unknown = sorted(set(entry) - set(TARGET_KEYS))
    if unknown:
        raise ConfigError(
            f"{at}: unknown key {unknown[0]!r} in a notify target; keys: {', '.join(TARGET_KEYS)}"
        )
    name, url = entry.get("name"), entry.get("url")
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{at}: every notify target needs a name:, such as name: phone")
    if not isinstance(url, str) or "://" not in url:
        raise ConfigError(f"{at}: target {name!r} needs an apprise url:, such as ntfy://ntfy.sh/my-topic")
    if not url.split("://", 1)[1].strip("/ "):
        raise ConfigError(
            f"{at}: target {name!r}: {url!r} says where to send, but not to whom: "
            "add the server and topic, chat or address, such as ntfy://ntfy.sh/my-topic"
        )
    severity = entry.get("min_severity", "low")
    mode = entry.get("mode", "push")
    period = entry.get("digest", "daily")
    for key, got, allowed in (
        ("min_severity", severity, SEVERITIES),
        ("mode", mode, MODES),
        ("digest", period, PERIODS),
    ):
        if got not in allowed:
            raise ConfigError(
                f"{at}: target {name!r}: {key} must be one of {', '.join(allowed)}, not {got!r}"
            )
    tags = entry.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise ConfigError(f"{at}: target {name!r}: tags must be a list of texts, such as [privacy, telnet]")
    cap = entry.get("max_pushes_per_day", DEFAULT_MAX_PUSHES)
    if not isinstance(cap, int) or isinstance(cap, bool) or cap < 0:
        raise ConfigError(f"{at}: target {name!r}: max_pushes_per_day must be a whole number, 0 or more")
    return Target(name, url, at, severity, tuple(tags), mode, period, cap, url_secrets(url))
