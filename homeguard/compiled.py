"""The modules on the packet path that an install may compile to C with mypyc, declared
once: setup.py builds them when HOMEGUARD_COMPILE=1, and `homeguard doctor` says which
ones run compiled. Pure Python is the default and behaves the same; compiled, replay
and capture take 54 to 80% of the CPU, the less the more there is to decode
(docs/performance.md, "A compiled packet path").

This module imports only the standard library, because setup.py reads it before
HomeGuard's dependencies are installed.
"""

from __future__ import annotations

import importlib.machinery
from pathlib import Path

# Source files, relative to the project root, as glob patterns: the modules every packet
# or event passes through. Only modules that are type-checked strictly, never patched at
# run time and never subclassed elsewhere belong here: mypyc turns their annotations into
# checks, their functions cannot be replaced from outside, and a class in Python cannot
# inherit from a compiled one. So store/writer.py, which ResilientWriter extends, stays
# out, and so does capture/ring.py, whose error class extends OSError (mypyc cannot).
# workers/channel.py stays out too: a compiled frozen dataclass cannot be unpickled
# (FileRead crosses the worker's pipe), and pickle does its work in C anyway.
COMPILED_SOURCES = (
    "homeguard/capture/pcapfile.py",
    "homeguard/capture/source.py",
    "homeguard/decode/*.py",
    "homeguard/events/*.py",
    "homeguard/findings/*.py",
    "homeguard/ledger/*.py",
    "homeguard/pipeline/bulk.py",
    "homeguard/pipeline/core.py",
    "homeguard/pipeline/relay.py",
    "homeguard/pipeline/replay.py",
    "homeguard/protocols/*.py",
    "homeguard/rules/conditions.py",
    "homeguard/rules/dispatch.py",
    "homeguard/rules/engine.py",
    "homeguard/rules/lists.py",
    "homeguard/rules/model.py",
    "homeguard/rules/nameset.py",
    "homeguard/rules/runtime.py",
    "homeguard/rules/templates.py",
    "homeguard/sessions/*.py",
    "homeguard/state/*.py",
    "homeguard/workers/merge.py",
    "homeguard/workers/share.py",
)

PACKAGE_DIR = Path(__file__).resolve().parent


def compilable_modules(root: Path = PACKAGE_DIR.parent) -> list[str]:
    """The dotted names of the modules COMPILED_SOURCES names, under `root`."""
    names = set()
    for pattern in COMPILED_SOURCES:
        for path in root.glob(pattern):
            parts = path.relative_to(root).with_suffix("").parts
            names.add(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return sorted(names)


def compiled_modules(package_dir: Path = PACKAGE_DIR) -> list[str]:
    """The dotted names of HomeGuard's modules that are extension modules here: the ones
    Python loads compiled, since an extension module wins over a .py of the same name."""
    suffixes = tuple(importlib.machinery.EXTENSION_SUFFIXES)
    names = set()
    for path in package_dir.rglob("*"):
        suffix = next((s for s in suffixes if path.name.endswith(s)), None)
        if suffix is None:
            continue
        parts = (package_dir.name, *path.relative_to(package_dir).parts)
        stem = parts[-1][: -len(suffix)]
        names.add(".".join(parts[:-1] if stem == "__init__" else (*parts[:-1], stem)))
    return sorted(names)
