"""`homeguard setup`: everything a Pi needs, in one idempotent command, and its undo.

It creates the `homeguard` system user, writes /etc/homeguard/config.yaml (commented,
from the settings declaration; an existing file is kept), creates the state directory
(0750, the service user's), installs the hardened systemd unit with ExecStart pointing
at this homeguard, and enables and starts it when systemd runs the machine.
`--root DIR` does all of it inside DIR instead of / (for images and tests).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from homeguard.errors import HomeGuardError
from homeguard.settings import SETTINGS, load_config
from homeguard.shipped import shipped_dir

USER = "homeguard"
UNIT = "homeguard.service"
LISTS_TIMER = "homeguard-lists.timer"
FLEET_TIMER = "homeguard-fleet.timer"
# The daemon; the daily `lists update`; the hourly `fleet pull` (fetches nothing without fleet_url).
UNITS = (UNIT, "homeguard-lists.service", LISTS_TIMER, "homeguard-fleet.service", FLEET_TIMER)
CONFIG_HEADER = """\
# HomeGuard's configuration. Every setting is listed with its help and its default;
# uncomment a line to change it. Reference: docs/settings.md; check a file with
# `homeguard config check /etc/homeguard/config.yaml`. After a change:
# `systemctl reload homeguard` (rules and lists) or `systemctl restart homeguard`.
"""


@dataclass(slots=True)
class SetupReport:
    done: list[str] = field(default_factory=list)  # what changed
    kept: list[str] = field(default_factory=list)  # what was already in place
    todo: list[str] = field(default_factory=list)  # what the user must still do
    setup_code: str | None = None  # for the dashboard's first password; None once an account exists


def default_config_text(interface: str | None = None) -> str:
    """The commented config file, generated from SETTINGS."""
    lines = [CONFIG_HEADER]
    for setting in SETTINGS:
        lines.append(f"# {setting.help}")
        if setting.name == "interface" and interface:
            lines.append(f"interface: {interface}")
        elif setting.default is None:
            lines.append(f"# {setting.name}:")
        elif isinstance(setting.default, bool):
            lines.append(f"# {setting.name}: {'true' if setting.default else 'false'}")
        elif isinstance(setting.default, list):
            items = ", ".join(setting.default)
            lines.append(f"# {setting.name}: [{items}]")
        else:
            lines.append(f"# {setting.name}: {setting.default}")
        lines.append("")
    return "\n".join(lines)


def unit_text(homeguard_bin: str, name: str = UNIT) -> str:
    template = shipped_dir("homeguard.shipped_systemd", "systemd") / name
    try:
        text = template.read_text(encoding="utf-8")
    except OSError as exc:
        raise HomeGuardError(
            f"{template}: the systemd unit is missing from this install: {exc.strerror}"
        ) from exc
    return text.replace("/opt/homeguard/bin/homeguard", homeguard_bin)


def homeguard_executable() -> str:
    beside = Path(sys.executable).with_name("homeguard")
    return str(beside) if beside.exists() else shutil.which("homeguard") or f"{sys.executable} -m homeguard"


def _run(cmd: list[str]) -> None:
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise HomeGuardError(f"{' '.join(cmd)} failed: {done.stderr.strip() or done.stdout.strip()}")


def _user_ids(root: Path) -> tuple[int, int] | None:
    """The service user's uid and gid, None while it does not exist."""
    passwd = root / "etc" / "passwd"
    for line in passwd.read_text().splitlines() if passwd.exists() else []:
        parts = line.split(":")
        if parts[0] == USER:
            return int(parts[2]), int(parts[3])
    return None


def _prefix(root: Path) -> list[str]:
    """useradd and userdel work inside `root` when it is not /."""
    return [] if root == Path("/") else ["--prefix", str(root)]


def _systemd_running(root: Path) -> bool:
    return (
        root == Path("/") and Path("/run/systemd/system").is_dir() and shutil.which("systemctl") is not None
    )


