"""Every event as one JSON object per line, to a file or stdout: the `events_file`
setting (`--events` on run and replay). For debugging and for feeding other tools."""

from __future__ import annotations

import json
import sys
from typing import IO

from homeguard.errors import ConfigError
from homeguard.events import Event


class JsonlEvents:
    def __init__(self, out: IO[str]) -> None:
        self.out = out

    @classmethod
    def open(cls, path: str) -> JsonlEvents:
        """'-' is stdout. A file that cannot be written is a ConfigError naming it."""
        if path == "-":
            return cls(sys.stdout)
        try:
            return cls(open(path, "w", encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"--events / events_file: cannot write {path}: {exc.strerror}") from exc

    def __call__(self, event: Event) -> None:
        self.out.write(json.dumps(event, separators=(",", ":")) + "\n")

    def close(self) -> None:
        if self.out is sys.stdout:
            self.out.flush()
        else:
            self.out.close()
