"""Opening the database: location, WAL mode, and migrations."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

from homeguard.errors import StoreError
from homeguard.settings.places import default_db_path
from homeguard.store.faults import advice, move_aside, problem_of
from homeguard.store.schema import MIGRATIONS, SCHEMA_VERSION

if TYPE_CHECKING:
    from sqlite_utils import Database


def database_path(configured: str | None, given: str | None = None) -> Path:
    """The database: a --db given on the command line, else the db_path setting, else the default."""
    return Path(given or configured or default_db_path())


def open_existing_database(path: Path) -> Database:
    """For commands that read what the daemon wrote: a missing file is an error, not a new one."""
    if not path.exists():
        raise StoreError(f"{path}: no database yet; run 'homeguard run' or pass --db")
    return open_database(path)


DB_MODE = 0o640
# How long a write waits for another connection's lock: the background threads' writes
# take milliseconds; a lock held longer is another program's (store/resilient.py).
BUSY_TIMEOUT_MS = 2000
OUTAGE_BUSY_TIMEOUT_MS = 100  # while it is known to be out: try, never stall
AUTO_VACUUM_INCREMENTAL = 2


def open_database(path: str | Path) -> Database:
    """Open (or create) the database in WAL mode and bring its schema up to date."""
    from sqlite_utils import Database  # here, not at import: capture workers open no database

    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fresh = not path.exists()
        db = Database(path)
        if fresh:
            os.chmod(path, DB_MODE)  # the household's data: the service user and its group only
            # Must come before the first table: freed pages can then go back to the disk.
            db.conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
        db.conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        db.enable_wal()
        db.conn.execute("PRAGMA synchronous = NORMAL")  # safe with WAL; spares SD cards
        migrate(db)
        if db.execute("PRAGMA auto_vacuum").fetchone()[0] != AUTO_VACUUM_INCREMENTAL:
            # A file from before retention: switch once (VACUUM rewrites it, outside a transaction).
            db.conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
            db.conn.execute("VACUUM")
    except sqlite3.DatabaseError as exc:
        if problem_of(exc) == "damaged":
            raise StoreError(
                f"{path}: the database is damaged ({exc}); 'homeguard run' moves it aside and starts "
                "a new one, and 'homeguard doctor' says where it went"
            ) from exc
        fix = advice(problem_of(exc), path)
        raise StoreError(f"{path}: cannot open the database ({exc}): {fix}") from exc
    except OSError as exc:
        raise StoreError(f"{path}: cannot create the database: {exc.strerror}") from exc
    return db


def open_or_replace_database(path: str | Path, now: float) -> Database:
    """For the programs that write (run, replay): a damaged file is moved aside, with the
    time in its name, and a new database is started, so that capture goes on."""
    try:
        return open_database(path)
    except StoreError as exc:
        cause = exc.__cause__
        if not (isinstance(cause, sqlite3.DatabaseError) and problem_of(cause) == "damaged"):
            raise
    move_aside(Path(path), now)
    return open_database(path)


def schema_version(db: Database) -> int:
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def migrate(db: Database) -> None:
    version = schema_version(db)
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"the database has schema {version}, newer than this HomeGuard ({SCHEMA_VERSION}): "
            "upgrade HomeGuard, or point --db at another file"
        )
    for number in range(version, SCHEMA_VERSION):
        with db.atomic():
            MIGRATIONS[number](db)
            db.execute(f"PRAGMA user_version = {number + 1}")
