"""Personal data in clear text: e-mail addresses, GPS coordinates, phone numbers and
device identifiers (IMEI, MAC) in URIs and headers. Only the kind and a redacted
sample are kept: a***@example.nl, never the value itself."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote_plus

EMAIL = re.compile(r"\b([A-Za-z0-9._%+-]{1,64})@([A-Za-z0-9.-]+\.[A-Za-z]{2,24})\b")
GPS = re.compile(
    r"(?:lat(?:itude)?)=(-?\d{1,2}\.\d{3,})\b.*?(?:lon|lng|longitude)=(-?\d{1,3}\.\d{3,})\b", re.I
)
PHONE = re.compile(r"(?<![\w.])(?:\+|00)(\d{10,14})(?![\w.])")
IMEI = re.compile(r"(?:imei|device_?id)=(\d{15})\b", re.I)
MAC = re.compile(r"(?:mac|macaddr|mac_address)=((?:[0-9a-f]{2}[:-]?){5}[0-9a-f]{2})\b", re.I)
MAX_FINDINGS = 5


@dataclass(slots=True, frozen=True)
class PersonalData:
    kind: str  # email, gps, phone, imei, mac
    sample: str  # redacted


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch) * (2 if i % 2 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


def redact(text: str) -> str:
    """The text with every piece of personal data replaced by its redacted sample."""
    if not any(ch in text for ch in "@=+0"):
        return text
    plain = unquote_plus(text)
    for pattern, kind in ((EMAIL, "email"), (GPS, "gps"), (IMEI, "imei"), (MAC, "mac"), (PHONE, "phone")):
        plain = pattern.sub(lambda m, k=kind: _redacted(k, m), plain)  # type: ignore[misc]
    return plain if plain != unquote_plus(text) else text


def _redacted(kind: str, m: re.Match[str]) -> str:
    if kind == "email":
        return f"{m.group(1)[0]}***@{m.group(2)}"
    if kind == "gps":
        whole = m.group(0)
        return whole.replace(m.group(1), m.group(1)[:4] + "…").replace(m.group(2), m.group(2)[:4] + "…")
    if kind == "imei":
        return m.group(0).replace(m.group(1), m.group(1)[:2] + "*" * 13)
    if kind == "mac":
        return m.group(0).replace(m.group(1), m.group(1)[:8] + ":**:**:**")
    return f"+{m.group(1)[:3]}*******"


def scan(text: str) -> list[PersonalData]:
    text = unquote_plus(text)
    found: list[PersonalData] = []
    for m in EMAIL.finditer(text):
        found.append(PersonalData("email", f"{m.group(1)[0]}***@{m.group(2)}"))
    for m in GPS.finditer(text):
        found.append(PersonalData("gps", f"{m.group(1)[:4]}…,{m.group(2)[:4]}…"))
    for m in IMEI.finditer(text):
        if _luhn(m.group(1)):
            found.append(PersonalData("imei", f"{m.group(1)[:2]}*************"))
    for m in MAC.finditer(text):
        found.append(PersonalData("mac", f"{m.group(1)[:8]}:**:**:**"))
    for m in PHONE.finditer(text):
        found.append(PersonalData("phone", f"+{m.group(1)[:3]}*******"))
    return found[:MAX_FINDINGS]
