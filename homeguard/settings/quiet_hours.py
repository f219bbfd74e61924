"""The quiet_hours setting: a span of the day, such as 22:00-07:00, when only critical
alerts go out (notify/schedule.py applies it)."""

from __future__ import annotations

import re
from typing import Any

from homeguard.errors import ConfigError

QuietHours = tuple[int, int]  # minutes after midnight: start, end (end may be before start)


def parse_quiet_hours(value: Any, where: str, _items: list[str]) -> QuietHours | None:
    if value in (None, ""):
        return None
    match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*", str(value))
    if not match or int(match[1]) > 23 or int(match[3]) > 23 or int(match[2]) > 59 or int(match[4]) > 59:
        raise ConfigError(f"{where}: quiet_hours must look like 22:00-07:00, not {value!r}")
    start, end = int(match[1]) * 60 + int(match[2]), int(match[3]) * 60 + int(match[4])
    if start == end:
        raise ConfigError(f"{where}: quiet_hours {value!r} starts and ends at the same time")
    return start, end
