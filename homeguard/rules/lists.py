"""Named indicator lists (rules/lists/NAME.txt): domains, IPs, networks and MACs.

Each line stands on its own and may be in hosts format (`0.0.0.0 tracker.example`),
adblock format (`||tracker.example^`), or a plain domain, IP, CIDR or MAC. Comments
start with # or !. Lines we cannot use are skipped and reported with file:line.
A domain entry matches the domain and its subdomains, nothing else; lookups walk a
name's parent domains through a compact hashed set (nameset.py), so they cost about
the same for any list size. A list holds at most MAX_ENTRIES entries: the lines past
it are reported and not read.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from pathlib import Path

from homeguard.rules.nameset import NameSet

_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\.)+[a-z0-9-]{2,63}$")
# A line that is a lower-case domain and nothing else, not ending in a digit (which could
# be an address): read without the general parsing below. $ allows the line's newline.
_PLAIN_DOMAIN_LINE = re.compile(
    r"^(?=.{1,253}$)([a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\.)+[a-z0-9-]{1,62}[a-z-]$"
)
_MAC = re.compile(r"^[0-9a-f]{2}([:-])[0-9a-f]{2}(\1[0-9a-f]{2}){4}$")
HOSTS_SINKS = {"0.0.0.0", "127.0.0.1", "::", "::1", "::0"}
MAX_ENTRIES = 2_000_000  # per list: 16 MB of domains at most (docs/lists.md)
OVER_CAP = (
    "the list has more than {:,} entries (the cap): this line and the rest are not read; "
    "use a smaller list, or split it between two list files and rules"
)
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(slots=True)
class SkippedLine:
    path: str
    line: int
    text: str
    why: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: skipped {self.text[:60]!r}: {self.why}"


@dataclass(slots=True)
class IndicatorList:
    name: str
    domains: NameSet = field(default_factory=NameSet)
    ips: set[str] = field(default_factory=set)
    networks: dict[tuple[int, int], set[int]] = field(default_factory=dict)  # (version, prefix) -> nets
    macs: set[str] = field(default_factory=set)
    skipped: list[SkippedLine] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.domains) + len(self.ips) + sum(map(len, self.networks.values())) + len(self.macs)

    def add(self, entry: str) -> str | None:
        """Add one entry; return why it cannot be used, or None."""
        text = entry.strip().lower().rstrip(".")
        if "." in text and ":" not in text and "/" not in text and not text[-1].isdigit():
            return self._add_domain(text)  # most lines of big lists: no address parsing
        if _MAC.match(text):
            self.macs.add(text.replace("-", ":"))
            return None
        if "/" in text:
            try:
                net = ipaddress.ip_network(text, strict=False)
            except ValueError:
                return "not a valid network"
            self.networks.setdefault((net.version, net.prefixlen), set()).add(int(net.network_address))
            return None
        try:
            self.ips.add(str(ipaddress.ip_address(text)))
            return None
        except ValueError:
            pass
        return self._add_domain(text)

    def _add_domain(self, text: str) -> str | None:
        if "*" in text:
            return "wildcards are not supported"
        if "." not in text:
            return "a bare top-level domain would match too much"
        if not _DOMAIN.match(text):
            return "not a domain, IP, network or MAC"
        self.domains.add(text)
        return None

    def contains(self, value: str) -> bool:
        text = value.strip().lower()
        if not text:
            return False
        first = text[0]
        if first.isdigit() or ":" in text:
            if text in self.ips or text in self.macs:
                return True
            if self.networks:
                try:
                    addr = ipaddress.ip_address(text)
                except ValueError:
                    pass
                else:
                    return self._in_networks(addr)
        return self.domains.has_domain_of(text.rstrip("."))

    def _in_networks(self, addr: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        bits = 32 if addr.version == 4 else 128
        value = int(addr)
        for (version, prefix), nets in self.networks.items():
            if version == addr.version and (value >> (bits - prefix) << (bits - prefix)) in nets:
                return True
        return False


def entry_of_line(line: str) -> tuple[str | None, str | None]:
    """The usable entry in one list line, or (None, why it was skipped); (None, None) for
    comments and blank lines."""
    text = line.strip()
    if not text or text[0] in "#!;" or text.startswith("[Adblock"):
        return None, None
    if text.startswith("@@"):
        return None, "adblock exceptions are not supported"
    if text.startswith("<") or text.endswith(">"):
        return None, "HTML, not a list entry"
    if text.startswith("||"):
        body = text[2:]
        if "$" in body:
            return None, "adblock $options are not supported"
        if not body.endswith("^") or "/" in body:
            return None, "only ||domain^ adblock rules are supported"
        return body[:-1], None
    text = text.split("#", 1)[0].split(";", 1)[0].strip()  # Spamhaus DROP comments with ';'
    parts = text.split()
    if len(parts) >= 2 and parts[0] in HOSTS_SINKS:
        if len(parts) > 2:
            return None, "a hosts line with several names: put one name per line"
        return parts[1], None
    if len(parts) != 1:
        return None, "more than one word on the line"
    return parts[0], None


MAX_SKIPPED_SHOWN = 1000  # skipped lines reported one by one per list; the rest are counted


def load_list(path: Path, name: str | None = None) -> IndicatorList:
    indicators = IndicatorList(name or path.stem)
    skipped = indicators.skipped
    entries = unshown = number = 0
    plain_domain, domains = _PLAIN_DOMAIN_LINE.match, indicators.domains
    with path.open(encoding="utf-8", errors="replace") as f:
        for number, line in enumerate(f, 1):
            if entries < MAX_ENTRIES and plain_domain(line):  # most lines of many big lists
                domains.add(line.rstrip("\n"))  # as add() would keep it
                entries += 1
                continue
            entry, why = entry_of_line(line)
            if entry is not None:
                if entries >= MAX_ENTRIES:
                    over = OVER_CAP.format(MAX_ENTRIES)
                    skipped.append(SkippedLine(str(path), number, line.strip(), over))
                    break
                why = indicators.add(entry)
                entries += why is None
            if why is not None:
                if len(skipped) < MAX_SKIPPED_SHOWN:
                    skipped.append(SkippedLine(str(path), number, line.strip(), why))
                else:
                    unshown += 1
    if unshown:
        skipped.append(SkippedLine(str(path), number, "", f"and {unshown:,} more lines skipped (not shown)"))
    indicators.domains.freeze()
    return indicators


def list_from_entries(name: str, entries: list[str]) -> IndicatorList:
    """A list given inline, as in a rule's tests."""
    indicators = IndicatorList(name)
    for number, entry in enumerate(entries, 1):
        why = indicators.add(str(entry))
        if why is not None:
            indicators.skipped.append(SkippedLine(f"<tests:{name}>", number, str(entry), why))
    return indicators


def load_lists(directories: list[Path]) -> dict[str, IndicatorList]:
    """Every NAME.txt in the directories; a later directory's list replaces an earlier one."""
    lists: dict[str, IndicatorList] = {}
    for directory in directories:
        if directory.is_dir():
            for path in sorted(directory.glob("*.txt")):
                lists[path.stem] = load_list(path)
    return lists
