"""One capture worker: a process of its own that reads its share of the frames from a
TPACKET_V3 ring in a PACKET_FANOUT group, decodes them, keeps their flows and sessions,
and sends the events to the household process (workers/pool.py), which keeps devices,
rules, findings, the store and alerts.

Started by the pool as `python -m homeguard.workers.worker`, with its setup (a pickled
WorkerSetup) on stdin and three inherited descriptors: the ring's socket, which the
household opened and keeps open (so a worker that dies loses no frame still in the
ring, and its successor maps the same ring), the pipe its batches go into, and the pipe
the household's orders come from (shed, full detail, stop, a reloaded config, the event
types now wanted). It ignores SIGTERM and SIGINT: systemd and Ctrl-C signal the whole
group, and the household stops the workers in order, so each one's last flows still
arrive. When the household is gone (the order pipe closes), it stops too.

`homeguard replay --workers N` starts the same worker on capture files instead
(workers/replay.py): each worker reads every file and keeps its share of the frames
(workers/share.py), with no ring and no orders.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import pickle
import signal
import socket
import struct
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Any

from homeguard.capture.pcapfile import PcapFileSource
from homeguard.capture.ring import RingSource
from homeguard.clock import SystemClock
from homeguard.errors import CaptureFileError
from homeguard.events import Event
from homeguard.events.wanted import EventTypes
from homeguard.pipeline.core import Pipeline
from homeguard.pipeline.relay import RELAY_READS
from homeguard.plugins.manager import plugin_manager
from homeguard.plugins.registry import Registry
from homeguard.settings import Config
from homeguard.store.writer import BatchWriter
from homeguard.workers.channel import Batch, FileRead, WorkerCounts, send
from homeguard.workers.merge import SETTLE, WORKER_TICK, frame_place
from homeguard.workers.share import share_of

log = logging.getLogger("homeguard.workers")
SHED, FULL_DETAIL, STOP = b"S", b"F", b"Q"
CONFIG, WANTED = b"C", b"W"  # followed by a pickled Config, or the event types the household wants
PAYLOAD_LENGTH = struct.Struct("=I")  # the size of a CONFIG or WANTED order's pickle
FILE_BATCH_FRAMES = 4096  # a replay worker sends a batch after reading this many frames


@dataclass(frozen=True)
class FileShare:
    """A replay worker's files, and which share of their frames is its own."""

    paths: tuple[str, ...]
    share: int
    shares: int


def start_process(setup: WorkerSetup, pass_fds: tuple[int, ...]) -> subprocess.Popen[bytes]:
    """Start a worker with its setup on stdin and these descriptors inherited. One that
    dies at once is not raised here: its caller notices it as any death."""
    process = subprocess.Popen(
        [sys.executable, "-m", "homeguard.workers.worker"], stdin=subprocess.PIPE, pass_fds=pass_fds
    )
    assert process.stdin is not None
    with contextlib.suppress(BrokenPipeError):
        process.stdin.write(pickle.dumps(setup, protocol=pickle.HIGHEST_PROTOCOL))
        process.stdin.close()
    return process


def config_order(config: Config) -> bytes:
    data = pickle.dumps(config, protocol=pickle.HIGHEST_PROTOCOL)
    return CONFIG + PAYLOAD_LENGTH.pack(len(data)) + data


def wanted_order(wanted: EventTypes) -> bytes:
    data = pickle.dumps(wanted, protocol=pickle.HIGHEST_PROTOCOL)
    return WANTED + PAYLOAD_LENGTH.pack(len(data)) + data


@dataclass
class WorkerSetup:
    """What a worker needs from the household to start."""

    index: int
    config: Config
    interface: str
    ring_bytes: int
    ring_fd: int
    batches_fd: int
    orders_fd: int
    devices: list[dict[str, Any]] = field(default_factory=list)  # known before: not new again
    device_ips: list[dict[str, Any]] = field(default_factory=list)
    infrastructure: list[tuple[str, str]] = field(default_factory=list)
    own_mac: bytes | None = None
    own_ips: frozenset[bytes] = frozenset()
    wanted: EventTypes = None  # the event types the household's rules and outputs want
    files: FileShare | None = None  # a replay: these files, not the ring (ring_fd is -1)


