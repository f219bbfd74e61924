"""When alerts may go out: quiet hours, the day a push cap counts, digest times.

All in local time, the time the household lives by; `time.localtime` follows the
TZ environment variable, which is how tests pin it.
"""

from __future__ import annotations

import time

from homeguard.settings.quiet_hours import QuietHours

HOUR, DAY = 3600.0, 86400.0


def local_midnight(ts: float) -> float:
    t = time.localtime(ts)
    return time.mktime((t.tm_year, t.tm_mon, t.tm_mday, 0, 0, 0, 0, 0, -1))


def _minute_of_day(ts: float) -> int:
    t = time.localtime(ts)
    return t.tm_hour * 60 + t.tm_min


def is_quiet(ts: float, quiet: QuietHours | None) -> bool:
    if quiet is None:
        return False
    start, end = quiet
    minute = _minute_of_day(ts)
    return start <= minute < end if start < end else minute >= start or minute < end


def quiet_ends(ts: float, quiet: QuietHours) -> float:
    """The first moment after `ts` that is outside the quiet hours."""
    end_today = local_midnight(ts) + quiet[1] * 60
    return end_today if end_today > ts else local_midnight(ts + DAY) + quiet[1] * 60


def period_start(ts: float, period: str, digest_hour: int) -> float:
    """The start of the digest period `ts` falls in; a digest for the previous period
    is due from then on."""
    if period == "hourly":
        return _hour_start(ts)
    day = local_midnight(ts) + digest_hour * HOUR
    if day > ts:
        day = local_midnight(ts - DAY) + digest_hour * HOUR
    if period == "daily":
        return day
    while time.localtime(day).tm_wday != 0:  # weekly: Monday
        day = local_midnight(day - DAY + HOUR) + digest_hour * HOUR
    return day


def _hour_start(ts: float) -> float:
    t = time.localtime(ts)
    return time.mktime((t.tm_year, t.tm_mon, t.tm_mday, t.tm_hour, 0, 0, 0, 0, -1))
