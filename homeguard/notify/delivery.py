"""Delivery through apprise, the only way HomeGuard sends anything to people.

A send returns None when apprise says it arrived, else the reason in one line, with
the target's secrets masked. Nothing apprise does can raise out of here: a broken
service costs that alert a retry, never the daemon.
"""

from __future__ import annotations

import logging
from typing import Protocol

from homeguard.settings.targets import Target

log = logging.getLogger("homeguard.notify")


class Notifier(Protocol):
    def send(self, target: Target, title: str, body: str, html: str | None = None) -> str | None: ...


def apprise_problem(target: Target) -> str | None:
    """Why apprise cannot use a target's URL (None: it can), for the start-up check."""
    import apprise

    try:
        usable = apprise.Apprise.instantiate(target.url) is not None
    except Exception as exc:  # a plugin's own bug: report, never crash
        return target.masked(f"apprise failed to read the URL: {exc}")
    if usable:
        return None
    scheme = target.url.split("://", 1)[0]
    return f"apprise cannot use this URL (unknown service {scheme!r} or a required part missing)"


def masked_url(target: Target) -> str:
    import apprise

    try:
        plugin = apprise.Apprise.instantiate(target.url)
        if plugin is not None:
            # apprise hides passwords; tokens in the path are ours to hide
            return target.masked(str(plugin.url(privacy=True)))  # type: ignore[no-untyped-call]
    except Exception:  # a plugin's own bug: fall back to our own masking below
        pass
    return target.masked(target.url)


class AppriseNotifier:
    def send(self, target: Target, title: str, body: str, html: str | None = None) -> str | None:
        import apprise

        notifier = apprise.Apprise()
        try:
            if not notifier.add(target.url):
                return "apprise cannot use this URL"
            with apprise.LogCapture(level=logging.WARNING) as captured:  # type: ignore[no-untyped-call]
                if html is not None:
                    ok = notifier.notify(title=title, body=html, body_format=apprise.NotifyFormat.HTML)
                else:
                    ok = notifier.notify(title=title, body=body, body_format=apprise.NotifyFormat.TEXT)
            reason = captured.getvalue()
        except Exception as exc:  # a plugin's own bug: one failed attempt, retried later
            return target.masked(f"apprise failed: {type(exc).__name__}: {exc}")
        if ok:
            return None
        lines = [line.split(" - ", 2)[-1].strip() for line in reason.splitlines() if line.strip()]
        return target.masked("; ".join(lines[-2:]) or "the service did not accept the message")
