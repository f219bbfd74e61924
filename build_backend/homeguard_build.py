"""setuptools' build backend, asking for mypy (which brings mypyc) only when the
build compiles (HOMEGUARD_COMPILE=1, setup.py). A pure install needs setuptools alone."""

from __future__ import annotations

import os
import tomllib

from setuptools import build_meta
from setuptools.build_meta import *  # noqa: F403 (the backend's hooks, unchanged)

COMPILER = "mypy>=2.4,<2.5"  # the series CI compiles and tests with (scripts/compiled_suite.py)
# mypyc type-checks what it compiles, so it needs the types of everything that imports:
# the project's own dependencies and the stubs of those that ship none.
STUBS = ["types-PyYAML", "types-psutil"]


def compiling() -> bool:
    return os.environ.get("HOMEGUARD_COMPILE") == "1"


def compiling_requires() -> list[str]:
    with open("pyproject.toml", "rb") as project:  # the backend runs in the source tree
        dependencies: list[str] = tomllib.load(project)["project"]["dependencies"]
    # setuptools before 70.1 builds wheels with the wheel package; later ones ignore it
    return [COMPILER, "wheel", *STUBS, *dependencies]


# When compiling, setuptools' own answer is not asked for: it runs setup.py to find it,
# and setup.py then imports mypyc, which these requirements are what install.
def get_requires_for_build_wheel(config_settings: dict[str, object] | None = None) -> list[str]:
    return compiling_requires() if compiling() else build_meta.get_requires_for_build_wheel(config_settings)


def get_requires_for_build_editable(config_settings: dict[str, object] | None = None) -> list[str]:
    if compiling():
        return compiling_requires()
    return build_meta.get_requires_for_build_editable(config_settings)