def setup(root: Path = Path("/"), interface: str | None = None, start: bool = True) -> SetupReport:
    if os.geteuid() != 0:
        raise HomeGuardError("setup needs root: run it with sudo")
    if root != Path("/") and not (root / "etc" / "passwd").is_file():
        raise HomeGuardError(
            f"{root} has no etc/passwd: --root installs into an existing system (a mounted SD card "
            "or image), whose users useradd extends; point it at one, or leave --root out"
        )
    report = SetupReport()
    ids = _user_ids(root)
    if ids is not None:
        report.kept.append(f"system user {USER}")
    else:
        options = ["--system", "--user-group", "--no-create-home", "--home-dir", "/nonexistent"]
        _run(["useradd", *_prefix(root), *options, "--shell", "/usr/sbin/nologin", USER])
        report.done.append(f"created system user {USER}")
        ids = _user_ids(root)
        if ids is None:
            raise HomeGuardError(f"useradd ran, but {USER} is missing from {root / 'etc' / 'passwd'}")
    uid, gid = ids
    config_dir = root / "etc" / "homeguard"
    (config_dir / "rules.d" / "lists").mkdir(parents=True, exist_ok=True)
    config = config_dir / "config.yaml"
    if config.exists():
        report.kept.append(f"{config} (yours: not overwritten)")
    else:
        config.write_text(default_config_text(interface), encoding="utf-8")
        config.chmod(0o640)
        os.chown(config, 0, gid)  # the service reads it; it may hold notification tokens
        report.done.append(f"wrote {config}")
    state = root / "var" / "lib" / "homeguard"
    state.mkdir(parents=True, exist_ok=True)
    os.chown(state, uid, gid)
    state.chmod(0o750)
    report.setup_code = _first_setup_code(root, config, uid, gid)
    executable = homeguard_executable()
    for name in UNITS:
        unit_path = root / "etc" / "systemd" / "system" / name
        unit = unit_text(executable, name)
        if unit_path.exists() and unit_path.read_text(encoding="utf-8") == unit:
            report.kept.append(str(unit_path))
        else:
            unit_path.parent.mkdir(parents=True, exist_ok=True)
            unit_path.write_text(unit, encoding="utf-8")
            report.done.append(f"installed {unit_path}")
    if start and _systemd_running(root):
        _run(["systemctl", "daemon-reload"])
        _run(["systemctl", "enable", "--now", UNIT, LISTS_TIMER, FLEET_TIMER])
        report.done.append(f"enabled and started {UNIT}, {LISTS_TIMER} and {FLEET_TIMER}")
    else:
        report.todo.append(
            f"systemctl daemon-reload && systemctl enable --now {UNIT} {LISTS_TIMER} {FLEET_TIMER}  "
            f"({_why_not_started(root, start)})"
        )
    return report


def _first_setup_code(root: Path, config: Path, uid: int, gid: int) -> str | None:
    """The database, made now and given to the service user, holding the one-time code
    for the dashboard's first password, so that setup can print it (the daemon logs the
    same code when it starts). None when an account exists."""
    import time

    from homeguard.settings.places import DB_FILENAME
    from homeguard.store.database import open_database
    from homeguard.store.web import setup_code

    configured = load_config(config).values["db_path"] if config.exists() else None
    path = root / (configured or f"var/lib/homeguard/{DB_FILENAME}").lstrip("/")
    db = open_database(path)
    try:
        code = setup_code(db, time.time())
    finally:
        db.close()
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if file.exists():
            os.chown(file, uid, gid)
    return code


def _why_not_started(root: Path, start: bool) -> str:
    if not start:
        return "--no-start was given"
    if root != Path("/"):
        return f"installed into {root}, not this running system: run it there"
    if shutil.which("systemctl") is None:
        return "there is no systemctl here"
    return "systemd is not running this machine (no /run/systemd/system), as in a container or chroot"


def uninstall(root: Path = Path("/"), purge: bool = False) -> SetupReport:
    """Undo setup. The database and config stay unless `purge`: they are the household's."""
    if os.geteuid() != 0:
        raise HomeGuardError("setup --uninstall needs root: run it with sudo")
    report = SetupReport()
    units = [root / "etc" / "systemd" / "system" / name for name in UNITS]
    if _systemd_running(root) and units[0].exists():
        subprocess.run(
            ["systemctl", "disable", "--now", UNIT, LISTS_TIMER, FLEET_TIMER],
            capture_output=True,
            check=False,
        )
        report.done.append(f"stopped and disabled {UNIT}, {LISTS_TIMER} and {FLEET_TIMER}")
    for unit_path in units:
        if unit_path.exists():
            unit_path.unlink()
            report.done.append(f"removed {unit_path}")
    if _systemd_running(root):
        subprocess.run(["systemctl", "daemon-reload"], capture_output=True, check=False)
    if purge:
        for path in (root / "etc" / "homeguard", root / "var" / "lib" / "homeguard"):
            if path.exists():
                shutil.rmtree(path)
                report.done.append(f"removed {path}")
    else:
        report.kept += [str(root / "etc" / "homeguard"), str(root / "var" / "lib" / "homeguard")]
    if _user_ids(root) is not None:
        _run(["userdel", *_prefix(root), USER])
        report.done.append(f"removed system user {USER}")
    return report
