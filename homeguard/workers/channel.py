"""The channel from a capture worker to the household process: batches of events and
rows, pickled, each behind its length, on a pipe.

The pipe is bounded (PIPE_BYTES) and the worker writes it blocking. A household that
falls behind therefore holds the workers, the workers' rings fill, and the overflow is
dropped by the kernel, where it is counted (PACKET_STATISTICS) like any other drop. No
batch is ever dropped silently in between. Pickle is safe here: both ends are this
program, started by itself; nothing from the network chooses what is unpickled, only
values inside the events.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pickle
import struct
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING

from homeguard.events import Event
from homeguard.store.writer import Row, Statement, Upserted

if TYPE_CHECKING:
    from homeguard.pipeline.core import Pipeline

LENGTH = struct.Struct("=I")
PIPE_BYTES = 1 << 20  # the kernel's limit for a pipe unless raised (fs.pipe-max-size)
F_SETPIPE_SZ = 1031
READ_CHUNK = 1 << 20


@dataclass(slots=True)
class WorkerCounts:
    """What one worker has done since it started, as it last said."""

    packets: int = 0
    bytes: int = 0
    malformed: int = 0
    internal_errors: int = 0
    shed: int = 0
    open_flows: int = 0
    between_others: int = 0  # the flows state/visibility.py counts
    answered: int = 0
    group: int = 0
    own: int = 0


def added(a: WorkerCounts, b: WorkerCounts) -> WorkerCounts:
    return WorkerCounts(*(getattr(a, f.name) + getattr(b, f.name) for f in fields(WorkerCounts)))


def take_counts(pipeline: Pipeline, total: WorkerCounts) -> None:
    """The workers' counts, summed, as the household pipeline's own (the statistics
    line, capture_stats and the replay summary read them there)."""
    stats, seen = pipeline.stats, pipeline.visibility
    stats.packets, stats.bytes, stats.malformed = total.packets, total.bytes, total.malformed
    stats.internal_errors, stats.shed = total.internal_errors, total.shed
    seen.between_others, seen.answered, seen.group, seen.own = (
        total.between_others,
        total.answered,
        total.group,
        total.own,
    )


@dataclass(frozen=True, slots=True)
class FileRead:
    """A capture file a replay worker has read to its end (or to the error that stopped it)."""

    path: str
    packets: int
    bytes: int
    truncated: bool
    error: str | None
    last_ts: float = 0.0  # its last frame's time: its capture_stats event's, as in one process


@dataclass(slots=True)
class Batch:
    """Events in the order the worker made them, then rows it would have written."""

    events: list[Event] = field(default_factory=list)
    inserts: dict[str, list[Row]] = field(default_factory=dict)
    upserts: list[Upserted] = field(default_factory=list)
    statements: list[Statement] = field(default_factory=list)
    counts: WorkerCounts = field(default_factory=WorkerCounts)
    until: float = 0.0  # how far the worker has read: a time, or a replay's frame place (workers/merge.py)
    file: int = 0  # a replay: which of the files (0, 1, ...) its events come from
    read_time: float = 0.0  # a replay: the time of the last frame read
    files: list[FileRead] = field(default_factory=list)  # a replay's last batch: the files read


def widen_pipe(fd: int) -> None:
    with contextlib.suppress(OSError):  # a smaller pipe only means an earlier hold
        fcntl.fcntl(fd, F_SETPIPE_SZ, PIPE_BYTES)


def send(fd: int, batch: Batch) -> None:
    """Write a batch whole (blocking: see the module's note)."""
    data = pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL)
    view = memoryview(LENGTH.pack(len(data)) + data)
    while view:
        # The write on a line of its own: mypyc 2.4 evaluates a slice's bound twice on a
        # memoryview, and would write every batch twice (tests/test_compiled.py).
        written = os.write(fd, view)
        view = view[written:]


class BatchReader:
    """The household's end of one worker's pipe, read without blocking."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        os.set_blocking(fd, False)
        self._buffer = bytearray()
        # The worker's end is closed: it stopped or died. A batch its death cut off stays
        # unread: its block was not handed back, so the successor reads it again.
        self.closed = False

    def read(self) -> list[Batch]:
        """The whole batches that have arrived; sets `closed` at the end of the pipe."""
        while not self.closed:
            try:
                chunk = os.read(self.fd, READ_CHUNK)
            except BlockingIOError:
                break
            if not chunk:
                self.closed = True
                break
            self._buffer += chunk
            if len(chunk) < READ_CHUNK:
                break
        return self._whole_batches()

    def _whole_batches(self) -> list[Batch]:
        batches = []
        buffer, at = self._buffer, 0
        while len(buffer) - at >= LENGTH.size:
            (size,) = LENGTH.unpack_from(buffer, at)
            if len(buffer) - at - LENGTH.size < size:
                break
            start = at + LENGTH.size
            batches.append(pickle.loads(buffer[start : start + size]))
            at = start + size
        del buffer[:at]
        return batches

    def close(self) -> None:
        """Close the pipe once: a descriptor number closed twice may be another file's by then."""
        if self.fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self.fd)
            self.fd = -1
        self.closed = True