class ForwardingWriter(BatchWriter):
    """Rows wait here until the next delivery hands them to the household
    (Outbox.deliver): a worker writes nothing itself."""

    def __init__(self, max_rows: int) -> None:
        super().__init__(None, max_rows)  # no database: sqlite-utils is never loaded here

    def flush(self) -> None:
        for hook in self.before_flush:
            hook()


class Outbox:
    """The events and rows of the frames read since the last delivery."""

    def __init__(self, fd: int, writer: BatchWriter, household_wants: EventTypes) -> None:
        self.fd = fd
        self.writer = writer
        self.events: list[Event] = []
        self.event_types: EventTypes = None
        self.want(household_wants)

    def want(self, household_wants: EventTypes) -> None:
        """What the household's rules and outputs want, and what its relay learns from."""
        self.event_types = None if household_wants is None else household_wants | RELAY_READS

    def __call__(self, event: Event) -> None:
        self.events.append(event)

    def deliver(self, counts: WorkerCounts, until: float, files: list[FileRead] | None = None) -> None:
        """Send what is waiting, and how far this worker has read: sent even when there is
        nothing else, since the household waits for every worker's mark to keep order."""
        self.send(Batch(counts=counts, until=until, files=files or []))

    def send(self, batch: Batch) -> None:
        """The batch, with the events and rows waiting."""
        batch.events = self.events
        batch.inserts, batch.upserts, batch.statements = self.writer.take_pending()
        send(self.fd, batch)
        self.events = []


def counts_of(pipeline: Pipeline) -> WorkerCounts:
    """The pipeline's counts: of the frames it was given (a ring's, or a file's share)."""
    stats, seen = pipeline.stats, pipeline.visibility
    return WorkerCounts(
        stats.packets,
        stats.bytes,
        stats.malformed,
        stats.internal_errors,
        stats.shed,
        len(pipeline.flows),
        seen.between_others,
        seen.answered,
        seen.group,
        seen.own,
    )


class Orders:
    """The household's orders, read without waiting, once per block and per tick (the
    ring wakes as soon as one arrives): shed, full detail, stop, a reloaded config, and
    the event types the household wants after its rules were reloaded."""

    def __init__(self, fd: int, pipeline: Pipeline, outbox: Outbox, ring: RingSource) -> None:
        self.fd = fd
        os.set_blocking(fd, False)
        self.pipeline = pipeline
        self.outbox = outbox
        self.ring = ring
        self._buffer = bytearray()

    def read(self) -> None:
        try:
            arrived = os.read(self.fd, 1 << 16)
        except BlockingIOError:
            return
        if not arrived:  # the household is gone
            self.ring.stop.set()
            return
        self._buffer += arrived
        self._follow()

    def _follow(self) -> None:
        buffer, at = self._buffer, 0
        while at < len(buffer):
            order = buffer[at : at + 1]
            if order in (CONFIG, WANTED):
                start = at + 1 + PAYLOAD_LENGTH.size
                if len(buffer) < start:
                    break
                (size,) = PAYLOAD_LENGTH.unpack_from(buffer, at + 1)
                if len(buffer) < start + size:
                    break  # the rest is on its way
                self._take(order, pickle.loads(buffer[start : start + size]))
                at = start + size
                continue
            if order == STOP:
                self.ring.stop.set()
            elif order in (SHED, FULL_DETAIL):
                self.pipeline.shedding = order == SHED
            at += 1
        del buffer[:at]

    def _take(self, order: bytes | bytearray, value: Any) -> None:
        pipeline = self.pipeline
        if order == CONFIG:
            pipeline.config = value
            pipeline.set_metadata_only(value.values["metadata_only"])
        else:
            self.outbox.want(value)
            pipeline.want_events()


def worker_pipeline(setup: WorkerSetup, clock: SystemClock) -> tuple[Pipeline, Outbox]:
    """The pipeline a worker runs: decoding, flows, sessions and events, no enrichment and
    no store; its events and rows go into the outbox."""
    config = setup.config
    registry = Registry.gather(plugin_manager(protocols_only=True), config, enrich=False)
    # The rows this worker would write go to the household with its next batch.
    writer = ForwardingWriter(config.values["flush_max_rows"])
    outbox = Outbox(setup.batches_fd, writer, setup.wanted)
    pipeline = Pipeline(config, writer, [outbox], clock=clock, protocols=registry.dispatch(), enrichers=[])
    pipeline.want_events()
    pipeline.devices.restore(setup.devices, setup.device_ips)
    pipeline.infrastructure.restore(setup.infrastructure)
    pipeline.visibility.own_mac, pipeline.visibility.own_ips = setup.own_mac, setup.own_ips
    if config.values["intercept_devices"]:  # HomeGuard's own ARP claims are no spoofing
        pipeline.infrastructure.interceptor_mac = setup.own_mac
    return pipeline, outbox


