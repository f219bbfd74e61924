"""How many capture workers the default starts (homeguard/workers/budget.py): one per
core as far as memory allows, under the cgroup's limit (systemd's MemoryMax) as read
from files laid out as the kernel's are."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from homeguard.workers.budget import (
    HOUSEHOLD_BYTES,
    MIB,
    WORKER_BYTES,
    cgroup_memory_limit,
    default_workers,
    worker_ring_bytes,
)

PLENTY = 8 << 30


def test_one_worker_per_core_less_one_for_the_household_on_more_than_two() -> None:
    assert [default_workers(cores, PLENTY) for cores in (1, 2, 4, 8)] == [0, 2, 3, 7]


def test_memory_caps_the_workers_so_the_kernel_kills_none() -> None:
    assert default_workers(4, 256 * MIB) == 1  # a 1 GiB Pi: a quarter of its memory
    assert default_workers(4, 512 * MIB) == 3  # the shipped unit's MemoryMax on a bigger Pi
    assert default_workers(4, HOUSEHOLD_BYTES + WORKER_BYTES - 1) == 0
    for cores, budget in ((4, 200 * MIB), (4, 512 * MIB), (8, 1 << 30), (2, 300 * MIB)):
        workers = default_workers(cores, budget)
        assert HOUSEHOLD_BYTES + workers * WORKER_BYTES <= max(budget, HOUSEHOLD_BYTES)


def test_the_ring_is_shared_among_the_workers_as_the_packets_are() -> None:
    assert [worker_ring_bytes(16 * MIB, n) // MIB for n in (1, 2, 3, 4, 8)] == [16, 8, 5, 4, 4]
    assert worker_ring_bytes(64 * MIB, 2) == 32 * MIB


def test_the_limit_is_read_from_cgroup_v2_and_v1(tmp_path: Path) -> None:
    proc = tmp_path / "cgroup"
    v2 = tmp_path / "fs" / "system.slice" / "homeguard.service"
    v2.mkdir(parents=True)
    (v2 / "memory.max").write_text("536870912\n")
    proc.write_text("0::/system.slice/homeguard.service\n")
    assert cgroup_memory_limit(proc, tmp_path / "fs") == 512 * MIB
    (v2 / "memory.max").write_text("max\n")  # no limit
    assert cgroup_memory_limit(proc, tmp_path / "fs") is None
    v1 = tmp_path / "fs" / "memory" / "job"
    v1.mkdir(parents=True)
    (v1 / "memory.limit_in_bytes").write_text("268435456\n")
    proc.write_text("5:devices:/\n4:memory:/job\n0::/\n")
    assert cgroup_memory_limit(proc, tmp_path / "fs") == 256 * MIB
    assert cgroup_memory_limit(tmp_path / "missing", tmp_path / "fs") is None


def test_a_worker_loads_no_database_library() -> None:
    """sqlite-utils is 4 MiB of every worker's memory, and a worker opens no database: its
    rows go to the household process. A module that imports it at the top undoes that."""
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, homeguard.workers.worker; print(sorted(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "'homeguard.pipeline.core'" in loaded
    assert "sqlite_utils" not in loaded


def test_the_daemon_and_its_dashboard_load_no_signing_library() -> None:
    """cryptography is 7 MiB of the household process (measured: PSS of `homeguard run`
    on lo, 74 MiB with it, 67 without), and only a fleet pull or `fleet sign` needs it;
    the dashboard shows the installed key's id, which needs no library."""
    script = (
        "import sys, homeguard.app, homeguard.web.app, homeguard.fleet.status;"
        "from homeguard.fleet.minisign import PublicKey;"
        "PublicKey.parse('RWQf6LRCGA9i53mlYecO4IzT51TGPpvWucNSCh1CBM0QTaLn73Y7GFO3');"
        "print(sorted(sys.modules))"
    )
    loaded = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert "'homeguard.fleet.bundle'" in loaded
    assert "'cryptography'" not in loaded
