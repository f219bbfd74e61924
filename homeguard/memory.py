"""Handing memory freed after a one-off load back to the system.

Decoding a big file at start-up (scapy's copy of the OUI table is base85 and gzip,
decoded in pure Python) leaves many small blocks freed but scattered over the heap, and
glibc keeps such a heap for reuse: 13 MiB more resident for the rest of the run. A
Raspberry Pi counts every MiB, so after such a load the heap is trimmed.
"""

from __future__ import annotations

import ctypes


def trim_heap() -> None:
    """Give the heap's free pages back (glibc's malloc_trim); nothing where there is none."""
    try:
        # The symbols the process already has: no library search (find_library runs ldconfig).
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):  # musl, macOS: no malloc_trim, nothing kept either
        return
    trim(0)