def run(setup: WorkerSetup) -> None:
    clock = SystemClock()
    pipeline, outbox = worker_pipeline(setup, clock)
    sock = socket.socket(fileno=setup.ring_fd)
    ring = RingSource(setup.interface, ring_bytes=setup.ring_bytes, clock=clock, attached=sock)
    orders = Orders(setup.orders_fd, pipeline, outbox, ring)
    ring.wake_on(setup.orders_fd)
    ring.idle_tick = WORKER_TICK

    def deliver(until: float) -> None:
        outbox.deliver(counts_of(pipeline), until)
        orders.read()

    ring.on_block_done = lambda: deliver(pipeline.last_ts)
    process = pipeline.process
    for frame in ring.frames():
        if frame is None:  # idle: whatever arrived before SETTLE ago has been read
            now = clock.time()
            pipeline.maintain(now)
            deliver(max(pipeline.last_ts, now - SETTLE))
        else:
            process(frame)
    pipeline.close()  # every open flow ends: its flow_end goes to the household
    outbox.deliver(counts_of(pipeline), math.inf)  # the last: nothing more to wait for


def run_files(setup: WorkerSetup, files: FileShare) -> None:
    """Replay: read every file, process this worker's share of the frames (in the file's
    order), and say after every FILE_BATCH_FRAMES frames, and at each file's end, how far
    it has read, as a frame place (workers/merge.py). It never says it has read a frame
    before it has sent every event that frame makes: the household takes the others'
    events up to there as complete."""
    pipeline, outbox = worker_pipeline(setup, SystemClock())
    process, share, shares = pipeline.process, files.share, files.shares
    read: list[FileRead] = []
    for ordinal, path in enumerate(files.paths):
        source = PcapFileSource(path)
        pipeline.start_source(path)  # events name the file and the frame
        error, last_ts = None, pipeline.last_ts
        try:
            for number, frame in enumerate(source.frames(), 1):
                if frame is None:
                    continue
                last_ts = frame[0]
                if share_of(frame[1], frame[2], shares) == share:
                    pipeline.frame_no = number - 1  # process counts it
                    process(frame)
                if not number % FILE_BATCH_FRAMES:
                    pipeline.frame_no = number  # what ends now ends at this frame, as in one process
                    deliver_read(pipeline, outbox, ordinal, number, last_ts)
        except CaptureFileError as exc:
            error = str(exc)
        counters = source.counters
        pipeline.frame_no = counters.packets  # what ends now ends at the file's last frame
        read.append(FileRead(path, counters.packets, counters.bytes, counters.truncated, error, last_ts))
        if ordinal < len(files.paths) - 1:  # the last file's end goes with what ends at its end:
            deliver_read(pipeline, outbox, ordinal, counters.packets, last_ts)  # one place, one batch
    pipeline.close()
    outbox.send(Batch(counts=counts_of(pipeline), until=math.inf, file=len(files.paths) - 1, files=read))


def deliver_read(pipeline: Pipeline, outbox: Outbox, file: int, frame: int, ts: float) -> None:
    """A replay worker's batch at `frame` of `file`. Its device rows are written first, so
    which batch carries them is the same on every run, not a matter of the clock."""
    if ts >= pipeline.last_ts:  # flows idle in this share end on time
        pipeline.maintain(ts)
    pipeline.flush()
    outbox.send(Batch(counts=counts_of(pipeline), until=frame_place(file, frame), file=file, read_time=ts))


def main() -> int:
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, signal.SIG_IGN)
    setup: WorkerSetup = pickle.load(sys.stdin.buffer)
    logging.basicConfig(
        stream=sys.stderr,
        level=setup.config.values["log_level"].upper(),
        format=f"%(levelname)s %(name)s[worker {setup.index}]: %(message)s",
    )
    try:
        if setup.files is not None:
            run_files(setup, setup.files)
        else:
            run(setup)
    except BrokenPipeError:  # the household is gone: nobody to send to
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
