"""The dashboard's reads and writes (homeguard/web/): accounts, sessions, failed logins,
the household's notes on devices, and acknowledged findings. Each write is one short
transaction on the dashboard's own connection, so capture never waits for it."""

from __future__ import annotations

import logging
import secrets
from typing import Any

from sqlite_utils import Database

from homeguard.errors import ConfigError
from homeguard.settings import Config
from homeguard.settings.targets import Target, url_secrets

Row = dict[str, Any]
log = logging.getLogger("homeguard.web")


def set_user(db: Database, name: str, role: str, password_hash: str, now: float) -> None:
    with db.atomic():
        db.execute(
            "INSERT INTO web_users (name, role, password, created) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (name) DO UPDATE SET role = excluded.role, password = excluded.password",
            [name, role, password_hash, now],
        )
        db.execute("DELETE FROM web_sessions WHERE user = ?", [name])  # a new password ends old sessions


def user(db: Database, name: str) -> Row | None:
    rows = list(db.query("SELECT * FROM web_users WHERE name = ?", [name]))
    return rows[0] if rows else None


def has_users(db: Database) -> bool:
    return db.execute("SELECT 1 FROM web_users LIMIT 1").fetchone() is not None


def start_session(db: Database, token_hash: str, name: str, csrf: str, now: float, expires: float) -> None:
    with db.atomic():
        db.execute("DELETE FROM web_sessions WHERE expires < ?", [now])
        db.execute(
            "INSERT INTO web_sessions (token_hash, user, csrf, created, expires) VALUES (?, ?, ?, ?, ?)",
            [token_hash, name, csrf, now, expires],
        )


def session(db: Database, token_hash: str, now: float) -> Row | None:
    rows = list(
        db.query(
            "SELECT s.user, s.csrf, u.role FROM web_sessions s JOIN web_users u ON u.name = s.user "
            "WHERE s.token_hash = ? AND s.expires > ?",
            [token_hash, now],
        )
    )
    return rows[0] if rows else None


def end_session(db: Database, token_hash: str) -> None:
    with db.atomic():
        db.execute("DELETE FROM web_sessions WHERE token_hash = ?", [token_hash])


def failures(db: Database, client: str) -> tuple[int, float]:
    row = db.execute("SELECT count, last FROM web_failures WHERE client = ?", [client]).fetchone()
    return (int(row[0]), float(row[1])) if row else (0, 0.0)


def count_failure(db: Database, client: str, now: float) -> None:
    with db.atomic():
        db.execute(
            "INSERT INTO web_failures (client, count, last) VALUES (?, 1, ?) "
            "ON CONFLICT (client) DO UPDATE SET count = count + 1, last = excluded.last",
            [client, now],
        )


def forget_failures(db: Database, client: str) -> None:
    with db.atomic():
        db.execute("DELETE FROM web_failures WHERE client = ?", [client])


def note_device(
    db: Database, mac: str, name: str | None, known: bool, now: float, metadata_only: bool = False
) -> None:
    with db.atomic():
        db.execute(
            "INSERT INTO device_notes (mac, name, known, updated, metadata_only) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (mac) DO UPDATE SET name = excluded.name, known = excluded.known, "
            "updated = excluded.updated, metadata_only = excluded.metadata_only",
            [mac, name or None, int(known), now, int(metadata_only)],
        )
        _changed(db, now)


def device_notes(db: Database) -> dict[str, Row]:
    return {row["mac"]: row for row in db.query("SELECT * FROM device_notes")}


def acknowledge(db: Database, finding_id: int, now: float, resolved: bool = False) -> bool:
    """Mark a finding seen (acknowledged) or fixed (resolved); it opens again if it recurs."""
    column = "resolved" if resolved else "acknowledged"
    with db.atomic():
        done = db.execute(f"UPDATE findings SET {column} = ? WHERE rowid = ?", [now, finding_id])
        return int(done.rowcount) > 0


DASHBOARD = "the dashboard"  # where a target added there was set, for its errors


