"""What a live source besides the capture interface offers the daemon (flow export, a
resolver's log): whatever it gathered on its own thread, handed to the pipeline at a
tick of the capture loop, so the pipeline stays single-threaded."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from homeguard.pipeline.core import Pipeline


class Feed(Protocol):
    def drain(self, pipeline: Pipeline, now: float) -> int:
        """Feed what arrived; `now` inf at the end (nothing is held back then)."""
        ...

    def close(self) -> None: ...
