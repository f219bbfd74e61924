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
# What each pattern cannot match without (lower case). Most URIs and headers hold none of
# these, and a text is then not searched at all.
PATTERNS = (
    (EMAIL, "email", ("@",)),
    (GPS, "gps", ("lat",)),
    (IMEI, "imei", ("imei", "device")),
    (MAC, "mac", ("mac",)),
    (PHONE, "phone", ("+", "00")),
)
ANY_NEEDLE = re.compile("|".join(re.escape(n) for _, _, needles in PATTERNS for n in needles), re.I)


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


def _decoded(text: str) -> str:
    return unquote_plus(text) if "%" in text or "+" in text else text


def _possible(plain: str) -> list[tuple[re.Pattern[str], str]]:
    """The patterns the text holds the literal part of. A text that is not all ASCII is
    searched with every pattern: with IGNORECASE a few other letters match ASCII ones
    (the dotless i, U+0131, matches i), which lower() would not show."""
    if not plain.isascii():
        return [(pattern, kind) for pattern, kind, _ in PATTERNS]
    if ANY_NEEDLE.search(plain) is None:  # nearly every text: one search instead of nine
        return []
    lower = plain.lower()
    return [(pattern, kind) for pattern, kind, needles in PATTERNS if any(n in lower for n in needles)]


def redact(text: str) -> str:
    """The text with every piece of personal data replaced by its redacted sample."""
    decoded = _decoded(text)
    plain = decoded
    for pattern, kind in _possible(decoded):
        plain = pattern.sub(lambda m, k=kind: _redacted(k, m), plain)  # type: ignore[misc]
    return plain if plain != decoded else text


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


def _sample(kind: str, m: re.Match[str]) -> str:
    if kind == "email":
        return f"{m.group(1)[0]}***@{m.group(2)}"
    if kind == "gps":
        return f"{m.group(1)[:4]}…,{m.group(2)[:4]}…"
    if kind == "imei":
        return f"{m.group(1)[:2]}*************"
    if kind == "mac":
        return f"{m.group(1)[:8]}:**:**:**"
    return f"+{m.group(1)[:3]}*******"


def scan(text: str) -> list[PersonalData]:
    text = _decoded(text)
    found: list[PersonalData] = []
    for pattern, kind in _possible(text):  # in PATTERNS' order: e-mail first
        for m in pattern.finditer(text):
            if kind != "imei" or _luhn(m.group(1)):  # an IMEI's last digit checks the others
                found.append(PersonalData(kind, _sample(kind, m)))
    return found[:MAX_FINDINGS]
