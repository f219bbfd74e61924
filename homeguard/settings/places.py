"""Where HomeGuard keeps its state: the database's folder, and what lives beside it (the
downloaded lists, the fleet's bundles, the dashboard's certificate)."""

from __future__ import annotations

import os
from pathlib import Path

DB_FILENAME = "homeguard.db"


def default_db_path() -> Path:
    """The system state dir when run as a service, else the user's data dir."""
    state_dir = os.environ.get("STATE_DIRECTORY")  # set by systemd's StateDirectory=
    if state_dir:
        return Path(state_dir.split(":")[0]) / DB_FILENAME
    if os.geteuid() == 0:
        return Path("/var/lib/homeguard") / DB_FILENAME
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / "homeguard" / DB_FILENAME


def state_directory(db_path: str | None) -> Path:
    """The folder of the database (the db_path setting, else the default)."""
    return Path(db_path).parent if db_path else default_db_path().parent


def fleet_directory(db_path: str | None) -> Path:
    """Where `homeguard fleet pull` keeps the IT department's bundles: fleet/ beside the
    database; fleet/current is the one in force."""
    return state_directory(db_path) / "fleet"
