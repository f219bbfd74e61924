"""`homeguard setup`: one idempotent command makes a service that systemd accepts, with
a security exposure of 2.0 or lower; --uninstall undoes it. Run with --root into a
directory holding copies of the account files, so the host is left alone."""

from __future__ import annotations

import re
import shutil
import stat
import subprocess
import time
from pathlib import Path

import pytest
from sqlite_utils import Database

from homeguard.service.install import default_config_text
from homeguard.settings import SETTINGS, load_config
from homeguard.store.web import set_user, waiting_setup_code
from tests.conftest import homeguard

ANALYZE = shutil.which("systemd-analyze")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "etc").mkdir()
    for name in ("passwd", "group", "shadow", "gshadow"):
        if Path("/etc", name).exists():
            shutil.copy(Path("/etc", name), tmp_path / "etc" / name)
    return tmp_path


def test_setup_installs_everything_once_and_uninstall_removes_it(root: Path) -> None:
    first = homeguard("setup", "--root", str(root), "--interface", "eth1", "--no-start").stdout
    assert "done: created system user homeguard" in first
    assert "next: open http://" in first and ":8780/setup in a browser" in first  # where the dashboard is
    code = re.search(r"enter the setup code ([A-Z0-9]{4}-[A-Z0-9]{4})", first)
    assert code is not None, first
    db = root / "var/lib/homeguard/homeguard.db"  # made now, the service user's, holding that code
    owner = re.search(r"^homeguard:x:(\d+):(\d+):", (root / "etc/passwd").read_text(), re.M)
    assert owner is not None and (db.stat().st_uid, db.stat().st_gid) == (int(owner[1]), int(owner[2]))
    assert stat.S_IMODE(db.stat().st_mode) == 0o640
    assert waiting_setup_code(Database(db), time.time()) == code[1]
    assert re.search(
        r"^homeguard:x:\d+:\d+::/nonexistent:/usr/sbin/nologin$", (root / "etc/passwd").read_text(), re.M
    )
    config = root / "etc/homeguard/config.yaml"
    assert stat.S_IMODE(config.stat().st_mode) == 0o640
    assert load_config(config).values["interface"] == "eth1"
    state = root / "var/lib/homeguard"
    assert stat.S_IMODE(state.stat().st_mode) == 0o750
    unit = (root / "etc/systemd/system/homeguard.service").read_text()
    assert re.search(r"^ExecStart=\S+/homeguard run --config /etc/homeguard/config.yaml$", unit, re.M)
    second = homeguard("setup", "--root", str(root), "--no-start").stdout
    assert "done:" not in second  # idempotent: everything is kept
    assert f"enter the setup code {code[1]}" in second  # the same code, while it is unused
    set_user(Database(db), "admin", "admin", "scrypt-hash", time.time())
    third = homeguard("setup", "--root", str(root), "--no-start").stdout
    assert "setup code" not in third and ":8780/ in a browser on the household network and log in" in third
    assert "kept: system user homeguard" in second and "(yours: not overwritten)" in second
    gone = homeguard("setup", "--root", str(root), "--uninstall", "--purge").stdout
    assert "removed system user homeguard" in gone
    assert not (root / "etc/systemd/system/homeguard.service").exists() and not state.exists()
    assert "homeguard:" not in (root / "etc/passwd").read_text()
    assert not list((root / "etc/systemd/system").glob("homeguard*"))


@pytest.mark.skipif(
    ANALYZE is None, reason="systemd-analyze is not installed (Debian: apt-get install systemd)"
)
def test_the_unit_passes_systemd_analyze_with_exposure_at_most_2(root: Path) -> None:
    homeguard("setup", "--root", str(root), "--no-start")
    unit = root / "etc/systemd/system/homeguard.service"
    units = [
        unit,
        root / "etc/systemd/system/homeguard-lists.service",
        root / "etc/systemd/system/homeguard-lists.timer",
        root / "etc/systemd/system/homeguard-fleet.service",
        root / "etc/systemd/system/homeguard-fleet.timer",
    ]
    assert ANALYZE is not None
    verify = subprocess.run([ANALYZE, "verify", *map(str, units)], capture_output=True, text=True)
    assert verify.returncode == 0, verify.stderr
    security = subprocess.run(
        [ANALYZE, "security", "--offline=true", str(unit)],
        capture_output=True,
        text=True,
    )
    score = float(re.search(r"Overall exposure level for homeguard.service: ([\d.]+)", security.stdout)[1])  # type: ignore[index]
    assert score <= 2.0, security.stdout


def test_the_commented_config_is_the_declaration(tmp_path: Path) -> None:
    """Uncomment every setting line of the generated file: it loads, and gives the defaults."""
    text = default_config_text()
    for setting in SETTINGS:
        assert f"# {setting.help}" in text
    uncommented = "\n".join(
        line[2:]
        for line in text.splitlines()
        if re.match(r"# [a-z0-9_]+:( |$)", line) and not line.endswith(":")
    )
    path = tmp_path / "config.yaml"
    path.write_text(uncommented)
    loaded = load_config(path)
    assert len(loaded.source) == sum(1 for s in SETTINGS if s.default is not None)


def test_config_check_reports_file_line_and_did_you_mean(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("interface: eth0\nflush_intervall: 5\n")
    done = homeguard("config", "check", str(config), check=False)
    assert done.returncode != 0
    assert f"{config}:2: unknown setting 'flush_intervall'; did you mean 'flush_interval'?" in done.stdout
    config.write_text("interface: eth0\n")
    assert "ok" in homeguard("config", "check", str(config)).stdout


def test_setup_into_an_empty_folder_or_without_systemd_says_why(root: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    done = homeguard("setup", "--root", str(empty), check=False)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert f"{empty} has no etc/passwd: --root installs into an existing system" in done.stderr
    first = homeguard("setup", "--root", str(root), "--no-start").stdout
    assert "todo: systemctl daemon-reload && systemctl enable --now homeguard.service" in first
    assert "(--no-start was given)" in first
    again = homeguard("setup", "--root", str(root)).stdout
    assert f"(installed into {root}, not this running system: run it there)" in again
