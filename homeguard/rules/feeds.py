"""External lists (threat and tracker feeds): fetched over HTTPS on request, validated,
and swapped in atomically, so a broken or empty download never replaces a good copy.

Each source URL keeps its own last good copy in `<lists_dir>/sources/`; the list the
rules read (`<lists_dir>/NAME.txt`) is rebuilt from those copies. A source that fails
today still contributes its copy from yesterday. Nothing here runs unless a person (or
their timer) runs `homeguard lists update`: the daemon itself never fetches anything.
"""

from __future__ import annotations

import hashlib
import os
import ssl
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from homeguard.errors import ConfigError
from homeguard.rules.lists import IndicatorList, entry_of_line
from homeguard.settings import Config

FEEDS = {"threats": "threat_lists", "trackers-external": "tracker_lists"}  # list name -> setting
MAX_BYTES = 64 << 20  # the biggest feeds (URLhaus, EasyPrivacy) are a few MiB
TIMEOUT = 60.0
SHRINK_LIMIT = 10  # a download with under a tenth of the last copy's entries is broken
USER_AGENT = "HomeGuard lists update (+https://github.com/homeguard)"


@dataclass(slots=True)
class SourceResult:
    list_name: str
    url: str
    entries: int  # in the copy now in use (0: none)
    updated: bool
    problem: str = ""  # why the download was not used


Fetcher = Callable[[str], bytes]


def fetch_https(url: str) -> bytes:
    """The body of an HTTPS URL, certificate checked, at most MAX_BYTES, never via plain
    HTTP (not even by a redirect)."""
    context = ssl.create_default_context()
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    with urllib.request.urlopen(request, timeout=TIMEOUT, context=context) as response:
        if not response.geturl().startswith("https://"):
            raise ValueError(f"redirected to {response.geturl()}, which is not HTTPS")
        body: bytes = response.read(MAX_BYTES + 1)
    if len(body) > MAX_BYTES:
        raise ValueError(f"larger than {MAX_BYTES >> 20} MiB")
    return body


def lists_directory(config: Config) -> Path:
    """Where downloaded lists live: the lists_dir setting, else lists/ beside the database."""
    if config.values["lists_dir"]:
        return Path(config.values["lists_dir"])
    from homeguard.store.database import database_path

    return database_path(config.values["db_path"]).parent / "lists"


def configured_sources(config: Config) -> list[tuple[str, str]]:
    """(list name, URL) for every configured feed; a URL that is not HTTPS is an error
    naming where it was set."""
    sources = []
    for list_name, setting in FEEDS.items():
        urls = config.values["threat_lists"] if setting == "threat_lists" else config.values["tracker_lists"]
        for url in urls:
            if not url.startswith("https://"):
                where = config.source.get(setting, f"the {setting} setting")
                raise ConfigError(
                    f"{where}: {url!r} must be an https:// URL (lists are only fetched over HTTPS)"
                )
            sources.append((list_name, url))
    return sources


def valid_entries(body: bytes) -> list[str]:
    """The usable entries of a downloaded list, in the formats rules/lists take."""
    entries = []
    probe = IndicatorList("download")
    for line in body.decode("utf-8", "replace").splitlines():
        entry, _why = entry_of_line(line)
        if entry is not None and probe.add(entry) is None:
            entries.append(entry)
    return entries


def source_copy(lists_dir: Path, list_name: str, url: str) -> Path:
    digest = hashlib.sha256(url.encode()).hexdigest()[:16]
    return lists_dir / "sources" / f"{list_name}-{digest}.txt"