def add_target(db: Database, name: str, url: str, min_severity: str, now: float) -> None:
    with db.atomic():
        db.execute(
            "INSERT INTO notify_targets (name, url, min_severity, created) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (name) DO UPDATE SET url = excluded.url, min_severity = excluded.min_severity",
            [name, url, min_severity, now],
        )
        _changed(db, now)


def remove_target(db: Database, name: str, now: float) -> None:
    with db.atomic():
        db.execute("DELETE FROM notify_targets WHERE name = ?", [name])
        _changed(db, now)


def dashboard_targets(db: Database) -> list[Target]:
    return [
        Target(row["name"], row["url"], DASHBOARD, row["min_severity"], secrets=url_secrets(row["url"]))
        for row in db.query("SELECT * FROM notify_targets ORDER BY name")
    ]


HOUSEHOLD_SETTINGS = ("language", "quiet_hours", "learning_days", "report_email")  # changed in the dashboard


def set_setting(db: Database, name: str, value: str, now: float) -> None:
    with db.atomic():
        db.execute(
            "INSERT INTO web_settings (name, value, updated) VALUES (?, ?, ?) "
            "ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated = excluded.updated",
            [name, value, now],
        )
        _changed(db, now)


def dashboard_settings(db: Database) -> dict[str, str]:
    return {str(n): str(v) for n, v in db.execute("SELECT name, value FROM web_settings").fetchall()}


def note_change(db: Database, now: float) -> None:
    """Count a change a running daemon should take up (service/dashboard_watch.py): the
    dashboard's, or a fleet bundle just applied."""
    with db.atomic():
        _changed(db, now)


def _changed(db: Database, now: float) -> None:
    db.execute("UPDATE dashboard_changes SET count = count + 1, changed = ? WHERE id = 1", [now])


def dashboard_change_count(db: Database) -> int:
    row = db.execute("SELECT count FROM dashboard_changes WHERE id = 1").fetchone()
    return int(row[0]) if row else 0


def with_dashboard_changes(config: Config, db: Database) -> Config:
    """The config with what the household changed in the dashboard: its few settings
    (over the file's), its alert targets (after the file's; a name in the file wins) and
    the devices it set to metadata-only (added to the file's).
    A value the checks refuse (from an older HomeGuard) is logged and left out."""
    for name, value in dashboard_settings(db).items():
        if name in HOUSEHOLD_SETTINGS:
            try:
                config.set_text(name, value, DASHBOARD)
            except ConfigError as exc:
                log.error("%s", exc)
    values: dict[str, Any] = config.values  # type: ignore[assignment]
    own = {t.name for t in config.values["notify"]}
    extra = [t for t in dashboard_targets(db) if t.name not in own]
    if extra:
        values["notify"] = [*config.values["notify"], *extra]
    private = [str(mac) for (mac,) in db.execute("SELECT mac FROM device_notes WHERE metadata_only = 1")]
    if private:
        values["metadata_only"] = sorted({*config.values["metadata_only"], *private})
    return config


SETUP_CODE_LIFETIME = 86400.0


def new_setup_code() -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread
    raw = "".join(secrets.choice(alphabet) for _ in range(8))
    return f"{raw[:4]}-{raw[4:]}"


def setup_code(
    db: Database, now: float, new_code: str | None = None, lifetime: float = SETUP_CODE_LIFETIME
) -> str | None:
    """The one-time code for choosing the first password: the one waiting, else a new
    one (kept for `lifetime` seconds); None once an account exists. `homeguard setup`
    makes it and prints it; the daemon logs the same one (or a new one, a day later)."""
    if has_users(db):
        return None
    with db.atomic():
        db.execute("DELETE FROM web_setup WHERE expires <= ?", [now])
        row = db.execute("SELECT code FROM web_setup").fetchone()
        if row is not None:
            return str(row[0])
        code = new_code or new_setup_code()
        db.execute("INSERT INTO web_setup (code, expires) VALUES (?, ?)", [code, now + lifetime])
    return code


def waiting_setup_code(db: Database, now: float) -> str | None:
    row = db.execute("SELECT code FROM web_setup WHERE expires > ?", [now]).fetchone()
    return str(row[0]) if row and not has_users(db) else None


def use_setup_code(db: Database) -> None:
    with db.atomic():
        db.execute("DELETE FROM web_setup")
