"""The ECS JSON file: one document a line, rotated by size (FILE.1 the newest old one),
written whole lines at a time and flushed, so that a shipper (Filebeat's filestream with
the ndjson parser, Vector, Fluent Bit) never reads half a document."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import IO, Any


class RotatingNdjson:
    def __init__(self, path: str | Path, max_bytes: int, keep: int) -> None:
        self.path = Path(path)
        self.max_bytes = max_bytes
        self.keep = keep
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._out: IO[str] = self._open()

    def _open(self) -> IO[str]:
        descriptor = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640)
        return os.fdopen(descriptor, "a", encoding="utf-8")

    def write(self, doc: dict[str, Any]) -> None:
        line = json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n"
        if self._out.tell() + len(line.encode()) > self.max_bytes and self._out.tell() > 0:
            self._rotate()
        self._out.write(line)
        self._out.flush()

    def _rotate(self) -> None:
        """FILE -> FILE.1 -> FILE.2 ...; the oldest beyond `keep` goes."""
        self._out.close()
        oldest = self.path.with_name(f"{self.path.name}.{self.keep}")
        oldest.unlink(missing_ok=True)
        for n in range(self.keep - 1, 0, -1):
            older = self.path.with_name(f"{self.path.name}.{n}")
            if older.exists():
                older.rename(self.path.with_name(f"{self.path.name}.{n + 1}"))
        self.path.rename(self.path.with_name(f"{self.path.name}.1"))
        self._out = self._open()

    def close(self) -> None:
        self._out.close()