def write_atomically(path: Path, text: str) -> None:
    """Write beside the target, then rename over it: readers see the old or the new file,
    never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def count_entries(path: Path) -> int:
    if not path.exists():
        return 0
    return sum(
        1 for line in path.read_text(encoding="utf-8").splitlines() if line and not line.startswith("#")
    )


def update_source(lists_dir: Path, list_name: str, url: str, fetch: Fetcher, now: float) -> SourceResult:
    copy = source_copy(lists_dir, list_name, url)
    try:
        entries = valid_entries(fetch(url))
    except (OSError, ValueError, urllib.error.URLError, ssl.SSLError) as exc:
        return SourceResult(list_name, url, count_entries(copy), False, f"download failed: {exc}")
    before = count_entries(copy)
    if not entries:
        return SourceResult(list_name, url, before, False, "no usable entries (empty or not a list)")
    if len(entries) * SHRINK_LIMIT < before:
        why = f"only {len(entries)} entries where the last copy had {before}: probably cut short"
        return SourceResult(list_name, url, before, False, why)
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(now))
    write_atomically(copy, f"# {url}\n# fetched {stamp}\n" + "\n".join(entries) + "\n")
    return SourceResult(list_name, url, len(entries), True)


def rebuild_list(lists_dir: Path, list_name: str, urls: list[str]) -> int:
    """NAME.txt from the configured sources' copies (deduplicated); returns its size."""
    seen: dict[str, None] = {}
    for url in urls:
        copy = source_copy(lists_dir, list_name, url)
        if copy.exists():
            for line in copy.read_text(encoding="utf-8").splitlines():
                if line and not line.startswith("#"):
                    seen.setdefault(line, None)
    header = [f"# {list_name}: made by `homeguard lists update` from:"] + [f"#   {url}" for url in urls]
    write_atomically(lists_dir / f"{list_name}.txt", "\n".join([*header, *seen]) + "\n")
    return len(seen)


def update_lists(
    config: Config, lists_dir: Path, now: float, fetch: Fetcher = fetch_https
) -> list[SourceResult]:
    """Fetch every configured source, keep the good downloads, rebuild each list."""
    sources = configured_sources(config)
    results = [update_source(lists_dir, name, url, fetch, now) for name, url in sources]
    for list_name in FEEDS:
        urls = [url for name, url in sources if name == list_name]
        if urls:
            rebuild_list(lists_dir, list_name, urls)
    owners_url = config.values["address_owners_url"]
    if owners_url:
        if not owners_url.startswith("https://"):
            where = config.source.get("address_owners_url", "the address_owners_url setting")
            raise ConfigError(
                f"{where}: {owners_url!r} must be an https:// URL (lists are only fetched over HTTPS)"
            )
        results.append(update_address_owners(lists_dir / ADDRESS_OWNERS, owners_url, fetch))
    return results


ADDRESS_OWNERS = "address-owners.tsv"  # read by state/address_owners.py
MAX_UNPACKED = 256 << 20


def owner_ranges(body: bytes) -> list[str]:
    """The lines of an IP-to-AS table that are ranges (gzip unpacked first)."""
    if body[:2] == b"\x1f\x8b":
        import gzip
        import io

        with gzip.GzipFile(fileobj=io.BytesIO(body)) as unpacked:
            body = unpacked.read(MAX_UNPACKED + 1)
        if len(body) > MAX_UNPACKED:
            raise ValueError(f"larger than {MAX_UNPACKED >> 20} MiB unpacked")
    ranges = []
    for line in body.decode("utf-8", "replace").splitlines():
        parts = line.split("\t")
        if len(parts) >= 5 and parts[2].isdigit() and ("." in parts[0] or ":" in parts[0]):
            ranges.append("\t".join(parts[:5]))
    return ranges


def update_address_owners(target: Path, url: str, fetch: Fetcher) -> SourceResult:
    before = count_entries(target)
    try:
        ranges = owner_ranges(fetch(url))
    except (OSError, ValueError, EOFError, urllib.error.URLError, ssl.SSLError) as exc:
        return SourceResult("address-owners", url, before, False, f"download failed: {exc}")
    if not ranges:
        return SourceResult("address-owners", url, before, False, "no address ranges (empty or not a table)")
    if len(ranges) * SHRINK_LIMIT < before:
        why = f"only {len(ranges)} ranges where the last copy had {before}: probably cut short"
        return SourceResult("address-owners", url, before, False, why)
    write_atomically(target, "\n".join(ranges) + "\n")
    return SourceResult("address-owners", url, len(ranges), True)
