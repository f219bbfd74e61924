"""The report drawn for a terminal and as one self-contained HTML file.

HTML: inline CSS and SVG, no script and nothing fetched; every chart is an image with a
text alternative, followed by a table of the same figures; colours keep a contrast of
at least 4.5:1; it prints on A4. Every name is escaped for HTML (devices choose theirs).
"""

from __future__ import annotations

import html
from typing import Any

from sqlite_utils import Database

from homeguard.decode.text import terminal_safe
from homeguard.report.build import build_report, device_label, org_label, where
from homeguard.report.words import TEXT, purpose_name, size

BAR = 30  # characters of the longest bar in the terminal


def render_text(report: dict[str, Any]) -> str:
    language = report["language"]
    words = TEXT[language]
    period = words["from_to"].format(first=report["period"]["from"], last=report["period"]["to"])
    lines = [f"{words['title']}: {period}", ""]
    if not report["devices"]:
        lines.append(words["none"])
    for device in report["devices"]:
        lines.append(terminal_safe(device_label(device)))
        for sentence in device["sentences"]:
            lines.append(f"  {terminal_safe(sentence)}")
        biggest = max((o["bytes_out"] + o["bytes_in"] for o in device["organisations"]), default=0)
        for org in device["organisations"]:
            total = org["bytes_out"] + org["bytes_in"]
            bar = "█" * max(1, round(BAR * total / biggest)) if biggest else ""
            name = terminal_safe(org_label(org, language) + where(org, language))[:48]
            lines.append(f"    {name:<48} {size(total):>8}  {bar}")
        lines.append("")
    return "\n".join(lines)


STYLE = """
body { font: 16px/1.5 system-ui, sans-serif; color: #1a1a1a; background: #fff;
       margin: 2rem auto; max-width: 60rem; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; }
h2 { font-size: 1.25rem; margin-top: 2rem; border-top: 1px solid #767676; padding-top: 1rem; }
.period { color: #4a4a4a; margin-top: 0; }
svg { display: block; max-width: 100%; height: auto; }
svg text { font: 13px system-ui, sans-serif; fill: #1a1a1a; }
table { border-collapse: collapse; width: 100%; margin: 0.5rem 0 1rem; font-size: 0.9rem; }
caption { text-align: left; font-weight: 600; padding: 0.3rem 0; }
th, td { text-align: left; padding: 0.25rem 0.5rem; border-bottom: 1px solid #d0d0d0; }
.legend { font-size: 0.85rem; color: #4a4a4a; margin: 0.2rem 0; }
.scroll { overflow-x: auto; }
.key { display: inline-block; width: 0.8rem; height: 0.8rem; vertical-align: middle; }
.key.sent { background: #1f5fa8; } .key.received { background: #7a4a00; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
@media print { body { margin: 0; max-width: none; } h2 { break-before: auto; break-inside: avoid; } }
"""
SENT, RECEIVED = "#1f5fa8", "#7a4a00"  # 6.6:1 and 7.6:1 on white
NUM = ' class="num"'


