"""Device makers from the IEEE OUI table (offline, nothing fetched).

The table is Wireshark's `manuf` file: the system's copy where Wireshark is installed,
else the copy scapy ships, the same source scapy's own lookup uses. We read it ourselves
into a sorted array of 24-bit prefixes and one string per maker: about 3 MiB, where
scapy's lookup (its configuration and a dict of 52,000 tuples) costs 34 MiB in every
process that asks, capture workers included. (scapy also writes a pickled copy into
the user's ~/.cache, which a hardened service has no business doing.)
"""

from __future__ import annotations

import base64
import bisect
import functools
import gzip
import importlib.util
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from homeguard.memory import trim_heap

# Where scapy looks for Wireshark's file (scapy/data.py), in its order.
WIRESHARK_MANUF = tuple(
    Path(prefix) / "share/wireshark/manuf" for prefix in ("/usr", "/usr/local", "/opt", "/opt/wireshark")
)


@dataclass(frozen=True, slots=True)
class OuiTable:
    prefixes: array[int]  # 24-bit prefixes, sorted
    makers: tuple[str, ...]  # the maker of each prefix, same order

    def maker(self, prefix: int) -> str | None:
        at = bisect.bisect_left(self.prefixes, prefix)
        if at < len(self.prefixes) and self.prefixes[at] == prefix:
            return self.makers[at]
        return None


def parse_manuf(lines: Iterable[str]) -> OuiTable:
    """Wireshark's manuf lines: `00:00:01<tab>Xerox<tab>Xerox Corporation  # comment`.
    Only whole 24-bit prefixes: longer assignments (`/28`, `/36`) name part of a prefix,
    and a device's prefix alone cannot say which."""
    found: dict[int, str] = {}
    interned: dict[str, str] = {}  # one string per maker: thousands of prefixes share one
    for line in lines:
        parts = line.split(None, 2)
        if len(parts) < 2 or len(parts[0]) != 8 or parts[0].startswith("#"):
            continue
        try:
            prefix = int(parts[0].replace(":", ""), 16)
        except ValueError:
            continue
        # The long name, without the comment some lines carry after a tab or '#'.
        long_name = parts[2].lstrip("#").split("\t", 1)[0].split("#", 1)[0].strip() if len(parts) > 2 else ""
        name = long_name or parts[1]
        found[prefix] = interned.setdefault(name, name)
    ordered = sorted(found)
    return OuiTable(array("I", ordered), tuple(found[p] for p in ordered))


@functools.cache  # read once per process, then only looked up
def oui_table() -> OuiTable:
    for path in WIRESHARK_MANUF:
        try:
            with path.open(encoding="utf-8", errors="backslashreplace") as lines:  # line by line: no
                return parse_manuf(lines)  # 2 MB string nor list of 52,000 lines left behind
        except OSError:  # not there, or not readable: the next place, then scapy's copy
            continue
    table = parse_manuf(lines_of(scapy_manuf()))
    trim_heap()  # the pure-Python base85 decode leaves 13 MiB of freed heap behind
    return table


def lines_of(text: str) -> Iterator[str]:
    """The lines one at a time (io.StringIO would hold four bytes a character)."""
    start = 0
    while (end := text.find("\n", start)) >= 0:
        yield text[start:end]
        start = end + 1
    yield text[start:]


def scapy_manuf() -> str:
    """scapy's copy of the file, kept gzipped in base85 in its libs/manuf.py. Read from
    the source rather than imported: the module, once imported, keeps 25 MiB."""
    spec = importlib.util.find_spec("scapy.libs.manuf")
    if spec is not None and spec.origin is not None:
        try:
            source = Path(spec.origin).read_text("utf-8")
            start = source.index('_d("""') + len('_d("""')
            encoded = source[start : source.index('""")', start)].replace("\n", "")
            return gzip.decompress(base64.b85decode(encoded)).decode("utf-8", errors="backslashreplace")
        except (OSError, ValueError):  # a scapy that keeps it otherwise: import it after all
            pass
    return str(importlib.import_module("scapy.libs.manuf").DATA)


class VendorLookup:
    """MAC prefix to maker name, cached per prefix."""

    def __init__(self) -> None:
        self._cache: dict[bytes, str | None] = {}

    def vendor(self, mac: bytes) -> str | None:
        if mac[0] & 2:  # locally administered: randomised or virtual, no maker registered
            return None
        prefix = mac[:3]
        if prefix not in self._cache:
            self._cache[prefix] = oui_table().maker(int.from_bytes(prefix, "big"))
        return self._cache[prefix]
