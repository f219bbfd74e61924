"""Every event as one JSON object per line, to a file or stdout: the `events_file`
setting (`--events` on run and replay). For debugging and for feeding other tools."""

from __future__ import annotations

import json
import sys
from typing import IO

from homeguard.events import Event


class JsonlEvents:
    def __init__(self, out: IO[str]) -> None:
        self.out = out

    @classmethod
    def open(cls, path: str) -> JsonlEvents:
        """'-' is stdout."""
        return cls(sys.stdout if path == "-" else open(path, "w", encoding="utf-8"))

    def __call__(self, event: Event) -> None:
        self.out.write(json.dumps(event, separators=(",", ":")) + "\n")

    def close(self) -> None:
        if self.out is sys.stdout:
            self.out.flush()
        else:
            self.out.close()