def render_html(report: dict[str, Any]) -> str:
    language = report["language"]
    words = TEXT[language]
    e = html.escape
    period = words["from_to"].format(first=report["period"]["from"], last=report["period"]["to"])
    parts = [
        f'<!DOCTYPE html>\n<html lang="{language}">\n<head>\n<meta charset="utf-8">\n'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{e(words['title'])}: {e(period)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n"
        f'<h1>{e(words["title"])}</h1>\n<p class="period">{e(period)}</p>\n'
    ]
    if not report["devices"]:
        parts.append(f"<p>{e(words['none'])}</p>\n")
    for device in report["devices"]:
        parts.append(device_section(device, language))
    parts.append("</main>\n</body>\n</html>\n")
    return "".join(parts)


def device_section(device: dict[str, Any], language: str) -> str:
    """One device's section of the report (the HTML report and the dashboard's report page)."""
    words = TEXT[language]
    e = html.escape
    label = device_label(device)
    out = [f"<section>\n<h2>{e(label)}</h2>\n"]
    out.extend(f"<p>{e(sentence)}</p>\n" for sentence in device["sentences"])
    if device["totals_only"]:
        out.append(f"<p>{e(words['totals_only'])}</p>\n</section>\n")
        return "".join(out)
    orgs = device["organisations"]
    if orgs:
        ident = "chart-" + device["mac"].replace(":", "")
        out.append(legend(language))
        out.append(_chart(orgs, words["chart"].format(device=label), language, ident))
        out.append(_table(orgs, words, language))
    out.append("</section>\n")
    return "".join(out)


def _chart(orgs: list[dict[str, Any]], title: str, language: str, ident: str) -> str:
    items = [(org_label(o, language), o["bytes_out"], o["bytes_in"]) for o in orgs]
    return bar_chart(items, title, ident)


def bar_chart(items: list[tuple[str, int, int]], title: str, ident: str) -> str:
    """Horizontal bars, sent and received side by side, for (label, sent, received)
    items; the chart's title says the figures too, and a table of them follows it."""
    e = html.escape
    row, label_w, bar_w = 28, 260, 420
    biggest = max((max(sent, got) for _label, sent, got in items), default=0) or 1
    height = row * len(items) + 10
    description = "; ".join(f"{label}: {size(sent)} / {size(got)}" for label, sent, got in items)
    out = [
        f'<svg role="img" aria-labelledby="{ident}" viewBox="0 0 {label_w + bar_w + 90} {height}" '
        f'width="{label_w + bar_w + 90}" height="{height}">\n'
        f'<title id="{ident}">{e(title)}: {e(description)}</title>\n'
    ]
    for i, (label, sent, got) in enumerate(items):
        y = i * row + 4
        sent_w = max(1, round(bar_w * sent / biggest))
        got_w = max(1, round(bar_w * got / biggest))
        out.append(
            f'<text x="0" y="{y + 16}">{e(label[:34])}</text>\n'
            f'<rect x="{label_w}" y="{y + 2}" width="{sent_w}" height="10" fill="{SENT}"/>\n'
            f'<rect x="{label_w}" y="{y + 13}" width="{got_w}" height="10" fill="{RECEIVED}"/>\n'
            f'<text x="{label_w + max(sent_w, got_w) + 6}" y="{y + 16}">{e(size(sent + got))}</text>\n'
        )
    out.append("</svg>\n")
    return "".join(out)


def legend(language: str) -> str:
    """What the two bars mean (classes, not inline styles: the dashboard's CSP forbids those)."""
    return (
        '<p class="legend"><span class="key sent"></span> <span class="key received"></span> '
        f"{html.escape(TEXT[language]['legend'])}</p>\n"
    )


def _table(orgs: list[dict[str, Any]], words: dict[str, str], language: str) -> str:
    e = html.escape
    numeric = ("sent", "received", "connections")
    head = "".join(
        f'<th scope="col"{NUM if key in numeric else ""}>{e(words[key])}</th>'
        for key in ("organisation", "law", "servers", "sent", "received", "connections", "purpose", "tracker")
    )
    body = []
    for org in orgs:
        servers = ", ".join(c["name"] for c in org["countries"] if c["name"]) or "?"
        name = org_label(org, language) + (f" ({words['via'].format(cdn=org['via'])})" if org["via"] else "")
        body.append(
            f'<tr><th scope="row">{e(name)}</th><td>{e(org["jurisdiction_name"] or "?")}</td>'
            f'<td>{e(servers)}</td><td class="num">{e(size(org["bytes_out"]))}</td>'
            f'<td class="num">{e(size(org["bytes_in"]))}</td><td class="num">{org["connections"]}</td>'
            f"<td>{e(purpose_name(org['purpose'], language))}</td>"
            f"<td>{e(words['yes']) if org['tracker'] else ''}</td></tr>\n"
        )
    return (
        f'<div class="scroll" tabindex="0" role="region" aria-label="{e(words["table"])}">\n'
        f"<table>\n<caption>{e(words['table'])}</caption>\n"
        f"<thead><tr>{head}</tr></thead>\n<tbody>\n{''.join(body)}</tbody>\n</table>\n</div>\n"
    )


def report_for_mail(db: Database, now: float, days: int, language: str) -> tuple[str, str, str]:
    """The report as an e-mail: its subject, its text and its HTML (notify/sender.py)."""
    built = build_report(db, now, days, language)
    period = TEXT[language]["from_to"].format(first=built["period"]["from"], last=built["period"]["to"])
    return f"{TEXT[language]['title']}: {period}", render_text(built), render_html(built)
