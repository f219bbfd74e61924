"""Apprise URLs for the services a household uses, built from a form's fields, so that
nobody has to learn apprise's URL syntax. Each field is percent-encoded where it goes
into the URL; apprise itself then says whether it can use the result."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from homeguard.errors import ConfigError


@dataclass(frozen=True, slots=True)
class Service:
    key: str
    label: str
    fields: tuple[tuple[str, str], ...]  # (field name, its label), all required
    template: str  # str.format with the fields, each percent-encoded


SERVICES = (
    Service("webhook", "Webhook (JSON)", (("address", "https:// address"),), ""),
    Service(
        "email",
        "E-mail",
        (
            ("server", "SMTP server"),
            ("port", "Port"),
            ("user", "User"),
            ("password", "Password"),
            ("to", "To"),
        ),
        "mailtos://{user}:{password}@{server}:{port}?to={to}",
    ),
    Service("ntfy", "ntfy", (("server", "Server (ntfy.sh)"), ("topic", "Topic")), "ntfys://{server}/{topic}"),
    Service("telegram", "Telegram", (("token", "Bot token"), ("chat", "Chat id")), "tgram://{token}/{chat}"),
    Service("pushover", "Pushover", (("user", "User key"), ("token", "App token")), "pover://{user}@{token}"),
    Service(
        "matrix",
        "Matrix",
        (("server", "Server"), ("user", "User"), ("password", "Password"), ("room", "Room")),
        "matrixs://{user}:{password}@{server}/{room}",
    ),
    Service(
        "homeassistant",
        "Home Assistant",
        (("server", "Server (host:port)"), ("token", "Long-lived access token")),
        "hassios://{server}/{token}",
    ),
    Service(
        "signal",
        "Signal (signal-cli REST API)",
        (("server", "API server (host:port)"), ("sender", "From number"), ("to", "To number")),
        "signal://{server}/{sender}/{to}",
    ),
)
BY_KEY = {s.key: s for s in SERVICES}


def apprise_url(service: str, fields: dict[str, str]) -> str:
    found = BY_KEY.get(service)
    if found is None:
        raise ConfigError(f"unknown service {service!r}")
    values = {name: fields.get(name, "").strip() for name, _label in found.fields}
    missing = [label for name, label in found.fields if not values[name]]
    if missing:
        raise ConfigError(f"{found.label}: fill in {', '.join(missing)}")
    if service == "webhook":
        return _webhook(values["address"])
    return found.template.format(
        **{k: quote(v, safe=":" if k == "server" else "") for k, v in values.items()}
    )


def _webhook(address: str) -> str:
    parts = urlsplit(address)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError("Webhook: give an address starting with https:// (or http:// on the LAN)")
    scheme = "jsons" if parts.scheme == "https" else "json"
    return f"{scheme}://{parts.netloc}{parts.path or '/'}{'?' + parts.query if parts.query else ''}"
