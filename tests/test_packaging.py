"""pyproject.toml lists every package by hand (the shipped rules need a mapping), so a
new subpackage must be added there: this test notices when it is not."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_subpackage_is_listed_in_pyproject() -> None:
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "homeguard").rglob("__init__.py")}
    assert found | {"homeguard.shipped_rules", "homeguard.shipped_systemd"} == listed
