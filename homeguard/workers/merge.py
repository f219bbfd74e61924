"""The workers' batches put back into the order the packets came in.

Each worker reads its own flows in order, but the workers run side by side: the answer
to a lookup, read by one worker, may reach the household after the connection it named,
read by another, and a rule that counts or compares across devices would see time jump
back and forth. So nothing from a worker is relayed until every other worker has said
it has read at least that far.

Each batch says how far its worker has read (`Batch.until`): the last frame's time at
the end of a block, or, when the ring is idle, the clock less SETTLE (a frame that
arrived before that has been handed over by the kernel's block timer). The household
relays, oldest first across the workers, every event no later than the smallest of
those marks; a batch's rows follow its last event.

Every worker says how far it has read at least every WORKER_TICK when idle, so one
that says nothing for STALE seconds (stuck, or dying) is not waited for; when more than
MAX_WAITING items wait, the oldest go anyway. Both keep the household's
memory bounded whatever a worker does; an item relayed early may be out of order, never
lost.

A replay (workers/replay.py) has no live clock to keep up with: it waits for every worker
however long it takes, and reads next from the worker furthest behind, so the others
wait at their full pipes and the items held stay few. Its places are frames, not times
(`by_frame`): every worker reads every frame of every file, so each can say exactly
where in the files it is, and an event's place is the file and frame that made it. The
household then gets the events in the files' own order, the same on every run, even
where a capture's clock goes back (merged files, a clock set at boot), where times
cannot say which came first.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field

from homeguard.events import Event
from homeguard.pipeline.relay import EventRelay
from homeguard.workers.channel import Batch

SETTLE = 0.2  # seconds: well over two of the ring's block timeouts (capture/ring.py)
WORKER_TICK = 0.1  # seconds: how often an idle worker says how far it has read
STALE = 2.0  # seconds of silence after which a worker is no longer waited for
MAX_WAITING = 50_000  # events and row sets held for order, across the workers
FILE_SPAN = float(1 << 32)  # frame places: file by file (no capture file holds 2**32 frames)


def frame_place(file: int, frame: int) -> float:
    """Where a replayed frame stands among all the files': the files in the order given,
    each one's frames in its own order (exact as a float up to 2**21 files)."""
    return file * FILE_SPAN + frame


@dataclass
class Waiting:
    """One worker's items not yet relayed, each with its place (a time, or a replay's frame)."""

    # each with its place and, for two in one place, its time (a batch's rows: last)
    items: deque[tuple[float, float, Event | Batch]] = field(default_factory=deque)
    until: float = -math.inf  # it has read everything up to here
    heard: float = -math.inf  # when it last sent, by the monotonic clock
    last: float = -math.inf  # the place of its newest item (places never go back)


class TimeMerge:
    """Events in time (or frame) order across the workers; a batch's rows after its events."""

    def __init__(
        self, max_waiting: float = MAX_WAITING, stale: float = STALE, by_frame: bool = False
    ) -> None:
        self.max_waiting = max_waiting  # a replay holds however many it must (math.inf)
        self.stale = stale  # a replay's workers are always waited for (math.inf)
        self.by_frame = by_frame  # places are frame places (a replay), not times
        self.workers: dict[int, Waiting] = {}
        self.waiting = 0
        self.early = 0  # items relayed before their turn because too many waited

    def expect(self, index: int, now: float) -> None:
        """Wait for this worker from now on, even before its first batch."""
        self.workers.setdefault(index, Waiting(heard=now))

    def add(self, index: int, batch: Batch, now: float) -> None:
        """Take a worker's batch: its events, then its rows (the Batch itself). By frame,
        the Batch always follows: it carries the replay's time (Batch.read_time)."""
        worker = self.workers.setdefault(index, Waiting())
        items, last, before = worker.items, worker.last, len(worker.items)
        by_frame, file = self.by_frame, batch.file
        for event in batch.events:
            place = frame_place(file, event["capture.frame"]) if by_frame else float(event["ts"])
            last = max(last, place)
            items.append((last, float(event["ts"]), event))
        if by_frame or batch.inserts or batch.upserts or batch.statements:
            last = max(last, batch.until)
            items.append((last, math.inf, batch))
        self.waiting += len(items) - before
        worker.last = last
        worker.until = max(worker.until, batch.until)
        worker.heard = now

    def forget(self, index: int) -> None:
        """A worker given up: nothing more will come from it (what it sent still goes)."""
        worker = self.workers.get(index)
        if worker is not None:
            worker.until = math.inf

    def ready(self, now: float, everything: bool = False) -> Iterator[Event | Batch]:
        """What may be relayed now, oldest first; with `everything`, all that waits."""
        mark = math.inf if everything else self.mark(now)
        while True:
            head = self._oldest()
            if head is None:
                return
            (place, _ts), worker = head
            if place > mark and self.waiting <= self.max_waiting:
                return
            if place > mark:
                self.early += 1
            self.waiting -= 1
            yield worker.items.popleft()[2]

    def mark(self, now: float) -> float:
        """How far every worker still heard from has read (inf: none is)."""
        marks = [w.until for w in self.workers.values() if now - w.heard < self.stale]
        return min(marks) if marks else math.inf

    def _oldest(self) -> tuple[tuple[float, float], Waiting] | None:
        """The worker whose next item comes first: by place, then (the workers' devices
        announced at a replay's end, all at its last frame) by time."""
        oldest: tuple[tuple[float, float], Waiting] | None = None
        for worker in self.workers.values():
            if worker.items:
                place, ts, _item = worker.items[0]
                if oldest is None or (place, ts) < oldest[0]:
                    oldest = ((place, ts), worker)
        return oldest


def relay_ready(merge: TimeMerge, relay: EventRelay, now: float, everything: bool = False) -> None:
    """Into the household's pipeline: what the merge lets go now (events, and a batch's
    rows after its events). By frame, a batch also moves the household's clock to where
    the files are (Pipeline.keep_time), at the same frame on every run."""
    for item in merge.ready(now, everything):
        if isinstance(item, Batch):
            relay.rows(item.inserts, item.upserts, item.statements)
            if merge.by_frame:
                relay.pipeline.keep_time(item.read_time)
        else:
            relay.event(item)
