"""Loaded by every Python process of scripts/faketime-suite.sh, and nowhere else.

libfaketime 0.9.10 (Debian 12) with DONT_FAKE_MONOTONIC breaks Python 3.11's time.sleep:
it shifts sleep's absolute CLOCK_MONOTONIC deadline by the fake offset, so sleeping
fails with EINVAL a year ahead and sleeps for a year a year back (libfaketime issue
426). Without DONT_FAKE_MONOTONIC, every timed wait on a condition variable hangs
instead. So the suite runs with DONT_FAKE_MONOTONIC, and sleep waits on an Event, whose
timed wait libfaketime leaves alone. Only how a process sleeps changes here; the clock
it reads is libfaketime's.
"""

import os
import threading
import time

if os.environ.get("FAKETIME"):

    def _sleep(seconds: float) -> None:
        if seconds < 0:
            raise ValueError("sleep length must be non-negative")
        threading.Event().wait(seconds)

    time.sleep = _sleep
