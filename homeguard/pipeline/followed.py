"""A log file followed like `tail -F`: only what is written after HomeGuard starts; a
rotated (moved) or truncated (copytruncate) file is read again from its start; a file
that is not there yet is looked for again at every call. Complete lines only, at most
MAX_READ bytes a call, and a line longer than MAX_LINE is dropped (and counted)."""

from __future__ import annotations

import io
import logging
import math
import os
from collections import deque
from collections.abc import Iterator
from pathlib import Path

from homeguard.pipeline.feed import QUIET_AFTER, quiet_for

MAX_LINE = 64 << 10
MAX_READ = 4 << 20  # bytes per call: a huge backlog is read over several ticks
MAX_WAITING = 100_000  # lines read but waiting for the capture: beyond it they go on


class FollowedFile:
    """New complete lines of a file, across rotation and truncation."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: io.BufferedReader | None = None
        self._inode = -1
        self._position = 0
        self._partial = b""
        self.rotated = 0  # times the file was moved away or truncated
        self.cut = 0  # lines longer than MAX_LINE, dropped
        self._last_found: float | None = None
        self._open(from_end=True)

    def _open(self, from_end: bool) -> bool:
        try:
            handle = self.path.open("rb")
        except OSError:
            return False
        stat = os.fstat(handle.fileno())
        self._file, self._inode = handle, stat.st_ino
        self._position = stat.st_size if from_end else 0
        self._partial = b""
        return True

    def lines(self) -> list[bytes]:
        if self._file is None and not self._open(from_end=False):
            return []
        try:
            stat = self.path.stat()
        except OSError:
            stat = None
        if stat is not None and (stat.st_ino != self._inode or stat.st_size < self._position):
            self.rotated += 1
            self.close()
            if not self._open(from_end=False):
                return []
        handle = self._file
        assert handle is not None
        handle.seek(self._position)
        data = handle.read(MAX_READ)
        self._position += len(data)
        *complete, self._partial = (self._partial + data).split(b"\n")
        if len(self._partial) > MAX_LINE:
            self.cut += 1
            self._partial = b""
        return complete

    def problem(self, now: float) -> str | None:
        """Missing for QUIET_AFTER seconds: a health finding (the file may come back)."""
        if self.found:
            self._last_found = now
            return None
        if self._last_found is None:
            self._last_found = now  # missing since HomeGuard started: count from there
        if now - self._last_found < QUIET_AFTER:
            return None
        return f"the file {self.path} has been missing for {quiet_for(self._last_found, now)}"

    @property
    def found(self) -> bool:
        return self._file is not None

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


class FollowedFiles:
    """The files one source follows (a resolver's logs, Suricata's EVE logs)."""

    def __init__(self, paths: list[str], what: str, log: logging.Logger) -> None:
        self.files = [FollowedFile(Path(p)) for p in paths]
        for followed in self.files:
            log.info("%s %s %s", "following" if followed.found else "waiting for", what, followed.path)
        self._waiting: deque[tuple[float, Path, bytes]] = deque()

    def lines(self, read_at: float = math.inf, due: float = math.inf) -> Iterator[tuple[Path, bytes]]:
        """The lines written since the last call, each once the capture has caught up with
        when it was read (`due`, see Feed.drain): a lookup logged a moment after the
        device's packets waits for them, so the device is known by then."""
        waiting = self._waiting
        for followed in self.files:
            for line in followed.lines():
                waiting.append((read_at, followed.path, line))
        while waiting and (waiting[0][0] <= due or len(waiting) > MAX_WAITING):
            _read_at, path, line = waiting.popleft()
            yield path, line

    def problem(self, now: float) -> str | None:
        problems = [p for p in (f.problem(now) for f in self.files) if p]
        return "; ".join(problems) or None

    def close(self) -> None:
        for followed in self.files:
            followed.close()
