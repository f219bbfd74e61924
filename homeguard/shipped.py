"""Where the files shipped beside the code are: the top-level rules/ and systemd/
folders install as the data packages homeguard.shipped_rules and
homeguard.shipped_systemd; in a checkout (or an editable install) they are read in place."""

from __future__ import annotations

import importlib.util
from pathlib import Path


def shipped_dir(package: str, folder: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is not None and spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    return Path(__file__).resolve().parents[1] / folder
