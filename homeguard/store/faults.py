"""What can go wrong with the database file, told apart and put in words with the fix.

SQLite names its failures by result code. The ones a household meets are a full disk
(an SD card filled by something else), a lock held by another program (an sqlite3
shell left in a transaction), a damaged file (power cut on a card that lies about
flushing), a file HomeGuard may no longer write, and a disk that fails.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from pathlib import Path

log = logging.getLogger("homeguard.store")

# SQLite primary result codes (https://sqlite.org/rescode.html); the extended codes
# carry the primary one in their low byte.
PROBLEM_OF_CODE = {
    5: "locked",  # SQLITE_BUSY
    6: "locked",  # SQLITE_LOCKED
    8: "read-only",  # SQLITE_READONLY
    10: "failing",  # SQLITE_IOERR
    11: "damaged",  # SQLITE_CORRUPT
    13: "full",  # SQLITE_FULL
    14: "failing",  # SQLITE_CANTOPEN
    26: "damaged",  # SQLITE_NOTADB
}
PROBLEMS = ("full", "locked", "damaged", "read-only", "failing")

ADVICE = {
    "full": "the disk holding {path} is full: free space on it, lower retention_days, "
    "or move db_path to a bigger disk",
    "locked": "another program holds a lock on {path} (an sqlite3 shell in a transaction?): "
    "end that program's transaction or close it",
    "damaged": "{path} is damaged: it is moved aside and a new database is started",
    "read-only": "HomeGuard may not write {path}: give the homeguard user write access "
    "(sudo homeguard setup sets the owner again)",
    "failing": "the disk reports errors for {path}: check the kernel log (journalctl -k) "
    "and replace the SD card or disk if it is failing",
}


def problem_of(exc: sqlite3.Error) -> str:
    """One of PROBLEMS for an error from SQLite; 'failing' for one it does not name."""
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int) and (code & 0xFF) in PROBLEM_OF_CODE:
        return PROBLEM_OF_CODE[code & 0xFF]
    text = str(exc).lower()  # errors raised before a result code exists (or older Pythons)
    if "disk is full" in text:
        return "full"
    if "locked" in text:
        return "locked"
    if "malformed" in text or "not a database" in text:
        return "damaged"
    if "readonly" in text:
        return "read-only"
    return "failing"


def advice(problem: str, path: Path) -> str:
    return ADVICE.get(problem, ADVICE["failing"]).format(path=path)


DAMAGED_SUFFIX = ".damaged-"


def move_aside(path: Path, now: float) -> Path:
    """Rename a damaged database (and its WAL and shared-memory files) to
    `NAME.damaged-YYYYmmddTHHMMSS`, so that a new one can start and nothing is deleted.
    Returns the new name of the database file."""
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now))
    target = path.with_name(f"{path.name}{DAMAGED_SUFFIX}{stamp}")
    for suffix in ("", "-wal", "-shm"):
        part = Path(f"{path}{suffix}")
        if part.exists():
            part.rename(Path(f"{target}{suffix}"))
    log.error(
        "the database %s is damaged: moved aside to %s and a new one started. The old file may be "
        "partly recoverable with: sqlite3 %s .recover",
        path,
        target,
        target,
    )
    return target


def damaged_copies(path: Path) -> list[Path]:
    """Databases moved aside beside `path`, oldest first (their names sort by time)."""
    return sorted(path.parent.glob(f"{path.name}{DAMAGED_SUFFIX}*[0-9]"))
