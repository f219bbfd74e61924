"""How many capture workers fit: one per core, as far as memory allows.

Each worker is a Python process with its own tables and its own ring, so on a Pi with
little memory, or under systemd's MemoryMax, a worker per core could be more than
HomeGuard may use, and the kernel would kill one after another. The default therefore
takes the smaller of the cgroup's limit and a quarter of the machine's memory, and
counts what the household process and each worker take (measured: docs/performance.md).
"""

from __future__ import annotations

import os
from pathlib import Path

import psutil

MIB = 1 << 20
HOUSEHOLD_BYTES = 120 * MIB  # the daemon's own process with its tables, and some room
WORKER_BYTES = 80 * MIB  # a worker: its modules, its flows and sessions, its ring
MIN_WORKER_RING = 4 * MIB  # a worker's ring when capture_ring_mb is split among many

CGROUP_ROOT = Path("/sys/fs/cgroup")
PROC_CGROUP = Path("/proc/self/cgroup")


def default_workers(cores: int | None = None, budget: int | None = None) -> int:
    """One worker per core, minus one for the household process when there are more
    than two; none on a single core; and no more than `budget` bytes hold (default:
    memory_budget())."""
    cores = cores or os.cpu_count() or 1
    if cores == 1:
        return 0
    by_cores = cores - 1 if cores > 2 else cores
    budget = memory_budget() if budget is None else budget
    return max(0, min(by_cores, (budget - HOUSEHOLD_BYTES) // WORKER_BYTES))


def worker_ring_bytes(total: int, workers: int) -> int:
    """Each worker's ring: its share of capture_ring_mb, since the kernel hands each
    worker only its share of the packets, so the ring holds as many seconds of traffic
    as one ring of the whole size would in one process; at least MIN_WORKER_RING."""
    return max(MIN_WORKER_RING, total // max(1, workers))


def memory_budget() -> int:
    """What HomeGuard may use: a quarter of the machine's memory, or its cgroup's limit
    (systemd's MemoryMax) when that is lower."""
    quarter = psutil.virtual_memory().total // 4
    limit = cgroup_memory_limit()
    return quarter if limit is None else min(quarter, limit)


def cgroup_memory_limit(proc_cgroup: Path = PROC_CGROUP, root: Path = CGROUP_ROOT) -> int | None:
    """This process's memory limit from its cgroup (v2 memory.max, or v1's
    memory.limit_in_bytes); None when there is none or it cannot be read."""
    try:
        lines = proc_cgroup.read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _hierarchy, controllers, path = parts
        if controllers == "":
            candidate = root / path.lstrip("/") / "memory.max"
        elif "memory" in controllers.split(","):
            candidate = root / "memory" / path.lstrip("/") / "memory.limit_in_bytes"
        else:
            continue
        try:
            text = candidate.read_text().strip()
        except OSError:
            continue
        if text.isdigit():  # "max": no limit
            return int(text)
    return None
