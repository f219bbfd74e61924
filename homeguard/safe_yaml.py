"""PyYAML's safe loader, in C where PyYAML was built with libyaml: the pure-Python one
takes about ten times as long, and rule files, threat lists' metadata and the
organisations table are read at every start and reload."""

from __future__ import annotations

from typing import Any

import yaml

SAFE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # a PyYAML without libyaml lacks it
