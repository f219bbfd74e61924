"""Personal data in URIs and headers (decode/pii.py): a text is searched only with the
patterns whose literal part it holds. That shortcut must never change what is found or
how a text is redacted: here it is compared, on texts built to sit on every edge, with
searching every text with every pattern."""

from __future__ import annotations

import random
import re
from urllib.parse import quote, unquote_plus

import pytest

from homeguard.decode import pii
from homeguard.decode.pii import PATTERNS, PersonalData, redact, scan

PIECES = (
    "a.person@example.nl",
    "A.Person%40Example.NL",
    "lat=52.3731&lon=4.8922",
    "LATITUDE=-33.8688&Longitude=151.2093",
    "lat=52.37",
    "imei=490154203237518",
    "Device_ID=490154203237518",
    "deviceid=490154203237517",
    "\u0131mei=490154203237518",  # a dotless i: IGNORECASE matches it with i
    "\u0130MEI=490154203237518",
    "mac=aa:bb:cc:dd:ee:ff",
    "MACADDR=AA-BB-CC-DD-EE-FF",
    "mac_address=aabbccddeeff",
    "+31612345678",
    "%2B31612345678",
    "0031612345678",
    "tel=+31+6+12",
    "x00123",
    "q=hello+world",
    "%zz%4",
    "/index.html",
    "Mozilla/5.0 (X11; Linux x86_64)",
    "session=4f2a",
    "=",
    "@",
    "٠٠٣١٦١٢٣٤٥٦٧٨",  # Arabic-Indic digits: \\d matches them
)


def every_pattern_redact(text: str) -> str:
    """The reference: every pattern on every text."""
    plain = unquote_plus(text)
    for pattern, kind, _ in PATTERNS:
        plain = pattern.sub(lambda m, k=kind: pii._redacted(k, m), plain)  # type: ignore[misc]
    return plain if plain != unquote_plus(text) else text


def every_pattern_scan(text: str) -> list[PersonalData]:
    text = unquote_plus(text)
    found = []
    for pattern, kind, _ in PATTERNS:
        for m in pattern.finditer(text):
            if kind == "imei" and not pii._luhn(m.group(1)):
                continue
            found.append(sample_of(kind, m))
    return found[: pii.MAX_FINDINGS]


def sample_of(kind: str, m: re.Match[str]) -> PersonalData:
    one, two = m.group(1), m.group(2) if kind in ("email", "gps") else ""
    samples = {
        "email": f"{one[0]}***@{two}",
        "gps": f"{one[:4]}…,{two[:4]}…",
        "imei": f"{one[:2]}*************",
        "mac": f"{one[:8]}:**:**:**",
        "phone": f"+{one[:3]}*******",
    }
    return PersonalData(kind, samples[kind])


def texts(seed: int) -> list[str]:
    rng = random.Random(seed)
    built = []
    for _ in range(400):
        parts = rng.sample(PIECES, rng.randint(1, 4))
        if rng.random() < 0.3:
            parts = [quote(p, safe="") if rng.random() < 0.5 else p for p in parts]
        built.append(rng.choice(["&", "?", " ", ";", "/", ""]).join(parts))
    return built


@pytest.mark.parametrize("seed", range(5))
def test_the_shortcut_finds_and_redacts_what_every_pattern_does(seed: int) -> None:
    for text in [*PIECES, *texts(seed)]:
        assert scan(text) == every_pattern_scan(text), text
        assert redact(text) == every_pattern_redact(text), text


def test_personal_data_is_found_and_redacted() -> None:
    """The reference itself finds them: the comparison above is not between two blanks."""
    text = "/a?mail=a.person%40example.nl&lat=52.3731&lon=4.8922&imei=490154203237518&tel=%2B31612345678"
    assert [d.kind for d in scan(text)] == ["email", "gps", "imei", "phone"]
    redacted = redact(text)
    for secret in ("person", "3731", "4203237518", "612345678"):
        assert secret not in redacted
    assert redact("/index.html?q=hello+world") == "/index.html?q=hello+world"
