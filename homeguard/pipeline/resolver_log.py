"""The household resolver's query log as a source: each lookup a device made becomes a
DNS event for that device, as if HomeGuard had seen the packets (`dns_log_files`).

A household whose only change is running dnsmasq (or Pi-hole, which is dnsmasq inside)
or unbound with query logging gets tracker, DGA, tunnel and company findings for every
device, and names for the flows a router's flow export reports.

Read formats (the program is recognised per line):
- dnsmasq `log-queries`: `query[A] name from 192.168.1.20`, then `reply name is 1.2.3.4`,
  `cached ...`, `config ...` or `... is NXDOMAIN`;
- unbound `log-queries` and `log-replies`: `info: 192.168.1.20 name. A IN` and
  `info: 192.168.1.20 name. A IN NOERROR 0.000 0 45`. Its reply lines carry the rcode,
  not the addresses, so unbound's log does not name flows.

Each file is followed like `tail -F`: only what is written after HomeGuard starts, a
rotated or truncated file is read again from its start, and a file that is not there
(yet) is looked for again at every tick. A line that is not a lookup is skipped; lines
longer than MAX_LINE are cut (and counted). Times are when the line was read, at most a
tick (about a second) after it was written: the logs' own timestamps lack the year or
the time zone.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from homeguard.decode.resolver_log import parse_line
from homeguard.pipeline.followed import FollowedFiles

if TYPE_CHECKING:
    from homeguard.pipeline.core import Pipeline

log = logging.getLogger("homeguard.resolver_log")
MAX_LINE = 4096


@dataclass(slots=True)
class ResolverLogStats:
    lines: int = 0
    lookups: int = 0
    skipped: int = 0


class ResolverLog:
    def __init__(self, paths: list[str]) -> None:
        self.name = "resolver-log"
        self.files = FollowedFiles(paths, "the resolver log", log)
        self.stats = ResolverLogStats()
        self._askers: dict[str, str] = {}

    def drain(self, pipeline: Pipeline, now: float) -> int:
        fed = 0
        for _path, raw in self.files.lines(pipeline.clock.time(), now):
            self.stats.lines += 1
            text = raw[:MAX_LINE].decode("utf-8", "replace")
            lookup = parse_line(text, self._askers)
            if lookup is None:
                self.stats.skipped += 1
                continue
            self.stats.lookups += 1
            fed += pipeline.logged_lookup(min(now, pipeline.clock.time()), lookup)
        return fed

    def problem(self, now: float) -> str | None:
        return self.files.problem(now)

    def close(self) -> None:
        self.files.close()
