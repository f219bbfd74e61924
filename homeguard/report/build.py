"""The report's content, as the stable JSON structure docs/report.md describes: for each
device, the organisations its data went to (with both countries: where the servers are,
and whose law applies), the share that left the EU and EEA, the trackers it contacted,
what is new since the period before, and a few sentences in the chosen language.

The text and HTML renderings (render_text.py, render_html.py) only draw this.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from sqlite_utils import Database

from homeguard.report.words import TEXT, country_name, percent, size
from homeguard.state.organisations import EEA
from homeguard.store import ledger

FORMAT = 1  # the JSON's version: a field's meaning never changes within it
DAY = 86400.0
TOP = 10  # organisations listed per device; the rest are summed as "others"


@dataclass(frozen=True, slots=True)
class Period:
    first: str  # local dates, YYYY-MM-DD, inclusive
    last: str
    days: int

    @classmethod
    def ending(cls, now: float, days: int) -> Period:
        return cls(_local_day(now - (days - 1) * DAY), _local_day(now), days)

    def before(self) -> Period:
        start = time.mktime(time.strptime(self.first, "%Y-%m-%d"))
        return Period(_local_day(start - self.days * DAY + 3600), _local_day(start - 3600), self.days)


@dataclass(slots=True)
class Before:
    """The period before, per device: its organisations and what it sent."""

    orgs: dict[str, set[str]] = field(default_factory=dict)
    sent: dict[str, int] = field(default_factory=dict)

    def of(self, mac: str) -> set[str]:
        return self.orgs.get(mac, set())


def _local_day(ts: float) -> str:
    return time.strftime("%Y-%m-%d", time.localtime(ts))


def build_report(
    db: Database, now: float, days: int, language: str, device_mac: str | None = None
) -> dict[str, Any]:
    period = Period.ending(now, days)
    previous = period.before()
    rows = ledger.totals(db, period.first, period.last, device_mac)
    before = Before()
    for r in ledger.totals(db, previous.first, previous.last, device_mac):
        before.orgs.setdefault(r["device_mac"], set()).add(r["org"])
        before.sent[r["device_mac"]] = before.sent.get(r["device_mac"], 0) + r["bytes_out"]
    names = _device_names(db)
    by_device: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_device.setdefault(row["device_mac"], []).append(row)
    devices = [
        _device(mac, names.get(mac, {}), device_rows, before, period, language)
        for mac, device_rows in by_device.items()
    ]
    devices.sort(key=lambda d: -(d["bytes_out"] + d["bytes_in"]))
    sent = sum(d["bytes_out"] for d in devices)
    outside = sum(d["bytes_outside_eea"] for d in devices)
    total = sum(d["bytes_out"] + d["bytes_in"] for d in devices)
    return {
        "report": FORMAT,
        "generated": now,
        "language": language,
        "period": {"from": period.first, "to": period.last, "days": period.days},
        "previous_period": {"from": previous.first, "to": previous.last},
        "household": {
            "devices": len(devices),
            "bytes_out": sent,
            "bytes_in": sum(d["bytes_in"] for d in devices),
            "outside_eea_share": round(outside / total, 4) if total else 0.0,
            "organisations": len({o["name"] for d in devices for o in d["organisations"] if o["name"]}),
        },
        "devices": devices,
    }


def _device_names(db: Database) -> dict[str, dict[str, Any]]:
    return {row["mac"]: row for row in db.query("SELECT mac, hostname, mdns_name, vendor FROM devices")}


def _device(
    mac: str,
    known: dict[str, Any],
    rows: list[dict[str, Any]],
    before: Before,
    period: Period,
    language: str,
) -> dict[str, Any]:
    orgs: dict[str, dict[str, Any]] = {}
    for row in rows:
        org = orgs.setdefault(row["org"], _organisation(row, language))
        org["bytes_out"] += row["bytes_out"]
        org["bytes_in"] += row["bytes_in"]
        org["connections"] += row["connections"]
        org["tracker"] = org["tracker"] or bool(row["tracker"])
        org["domains"] = sorted({*org["domains"], *row["domains"]})[: ledger.MAX_DOMAINS]
        org["countries"].append(
            {
                "code": row["server_country"] or None,
                "name": country_name(row["server_country"], language) if row["server_country"] else None,
                "eea": row["server_country"] in EEA if row["server_country"] else None,
                "bytes": row["bytes_out"] + row["bytes_in"],
            }
        )
    listed = sorted(orgs.values(), key=lambda o: -(o["bytes_out"] + o["bytes_in"]))
    total = sum(o["bytes_out"] + o["bytes_in"] for o in listed)
    outside = sum(c["bytes"] for o in listed for c in o["countries"] if c["eea"] is False)
    detail = all(r["detail"] for r in rows)
    device = {
        "mac": mac,
        "name": known.get("hostname") or known.get("mdns_name"),
        "vendor": known.get("vendor"),
        "totals_only": not detail,
        "bytes_out": sum(o["bytes_out"] for o in listed),
        "bytes_in": sum(o["bytes_in"] for o in listed),
        "connections": sum(o["connections"] for o in listed),
        "bytes_outside_eea": outside,
        "outside_eea_share": round(outside / total, 4) if total else 0.0,
        "organisations": listed[:TOP] if detail else [],
        "other_organisations": max(0, len(listed) - TOP) if detail else 0,
        "trackers": sorted(o["name"] for o in listed if o["tracker"] and o["name"]),
        "new_organisations": sorted(
            o["name"] for o in listed if o["name"] and o["name"] not in before.of(mac)
        )
        if detail
        else [],
        "gone_organisations": sorted(n for n in before.of(mac) - set(orgs) if n) if detail else [],
        "bytes_out_previous_period": before.sent.get(mac, 0),
    }
    device["sentences"] = sentences(device, period, language)
    return device


def _organisation(row: dict[str, Any], language: str) -> dict[str, Any]:
    return {
        "name": row["org"] or None,
        "jurisdiction": row["jurisdiction"],
        "jurisdiction_name": country_name(row["jurisdiction"], language) if row["jurisdiction"] else None,
        "purpose": row["purpose"],
        "via": row["via"],
        "source": row["source"],
        "tracker": False,
        "bytes_out": 0,
        "bytes_in": 0,
        "connections": 0,
        "countries": [],
        "domains": [],
    }


def device_label(device: dict[str, Any]) -> str:
    """How a sentence names a device: its own name, quoted (it chose it), else maker and MAC."""
    if device["name"]:
        return f"“{device['name']}”"
    return f"{device['vendor']} {device['mac']}" if device["vendor"] else device["mac"]


def org_label(org: dict[str, Any], language: str) -> str:
    return str(org["name"]) if org["name"] else TEXT[language]["unknown_org"]


def where(org: dict[str, Any], language: str) -> str:
    """(South Korea), or (South Korea, servers in the Netherlands) when they differ."""
    law = org["jurisdiction_name"]
    servers = [c["name"] for c in sorted(org["countries"], key=lambda c: -c["bytes"]) if c["name"]]
    if servers and servers[0] != law:
        return f" ({law + ', ' if law else ''}servers in {servers[0]})"  # the same words in Dutch
    return f" ({law})" if law else ""


def sentences(device: dict[str, Any], period: Period, language: str) -> list[str]:
    words = TEXT[language]
    when = words["period_week"] if period.days == 7 else words["period_days"].format(days=period.days)
    label = device_label(device)
    if not device["bytes_out"] and not device["bytes_in"]:
        return [words["none"]]
    if device["totals_only"]:
        amount, received = size(device["bytes_out"]), size(device["bytes_in"])
        return [words["sent_total"].format(device=label, amount=amount, received=received, period=when)]
    orgs = [o for o in device["organisations"] if o["bytes_out"]]
    said: list[str] = []
    if len(orgs) >= 2:
        first, second = orgs[0], orgs[1]
        said.append(
            words["sent_to_two"].format(
                device=label,
                amount=size(first["bytes_out"]),
                org=org_label(first, language),
                where=where(first, language),
                amount2=size(second["bytes_out"]),
                org2=org_label(second, language),
                where2=where(second, language),
                period=when,
            )
        )
    elif orgs:
        said.append(
            words["sent_to"].format(
                device=label,
                amount=size(orgs[0]["bytes_out"]),
                org=org_label(orgs[0], language),
                where=where(orgs[0], language),
                period=when,
            )
        )
    share = device["outside_eea_share"]
    said.append(words["outside_eea"].format(share=percent(share)) if share >= 0.005 else words["inside_eea"])
    trackers = device["trackers"]
    if trackers:
        which = "trackers" if len(trackers) > 1 else "trackers_one"
        said.append(words[which].format(count=len(trackers), names=", ".join(trackers)))
    previous = device["bytes_out_previous_period"]
    if previous and device["bytes_out"]:
        change = device["bytes_out"] / previous - 1
        if abs(change) >= 0.1:
            key = "more" if change > 0 else "less"
            said.append(words[key].format(share=percent(abs(change)), amount=size(previous)))
    if device["new_organisations"]:
        said.append(words["new"].format(names=", ".join(device["new_organisations"][:8])))
    return said
