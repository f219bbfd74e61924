"""Digests: what was not pushed, in one message, grouped by device and category.

Bounded, whatever a flood made: the MAX_DEVICES devices with the most alerts, each with
at most MAX_LINES_PER_DEVICE kinds, then one line for the rest ("and 19,980 more alerts
from 19,980 more devices"). A digest stays well under 100 KB."""

from __future__ import annotations

import html
import time
from collections import defaultdict
from typing import Any

WORDS = {
    "en": {
        "title": "HomeGuard: {n} alerts",
        "intro": "{n} alerts since {since} that were not sent one by one:",
        "more": "Details and advice: homeguard findings",
        "rest": "… and {alerts:,} more alerts from {devices:,} more devices.",
    },
    "nl": {
        "title": "HomeGuard: {n} meldingen",
        "intro": "{n} meldingen sinds {since} die niet los verstuurd zijn:",
        "more": "Details en advies: homeguard findings",
        "rest": "… en nog {alerts:,} meldingen van {devices:,} andere apparaten.",
    },
}
MAX_LINES_PER_DEVICE = 8
MAX_DEVICES = 20


def grouped(rows: list[dict[str, Any]]) -> dict[str, dict[tuple[str, str, str], int]]:
    """device -> (category, severity, title) -> count."""
    out: dict[str, dict[tuple[str, str, str], int]] = defaultdict(lambda: defaultdict(int))
    for row in rows:
        device = row["device"] or row["device_mac"] or "HomeGuard"
        out[device][(row["category"] or "", row["severity"] or "", row["title"])] += 1
    return out


def digest_text(rows: list[dict[str, Any]], since: float, language: str) -> tuple[str, str, str]:
    """Title, plain text and HTML of a digest of these outbox rows."""
    words = WORDS.get(language, WORDS["en"])
    n = len(rows)
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(since))
    title = words["title"].format(n=n)
    text = [words["intro"].format(n=n, since=when), ""]
    parts = [f"<p>{html.escape(words['intro'].format(n=n, since=when))}</p>"]
    by_device = sorted(grouped(rows).items(), key=lambda kv: -sum(kv[1].values()))
    for device, kinds in by_device[:MAX_DEVICES]:
        text.append(f"{device}:")
        items = []
        ordered = sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0]))
        for (category, severity, label), count in ordered[:MAX_LINES_PER_DEVICE]:
            text.append(f"  {count} x {label} ({category}, {severity})")
            items.append(
                f"<li>{count} &times; {html.escape(label)} <small>({category}, {severity})</small></li>"
            )
        if len(ordered) > MAX_LINES_PER_DEVICE:
            rest = sum(count for _, count in ordered[MAX_LINES_PER_DEVICE:])
            text.append(f"  {rest} x ...")
            items.append(f"<li>{rest} &times; &hellip;</li>")
        parts.append(f"<h3>{html.escape(device)}</h3><ul>{''.join(items)}</ul>")
    if len(by_device) > MAX_DEVICES:
        others = words["rest"].format(
            alerts=sum(sum(kinds.values()) for _, kinds in by_device[MAX_DEVICES:]),
            devices=len(by_device) - MAX_DEVICES,
        )
        text += ["", others]
        parts.append(f"<p>{html.escape(others)}</p>")
    text += ["", words["more"]]
    parts.append(f"<p>{html.escape(words['more'])}</p>")
    return title, "\n".join(text), "".join(parts)
