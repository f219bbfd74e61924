"""The household's side of capture on every core: one ring socket per worker in one
PACKET_FANOUT group, the worker processes that read them, and the relay of their
batches into the household's pipeline.

The household opens every socket itself and keeps it. A worker inherits its socket and
maps its ring; when a worker dies, its socket stays in the group with its frames still
in the ring, a new worker maps the same ring and goes on from the oldest waiting block,
and the kernel keeps sending the same flows to it (the group's membership never
changes, so neither does the spread). What is lost is counted: the flows the dead
worker had open (their byte counts end with it), reported in capture_stats and as a
source problem (the source-down rule).

What the workers send is put back in time order across them (workers/merge.py) before
the household's pipeline sees it. The pool is the daemon's LiveCapture. It yields only
ticks: the frames are read in the workers, and their batches are relayed into the
pipeline while it waits for them.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from threading import Event
from typing import Any

from homeguard.capture.ring import BLOCK_SIZE, IDLE_TICK, kernel_drops, open_ring_socket, ring_blocks
from homeguard.capture.source import CaptureCounters, Frame
from homeguard.events.wanted import EventTypes
from homeguard.pipeline.core import Pipeline
from homeguard.pipeline.relay import EventRelay
from homeguard.settings import Config
from homeguard.workers.budget import worker_ring_bytes
from homeguard.workers.channel import Batch, BatchReader, WorkerCounts, added, take_counts, widen_pipe
from homeguard.workers.merge import TimeMerge, relay_ready
from homeguard.workers.worker import (
    FULL_DETAIL,
    SHED,
    STOP,
    WorkerSetup,
    config_order,
    start_process,
    wanted_order,
)

log = logging.getLogger("homeguard.workers")
STOP_PATIENCE = 10.0  # seconds a stopping worker has to send its last flows
RESTARTS_PER_MINUTE = 5  # beyond this a worker is given up, and its flows go to the others
PROBLEM_FOR = 600.0  # seconds a worker's death stays a source problem
# What the household knew at start, so a worker does not announce it again: device rows,
# their address rows, and the learned infrastructure.
Known = tuple[list[dict[str, Any]], list[dict[str, Any]], list[tuple[str, str]]]


@dataclass
class Worker:
    index: int
    sock: socket.socket
    process: subprocess.Popen[bytes]
    batches: BatchReader
    orders_fd: int
    counts: WorkerCounts = field(default_factory=WorkerCounts)
    earlier: WorkerCounts = field(default_factory=WorkerCounts)  # of the workers it replaced
    deaths: list[float] = field(default_factory=list)


class CapturePool:
    kind = "TPACKET_V3 rings"

    def __init__(
        self,
        config: Config,
        interface: str,
        pipeline: Pipeline,
        workers: int,
        *,
        known: Known = ([], [], []),
        stop: Event | None = None,
    ) -> None:
        self.name = interface
        self.config = config
        self.pipeline = pipeline
        self.relay = EventRelay(pipeline)
        self.merge = TimeMerge()
        self.counters = CaptureCounters()
        self.stop = stop or Event()
        ring_bytes = worker_ring_bytes(config.values["capture_ring_mb"] << 20, workers)
        self.ring_bytes = ring_bytes
        self.buffer_bytes = workers * ring_blocks(ring_bytes) * BLOCK_SIZE
        self.known = known
        self.restarts = 0
        self.flows_lost = 0
        self._problem: tuple[float, str] | None = None
        self._shedding = False
        pipeline.on_wanted.append(self.want)  # the rules were reloaded: the workers build for them
        group = os.getpid() & 0xFFFF
        self.workers: list[Worker] = []
        try:
            sockets = [
                open_ring_socket(
                    interface,
                    config.values["bpf_filter"],
                    promiscuous=config.values["promiscuous"],
                    ring_bytes=ring_bytes,
                    fanout_group=group,
                )
                for _ in range(workers)
            ]
            for index, sock in enumerate(sockets):
                self.workers.append(self._start(index, sock))
        except BaseException:
            self.close()
            raise

    def _start(self, index: int, sock: socket.socket, earlier: WorkerCounts | None = None) -> Worker:
        batches_fd, batches_w = os.pipe()
        orders_r, orders_fd = os.pipe()
        widen_pipe(batches_w)
        devices, device_ips, infrastructure = self.known
        visibility = self.pipeline.visibility
        setup = WorkerSetup(
            index,
            self.config,
            self.name,
            self.ring_bytes,
            sock.fileno(),
            batches_w,
            orders_r,
            devices,
            device_ips,
            infrastructure,
            visibility.own_mac,
            visibility.own_ips,
            self.pipeline.wanted,
        )
        process = start_process(setup, (sock.fileno(), batches_w, orders_r))
        os.close(batches_w)
        os.close(orders_r)
        worker = Worker(index, sock, process, BatchReader(batches_fd), orders_fd)
        worker.earlier = earlier or WorkerCounts()
        if self._shedding:
            self._order(worker, SHED)
        log.info("capture worker %d started (pid %d)", index, process.pid)
        return worker

    # -- the daemon's source --------------------------------------------------

    def frames(self) -> Iterator[Frame | None]:
        yield None
        while not self.stop.is_set():
            self._relay_ready(IDLE_TICK)
            self._look_after_workers()
            self._update_counters()
            yield None
        self._stop_workers()
        self._update_counters()

    def _relay_ready(self, timeout: float) -> None:
        readers = {w.batches.fd: w for w in self.workers if not w.batches.closed}
        if not readers:
            self.stop.wait(timeout)
            return
        try:
            ready, _, _ = select.select(list(readers), [], [], timeout)
        except InterruptedError:
            return
        for fd in ready:
            worker = readers[fd]
            for batch in worker.batches.read():
                self._relay(worker, batch)
        self._relay_in_order()

    def _relay(self, worker: Worker, batch: Batch) -> None:
        """Take a batch into the merge; what is in order goes on by _relay_in_order."""
        self.merge.add(worker.index, batch, time.monotonic())
        worker.counts = batch.counts

    def _relay_in_order(self, everything: bool = False) -> None:
        relay_ready(self.merge, self.relay, time.monotonic(), everything)

    def _update_counters(self) -> None:
        total = WorkerCounts()
        for worker in self.workers:
            total = added(total, added(worker.earlier, worker.counts))
            if worker.sock.fileno() >= 0:
                self.counters.kernel_drops += kernel_drops(worker.sock)
        self.counters.packets, self.counters.bytes = total.packets, total.bytes
        take_counts(self.pipeline, total)
        if self.pipeline.shedding != self._shedding:
            self._shedding = self.pipeline.shedding
            for worker in self.workers:
                self._order(worker, SHED if self._shedding else FULL_DETAIL)

    def reconfigure(self, config: Config) -> None:
        """A reloaded config, for every worker's pipeline (as LiveConfig sets the
        household's), and for the workers started after."""
        self.config = config
        for worker in self.workers:
            self._order(worker, config_order(config))

    def want(self, wanted: EventTypes) -> None:
        """The event types the household's rules and outputs want now, for every worker
        (a worker started later reads them from the pipeline)."""
        for worker in self.workers:
            self._order(worker, wanted_order(wanted))

    def _order(self, worker: Worker, order: bytes) -> None:
        if worker.orders_fd < 0:  # given up: nothing to tell
            return
        with contextlib.suppress(OSError):  # it is gone: noticed by _look_after_workers
            os.write(worker.orders_fd, order)

    @staticmethod
    def _close_orders(worker: Worker) -> None:
        """Once only: a descriptor number closed twice may be another file's by then."""
        if worker.orders_fd >= 0:
            with contextlib.suppress(OSError):
                os.close(worker.orders_fd)
            worker.orders_fd = -1

    # -- deaths -------------------------------------------------------------

    def _look_after_workers(self) -> None:
        for position, worker in enumerate(self.workers):
            if worker.sock.fileno() < 0 or worker.process.poll() is None:
                continue
            for batch in worker.batches.read():  # what it sent before it died
                self._relay(worker, batch)
            self.workers[position] = self._replace(worker)

    def _replace(self, worker: Worker) -> Worker:
        now = time.monotonic()
        code = worker.process.returncode
        how = f"killed by {signal.Signals(-code).name}" if code < 0 else f"exit status {code}"
        lost = worker.counts.open_flows
        self.restarts += 1
        self.flows_lost += lost
        text = (
            f"capture worker {worker.index} died ({how}); {lost} open flows were lost "
            f"(their data counts stop there)"
        )
        log.error("%s; starting a new one on the same ring", text)
        self._problem = (self.pipeline.clock.time(), text)
        worker.batches.close()
        self._close_orders(worker)
        deaths = [t for t in worker.deaths if now - t < 60.0] + [now]
        earlier = added(worker.earlier, worker.counts)
        if len(deaths) > RESTARTS_PER_MINUTE:
            log.error(
                "capture worker %d died %d times within a minute: given up; the others take its flows",
                worker.index,
                len(deaths),
            )
            worker.sock.close()  # out of the group: the kernel spreads over the others
            self.merge.forget(worker.index)
            worker.earlier, worker.counts = earlier, WorkerCounts()
            return worker
        fresh = self._start(worker.index, worker.sock, earlier)
        fresh.deaths = deaths
        return fresh

    def caught_up(self, now: float) -> float:
        return min(now, self.merge.mark(time.monotonic()))

    def problem(self, now: float) -> str | None:
        """A worker's death, for PROBLEM_FOR seconds after it (capture_stats' source problem)."""
        if self._problem is None or now - self._problem[0] > PROBLEM_FOR:
            return None
        return self._problem[1]

    def health(self) -> dict[str, Any]:
        return {"worker_restarts": self.restarts, "flows_lost": self.flows_lost}

    # -- stopping -----------------------------------------------------------

    def _stop_workers(self) -> None:
        """Tell every worker to stop, and relay what they send until their pipes close."""
        for worker in self.workers:
            self._order(worker, STOP)
        deadline = time.monotonic() + STOP_PATIENCE
        while time.monotonic() < deadline and any(not w.batches.closed for w in self.workers):
            self._relay_ready(0.2)
        self._relay_in_order(everything=True)
        if self.merge.early:
            log.warning(
                "%d events went on before their turn (too many waited for a slow worker)", self.merge.early
            )
        for worker in self.workers:
            try:  # its pipe is closed: it is exiting now
                worker.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.error("capture worker %d did not stop in %.0f s: killed", worker.index, STOP_PATIENCE)
                worker.process.kill()
                worker.process.wait()
            read = added(worker.earlier, worker.counts).packets
            log.info("capture worker %d read %d packets in all", worker.index, read)

    def close(self) -> None:
        for worker in self.workers:
            if worker.process.poll() is None:
                worker.process.kill()
                worker.process.wait()
            worker.batches.close()
            self._close_orders(worker)
            worker.sock.close()
