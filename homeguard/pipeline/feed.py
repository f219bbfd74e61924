"""What a live source besides the capture interface offers the daemon (flow export, a
resolver's log): whatever it gathered on its own thread, handed to the pipeline at a
tick of the capture loop, so the pipeline stays single-threaded."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from homeguard.pipeline.core import Pipeline


class Feed(Protocol):
    name: str  # for the log and the metrics: flow-export, resolver-log, pihole, suricata-eve

    def drain(self, pipeline: Pipeline, now: float) -> int:
        """Feed what arrived; `now` inf at the end (nothing is held back then). With
        capture workers `now` is how far the capture has caught up (LiveCapture.caught_up),
        a moment behind the clock: what arrived after it is held until the capture's
        packets from that moment are in, so a log line never overtakes them."""
        ...

    def problem(self, now: float) -> str | None:
        """What is wrong with it now, in words for a health finding; None when it works."""
        ...

    def close(self) -> None: ...


QUIET_AFTER = 600.0  # seconds: a source missing or silent this long is a health finding


def quiet_for(last_heard: float, now: float) -> str:
    return f"{int((now - last_heard) // 60)} minutes"
