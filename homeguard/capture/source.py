"""The one small interface every capture source offers to the pipeline."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from threading import Event
from typing import Protocol

# One captured frame: (timestamp in seconds, link type, bytes captured, length on the wire).
# A plain tuple because it is made once per packet on the hot path.
Frame = tuple[float, int, bytes, int]


@dataclass(slots=True)
class CaptureCounters:
    """What a source has read, and what the kernel or the file says was lost."""

    packets: int = 0
    bytes: int = 0
    kernel_drops: int = 0
    truncated: bool = False


class CountedSource(Protocol):
    """What capture_stats reads of a source: its name and its counters."""

    name: str
    counters: CaptureCounters


class CaptureSource(CountedSource, Protocol):
    """A stream of frames. Live sources yield None when idle so the pipeline can tick."""

    def frames(self) -> Iterator[Frame | None]: ...

    def close(self) -> None: ...


class LiveCapture(CaptureSource, Protocol):
    """A live source: it stops when `stop` is set, and says how much it buffers."""

    stop: Event
    buffer_bytes: int
    kind: str  # what buffers it, for the log: "TPACKET_V3 ring", "receive buffer"

    def problem(self, now: float) -> str | None:
        """What is wrong with the capture besides drops (a capture worker died), for the
        source-down rule; None when nothing is."""
        ...

    def caught_up(self, now: float) -> float:
        """The time up to which the pipeline has every frame: `now` when frames reach it
        as they come, earlier while capture workers' batches wait to be put in order. The
        daemon's other sources hold what arrives after it (pipeline/feed.py)."""
        ...
