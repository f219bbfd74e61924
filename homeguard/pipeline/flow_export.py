"""A flow-export collector: the household's router sends NetFlow v5/v9 or IPFIX over UDP,
and each flow it measured enters the pipeline as if HomeGuard had seen its packets:
flow_start, flow_established (TCP, answered) and flow_end events with bytes and packets
per direction, for the device that owns the address, named from the DNS answers the
household's lookups gave (`flow_export_listen`).

A thread receives and parses datagrams (decode/netflow.py) into a bounded queue; the
capture loop drains it at its ticks, so the pipeline stays single-threaded. Routers
export each direction of a connection as its own record (softflowd does): a record is
held up to PAIR_WAIT seconds for its reverse, and the two become one flow. Malformed
datagrams, unknown templates and sequence gaps are counted, never fatal.
"""

from __future__ import annotations

import logging
import queue
import socket
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from homeguard.decode.netflow import FlowRecord, Templates, read_export
from homeguard.errors import ConfigError, DecodeError
from homeguard.pipeline.feed import QUIET_AFTER, quiet_for
from homeguard.state.flows import Flow

if TYPE_CHECKING:
    from homeguard.pipeline.core import Pipeline

log = logging.getLogger("homeguard.flow_export")
MAX_QUEUED = 50_000  # records waiting for the capture loop
PAIR_WAIT = 5.0  # seconds a record waits for its reverse direction
MAX_HELD = 20_000


@dataclass(slots=True)
class CollectorStats:
    datagrams: int = 0
    records: int = 0
    malformed: int = 0
    lost: int = 0  # records or packets the exporters' sequence numbers say never arrived
    unknown_template: int = 0
    queue_full: int = 0


def parse_listen(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    try:
        return host.strip("[]") or "0.0.0.0", int(port)
    except ValueError as exc:
        raise ConfigError(f"flow_export_listen: {text!r} is not HOST:PORT, such as 0.0.0.0:2055") from exc


class FlowCollector:
    def __init__(self, listen: str) -> None:
        self.name = "flow-export"
        host, port = parse_listen(listen)
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        try:
            self.sock.bind((host, port))
        except OSError as exc:
            self.sock.close()
            raise ConfigError(f"flow_export_listen {listen}: cannot listen there: {exc.strerror}") from exc
        self.address = self.sock.getsockname()
        self.stats = CollectorStats()
        self.templates = Templates()
        self._queue: queue.Queue[FlowRecord] = queue.Queue(MAX_QUEUED)
        # Records waiting for their reverse, with when they arrived (our clock: the
        # exporter's may be set wrong, and its times are only reported).
        self._held: dict[tuple[int, bytes, int, bytes, int], tuple[FlowRecord, float]] = {}
        self._heard: tuple[float, int] | None = None  # when the datagram count last moved, and it
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._receive, name="flow-export", daemon=True)
        self._thread.start()
        log.info("collecting NetFlow and IPFIX on %s:%d", *self.address[:2])

    def _receive(self) -> None:
        self.sock.settimeout(0.5)
        while not self._stop.is_set():
            try:
                data, (exporter, *_) = self.sock.recvfrom(65535)
            except TimeoutError:
                continue
            except OSError:
                return  # closed
            self.stats.datagrams += 1
            try:
                packet = read_export(data, exporter, self.templates)
            except DecodeError as exc:
                self.stats.malformed += 1
                log.debug("flow export from %s: %s", exporter, exc)
                continue
            self.stats.lost += packet.lost
            self.stats.unknown_template += packet.unknown_template
            for record in packet.records:
                try:
                    self._queue.put_nowait(record)
                except queue.Full:
                    self.stats.queue_full += 1

    def problem(self, now: float) -> str | None:
        if self._heard is None or self.stats.datagrams != self._heard[1]:
            self._heard = (now, self.stats.datagrams)
            return None
        if now - self._heard[0] < QUIET_AFTER:
            return None
        where = f"{self.address[0]}:{self.address[1]}"
        return f"no flow export has arrived on {where} for {quiet_for(self._heard[0], now)}"

    def drain(self, pipeline: Pipeline, now: float) -> int:
        """Feed what arrived to the pipeline; returns the flows fed."""
        fed = 0
        while True:
            try:
                record = self._queue.get_nowait()
            except queue.Empty:
                break
            self.stats.records += 1
            reverse_key = (record.proto, record.dst_ip, record.dport, record.src_ip, record.sport)
            reverse = self._held.pop(reverse_key, None)
            if reverse is not None:
                fed += self._feed(pipeline, reverse[0], record)
            else:
                if len(self._held) >= MAX_HELD:
                    fed += self._feed(pipeline, self._held.pop(next(iter(self._held)))[0], None)
                key = (record.proto, record.src_ip, record.sport, record.dst_ip, record.dport)
                self._held[key] = (record, now)
        for key in [k for k, (_, arrived) in self._held.items() if arrived < now - PAIR_WAIT]:
            fed += self._feed(pipeline, self._held.pop(key)[0], None)
        return fed

    @staticmethod
    def _feed(pipeline: Pipeline, first: FlowRecord, answer: FlowRecord | None) -> int:
        """One flow from a record and its reverse: the earlier one opened it; when both
        start within the exporter's clock resolution, the one to the lower port did (a
        service's port, as Zeek guesses for flows it saw no handshake of)."""
        if answer is not None and (answer.start, answer.dport) < (first.start, first.dport):
            first, answer = answer, first
        key = (first.proto, first.src_ip, first.sport, first.dst_ip, first.dport)
        flow = Flow(
            key, first.start, max(first.end, answer.end if answer else 0.0), first.src_mac, first.dst_mac
        )
        flow.packets_out, flow.bytes_out = first.packets, first.octets
        if answer is not None:
            flow.packets_in, flow.bytes_in = answer.packets, answer.octets
        flow.end_reason = "exported"
        pipeline.exported_flow(flow)
        return 1

    def close(self) -> None:
        self._stop.set()
        self.sock.close()
        self._thread.join(timeout=2)
