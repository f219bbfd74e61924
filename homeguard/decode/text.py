"""Words from the network are the attacker's: every string a device chooses (its DHCP
host name, mDNS and DNS names, SSDP headers, HTTP Host and User-Agent, TLS SNI, banners,
user names, MQTT client ids, certificate names) is made safe here, once, where it enters.

- Invalid UTF-8 becomes U+FFFD.
- Control characters (NUL, ESC, newlines, DEL, C1) and the invisible format characters
  that reorder or hide text (bidirectional overrides and isolates, zero-width characters,
  line and paragraph separators) are written out as visible escapes: `\\x1b`, `\\u202e`.
  A terminal, a push notification or a mail then shows them; none of them acts on them.
- A string longer than its cap is cut, and ends with "…".

Outputs still encode for their medium (HTML escapes, JSON quotes), and messages quote
these names, so that a name can never read as HomeGuard's own sentence.
"""

from __future__ import annotations

import unicodedata

NAME_LIMIT = 255  # host names, service names, SNI: DNS allows 253 characters
TEXT_LIMIT = 512  # headers, banners, user agents (an HTTP URI: 4096, decode/http.py)
ELLIPSIS = "…"
# Categories escaped: controls (Cc), format characters (Cf: bidi overrides, zero-width,
# soft hyphen), line and paragraph separators (Zl, Zp), lone surrogates (Cs).
ESCAPED_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})


def network_text(raw: bytes | str, limit: int = TEXT_LIMIT) -> str:
    """A string a device chose, safe to store and show (see the module's docstring)."""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    if not (text.isascii() and text.isprintable()):  # the common case costs two C calls
        text = "".join(_escaped(c) for c in text)
    if len(text) > limit:
        text = text[: limit - 1] + ELLIPSIS
    return text


def network_name(raw: bytes | str) -> str:
    """A host, service or server name from the network."""
    return network_text(raw, NAME_LIMIT)


def _escaped(char: str) -> str:
    if unicodedata.category(char) not in ESCAPED_CATEGORIES:
        return char
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def terminal_safe(text: str) -> str:
    """For text shown on a terminal that may predate network_text (an old database):
    the same escapes, without a cap."""
    return network_text(text, limit=10 * len(text) + 1)  # an escape is at most 10 characters
