"""Replay on several cores: `homeguard replay --workers N`.

Each worker (workers/worker.py, run_files) reads every file and takes its share of the
frames, spread by their IP addresses (workers/share.py), so a flow's two directions
and a datagram's fragments meet in one worker. The workers decode, keep flows and
sessions and make the events; the household process here puts their batches back in
time order (workers/merge.py) and relays them into its own pipeline (pipeline/relay.py),
which keeps devices, rules, findings and the store, as in live capture.

The events reach the household in the files' own order, frame by frame (the merge's
frame places), so a replay in workers gives the same result on every run. What it gives
up against one process: a worker ends idle flows by its own share's clock, so a flow's
end may come a little later in the files than in one process, and the flows of an
address pair are counted by one worker only, so a file with one busy pair of addresses
gets no faster. One process (the default) stays exact.

The household reads next from the worker furthest behind: the others wait at their
full pipes, so the memory held for ordering stays small however uneven the shares. A
worker that dies, or sends nothing for SILENCE seconds (and is killed), makes the replay
fail (its share of the frames is lost), and says so.
"""

from __future__ import annotations

import functools
import logging
import math
import os
import select
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from homeguard.capture.source import CaptureCounters
from homeguard.events.wanted import EventTypes
from homeguard.pipeline.core import Pipeline
from homeguard.pipeline.relay import EventRelay
from homeguard.pipeline.replay import ReplaySummary
from homeguard.settings import Config
from homeguard.workers.channel import (
    Batch,
    BatchReader,
    FileRead,
    WorkerCounts,
    added,
    take_counts,
    widen_pipe,
)
from homeguard.workers.merge import TimeMerge, relay_ready
from homeguard.workers.pool import Known
from homeguard.workers.worker import FileShare, WorkerSetup, start_process

log = logging.getLogger("homeguard.workers")
READ_PATIENCE = 1.0  # seconds between looks at a worker that sends nothing (has it died?)
SILENCE = 120.0  # seconds: a worker that sends nothing for this long is stuck, and is stopped


@dataclass
class ReplayWorker:
    index: int
    process: subprocess.Popen[bytes]
    batches: BatchReader
    counts: WorkerCounts = field(default_factory=WorkerCounts)
    files: list[FileRead] | None = None  # from its last batch: it is done


@dataclass
class FileCounts:
    """A replayed file as the household's capture_stats sees a source."""

    name: str
    counters: CaptureCounters


def start_worker(
    config: Config, paths: list[str], share: int, shares: int, known: Known, wanted: EventTypes
) -> ReplayWorker:
    batches_fd, batches_w = os.pipe()
    widen_pipe(batches_w)
    devices, device_ips, infrastructure = known
    setup = WorkerSetup(
        share,
        config,
        "",
        0,
        -1,
        batches_w,
        -1,
        devices,
        device_ips,
        infrastructure,
        wanted=wanted,
        files=FileShare(tuple(paths), share, shares),
    )
    process = start_process(setup, (batches_w,))  # one that dies at once sends no last batch
    os.close(batches_w)
    return ReplayWorker(share, process, BatchReader(batches_fd))


class ReplayPool:
    """The household's end of a replay in workers."""

    def __init__(self, pipeline: Pipeline, workers: list[ReplayWorker], silence: float = SILENCE) -> None:
        self.pipeline = pipeline
        self.silence = silence
        self.relay = EventRelay(pipeline)
        # in the files' order, however many items that holds: the household reads from the
        # worker furthest behind, so the others wait at their full pipes and few are held
        self.merge = TimeMerge(max_waiting=math.inf, stale=math.inf, by_frame=True)
        self.workers = workers
        self.failed: list[str] = []
        now = time.monotonic()
        for worker in workers:
            self.merge.expect(worker.index, now)

    def run(self, on_bytes: Callable[[int], None] | None) -> None:
        reported = 0
        waited_for, since = None, 0.0  # the worker read from, and since when it said nothing
        while True:
            open_workers = [w for w in self.workers if not w.batches.closed]
            if not open_workers:
                break
            laggard = min(open_workers, key=lambda w: self.merge.workers[w.index].until)
            if laggard is not waited_for:
                waited_for, since = laggard, time.monotonic()
            select.select([laggard.batches.fd], [], [], READ_PATIENCE)
            batches = laggard.batches.read()
            if batches:
                since = time.monotonic()
            for batch in batches:
                self._take(laggard, batch)
            if laggard.batches.closed and laggard.files is None:
                self._died(laggard)
            elif time.monotonic() - since > self.silence:
                self._stuck(laggard)
            self._relay_ready()
            if on_bytes is not None:
                done = sum(w.counts.bytes for w in self.workers)
                on_bytes(done - reported)
                reported = done
        self._relay_ready(everything=True)

    def _take(self, worker: ReplayWorker, batch: Batch) -> None:
        self.merge.add(worker.index, batch, time.monotonic())
        worker.counts = batch.counts
        if batch.until == math.inf:  # its last batch
            worker.files = batch.files

    def _relay_ready(self, everything: bool = False) -> None:
        relay_ready(self.merge, self.relay, time.monotonic(), everything)

    def _stuck(self, worker: ReplayWorker) -> None:
        """Every loop ends: a worker silent for `silence` seconds is killed and reported."""
        worker.process.kill()
        worker.batches.close()
        self._died(worker, f"sent nothing for {self.silence:.0f} s, killed")

    def _died(self, worker: ReplayWorker, how: str | None = None) -> None:
        code = worker.process.wait()
        if how is None:
            how = f"killed by {signal.Signals(-code).name}" if code < 0 else f"exit status {code}"
        text = f"replay worker {worker.index} died ({how}): its share of the frames was not all read"
        log.error("%s", text)
        self.failed.append(text)
        self.merge.forget(worker.index)
        worker.files = []


def replay_in_workers(
    config: Config,
    pipeline: Pipeline,
    paths: list[str],
    workers: int,
    known: Known,
    on_bytes: Callable[[int], None] | None = None,
) -> ReplaySummary:
    """Replay `paths` in `workers` processes, into the household's `pipeline`."""
    summary = ReplaySummary()
    started = time.perf_counter()
    crew: list[ReplayWorker] = []
    try:
        for share in range(workers):
            crew.append(start_worker(config, paths, share, workers, known, pipeline.wanted))
        pool = ReplayPool(pipeline, crew)
        pool.run(on_bytes)
    finally:
        for worker in crew:
            if worker.process.poll() is None and worker.files is None:
                worker.process.kill()
            worker.process.wait()
            worker.batches.close()
    take_counts(pipeline, functools.reduce(added, (w.counts for w in crew), WorkerCounts()))
    summary.failed.extend(pool.failed)
    # Every worker read every file: the first one that read them all tells.
    files = next((w.files for w in crew if w.files), [])
    for read in files:
        summary.files += 1
        summary.packets += read.packets
        if read.truncated:
            summary.truncated.append(read.path)
        if read.error is not None:
            summary.failed.append(read.error)
        pipeline.start_source(read.path)  # as one process has it after each file
        pipeline.frame_no = read.packets
        counters = CaptureCounters(read.packets, read.bytes, 0, read.truncated)
        pipeline.capture_stats(FileCounts(read.path, counters), read.last_ts)
    pipeline.close()
    summary.devices = len(pipeline.devices)
    summary.seconds = time.perf_counter() - started
    return summary
