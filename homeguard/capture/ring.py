"""Live capture through a TPACKET_V3 ring: the kernel writes frames into memory shared
with HomeGuard, a block of them at a time, and hands over a whole block per wake-up.

A plain packet socket costs a system call and, when the socket runs dry, an exception
per packet; that wake-up overhead was most of the 17 µs per packet measured at 50k pps.
Here a block (256 KiB: hundreds of small frames) is read in one pass, straight from the
mapped memory, with one `poll` when none is ready. Each frame is copied out once
(`bytes`), because sessions keep payloads after the block goes back to the kernel.

The kernel retires a block when it is full or after RETIRE_MS, so a quiet network still
sees its frames within that time. Timestamps are the kernel's, moved onto the injected
clock (so tests and faketime see the same time as everywhere else). The BPF filter is
compiled by libpcap (through scapy) and attached before the socket is bound, so no
unfiltered frame ever arrives. A tag the driver took off (VLAN offload) is put back, so
the decoders see the frame as it was on the wire.

The layouts are those of linux/if_packet.h.
"""

from __future__ import annotations

import contextlib
import errno
import mmap
import select
import socket
import struct
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from threading import Event

from homeguard.capture.source import CaptureCounters, Frame
from homeguard.clock import Clock

SOL_PACKET = 263
PACKET_ADD_MEMBERSHIP = 1
PACKET_MR_PROMISC = 1
PACKET_RX_RING = 5
PACKET_STATISTICS = 6
PACKET_VERSION = 10
PACKET_FANOUT = 18
TPACKET_V3 = 2
ETH_P_ALL = 0x0003

TP_STATUS_KERNEL = 0
TP_STATUS_USER = 1
TP_STATUS_VLAN_VALID = 0x10
TP_STATUS_VLAN_TPID_VALID = 0x40
ETH_P_8021Q = 0x8100

BLOCK_SIZE = 1 << 18  # 256 KiB: a power of two, a multiple of the page size
FRAME_SIZE = 1 << 11  # only for the kernel's frame count; V3 packs frames tightly
RETIRE_MS = 50  # a block not full after this long is handed over anyway
ARPHRD_TO_LINKTYPE = {1: 1, 772: 1, 512: 9, 0xFFFE: 101, 801: 105, 803: 127}
IDLE_TICK = 0.5  # seconds: how often an idle source yields None so the pipeline can tick

# struct tpacket_block_desc: version, offset_to_priv, then tpacket_hdr_v1's
# block_status, num_pkts, offset_to_first_pkt
BLOCK_HEADER = struct.Struct("=8xIII")
# struct tpacket3_hdr: tp_next_offset, tp_sec, tp_nsec, tp_snaplen, tp_len, tp_status,
# tp_mac, tp_net, then hv1's tp_rxhash, tp_vlan_tci, tp_vlan_tpid
FRAME_HEADER = struct.Struct("=IIIIIIHHIIH")
STATUS_OFFSET = 8  # of block_status in the block descriptor
BLOCK_STATUS = struct.Struct("=I")
SEQUENCE_OFFSET = 24  # of tpacket_hdr_v1's seq_num: the kernel numbers the blocks it fills
SEQUENCE = struct.Struct("=Q")


class RingUnavailable(OSError):
    """The ring could not be set up here; the caller falls back to a plain socket."""


class RingSource:
    """Frames from a network interface through a TPACKET_V3 ring, with the kernel's
    drop counter read once per block."""

    def __init__(
        self,
        interface: str,
        bpf_filter: str | None = None,
        *,
        promiscuous: bool = True,
        ring_bytes: int = 16 << 20,
        fanout_group: int | None = None,
        stop: Event | None = None,
        clock: Clock,
        attached: socket.socket | None = None,
    ) -> None:
        """A ring of its own, or, with `attached`, the ring of a socket another process
        opened with open_ring_socket (a capture worker's): that process reads the
        kernel's counters, and reading starts at the oldest block waiting, so a worker
        that replaces one that died goes on where it stopped."""
        self.name = interface
        self.clock = clock
        self.counters = CaptureCounters()
        self.stop = stop or Event()
        self.linktype = interface_linktype(interface)
        self.kind = "TPACKET_V3 ring"
        self.blocks = ring_blocks(ring_bytes)
        self.buffer_bytes = self.blocks * BLOCK_SIZE
        self.owns_counters = attached is None
        self.idle_tick = IDLE_TICK  # a capture worker wakes more often, to say how far it read
        self._sock = attached or open_ring_socket(
            interface, bpf_filter, promiscuous=promiscuous, ring_bytes=ring_bytes, fanout_group=fanout_group
        )
        try:
            self._map = mmap.mmap(
                self._sock.fileno(), self.buffer_bytes, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE
            )
        except OSError as exc:
            self._sock.close()
            raise RingUnavailable(exc.errno, f"cannot map the ring: {exc.strerror or exc}") from exc
        self._poll = select.poll()
        self._poll.register(self._sock.fileno(), select.POLLIN | select.POLLERR)
        self._block: int | None = 0 if attached is None else None
        # Called after the last frame of a block, before the block goes back to the
        # kernel: a worker sends that block's events there, so each block is either
        # delivered or still in the ring for the worker that takes over.
        self.on_block_done: Callable[[], None] | None = None

    def wake_on(self, fd: int) -> None:
        """Wake from the idle wait when `fd` becomes readable too (a worker's order pipe),
        so an order is acted on at once rather than at the next idle tick."""
        self._poll.register(fd, select.POLLIN)

    def read_kernel_drops(self) -> int:
        """Add the kernel's counters (which reset on each read) to ours."""
        if self.owns_counters:
            self.counters.kernel_drops += kernel_drops(self._sock)
        return self.counters.kernel_drops

    def frames(self) -> Iterator[Frame | None]:
        stop, poll = self.stop, self._poll
        yield None  # a first tick at once, as the plain socket gives it
        while not stop.is_set():
            block = self._ready_block()
            if block is None:
                with contextlib.suppress(InterruptedError):  # a signal: look at the stop flag again
                    poll.poll(self.idle_tick * 1000)
                block = self._ready_block()
                if block is None:
                    self.read_kernel_drops()
                    yield None
                    continue
            yield from self._next_block(block)
        # Stopping: what arrived before the stop is in blocks the kernel may not have
        # retired yet. Wait out the retire timer once, then read every block handed over.
        time.sleep(2 * RETIRE_MS / 1000)
        for _ in range(self.blocks):
            block = self._ready_block()
            if block is None:
                break
            yield from self._next_block(block)

    def _ready_block(self) -> int | None:
        """The next block, if the kernel has handed it over. A reader that does not know
        where its predecessor stopped takes the waiting block the kernel numbered first."""
        ring = self._map
        if self._block is not None:
            return self._block if ring[self._block * BLOCK_SIZE + STATUS_OFFSET] & TP_STATUS_USER else None
        waiting = [
            (SEQUENCE.unpack_from(ring, block * BLOCK_SIZE + SEQUENCE_OFFSET)[0], block)
            for block in range(self.blocks)
            if ring[block * BLOCK_SIZE + STATUS_OFFSET] & TP_STATUS_USER
        ]
        return min(waiting)[1] if waiting else None

    def _next_block(self, block: int) -> Iterator[Frame]:
        ring = self._map
        start = block * BLOCK_SIZE
        yield from self._block_frames(ring, start)
        if self.on_block_done is not None:
            self.on_block_done()
        BLOCK_STATUS.pack_into(ring, start + STATUS_OFFSET, TP_STATUS_KERNEL)  # hand the block back
        self._block = (block + 1) % self.blocks
        self.read_kernel_drops()

    def _block_frames(self, ring: mmap.mmap, start: int) -> Iterator[Frame]:
        """Every frame of one block, copied out."""
        _status, count, offset = BLOCK_HEADER.unpack_from(ring, start)
        counters = self.counters
        # The kernel's clock onto the injected one: one call per block, not per frame.
        shift = self.clock.time() - time.time()  # the kernel stamps with the wall clock
        unpack = FRAME_HEADER.unpack_from
        linktype = self.linktype
        at = start + offset
        for _ in range(count):
            next_offset, sec, nsec, snaplen, wirelen, status, mac, _net, _hash, tci, tpid = unpack(ring, at)
            data = ring[at + mac : at + mac + snaplen]
            if status & TP_STATUS_VLAN_VALID and linktype == 1 and len(data) >= 12:
                data = _with_vlan_tag(data, tci, tpid if status & TP_STATUS_VLAN_TPID_VALID else ETH_P_8021Q)
                wirelen += 4
            counters.packets += 1
            counters.bytes += wirelen
            yield (sec + nsec * 1e-9 + shift, linktype, data, wirelen)
            at += next_offset

    def caught_up(self, now: float) -> float:
        return now

    def problem(self, now: float) -> str | None:
        return None

    def close(self) -> None:
        try:
            self.read_kernel_drops()
        except OSError as exc:
            if exc.errno != errno.EBADF:
                raise
        self._map.close()
        self._sock.close()


def ring_blocks(ring_bytes: int) -> int:
    return max(2, ring_bytes // BLOCK_SIZE)


def open_ring_socket(
    interface: str,
    bpf_filter: str | None = None,
    *,
    promiscuous: bool = True,
    ring_bytes: int = 16 << 20,
    fanout_group: int | None = None,
) -> socket.socket:
    """A packet socket with a TPACKET_V3 ring set up (not yet mapped), its filter
    attached before it is bound, so no unfiltered frame ever arrives."""
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)  # no frames until bound
    try:
        if bpf_filter:
            _attach_filter(sock, bpf_filter, interface)
        _set_up_ring(sock, ring_blocks(ring_bytes))
        sock.bind((interface, ETH_P_ALL))
        if promiscuous:
            mreq = struct.pack("IHH8s", socket.if_nametoindex(interface), PACKET_MR_PROMISC, 0, b"")
            sock.setsockopt(SOL_PACKET, PACKET_ADD_MEMBERSHIP, mreq)
        if fanout_group is not None:
            join_fanout(sock, fanout_group)
    except BaseException:
        sock.close()
        raise
    return sock


def _set_up_ring(sock: socket.socket, blocks: int) -> None:
    try:
        sock.setsockopt(SOL_PACKET, PACKET_VERSION, TPACKET_V3)
        frames = blocks * BLOCK_SIZE // FRAME_SIZE
        request = struct.pack("7I", BLOCK_SIZE, blocks, FRAME_SIZE, frames, RETIRE_MS, 0, 0)
        sock.setsockopt(SOL_PACKET, PACKET_RX_RING, request)
    except OSError as exc:
        raise RingUnavailable(exc.errno, f"no TPACKET_V3 ring: {exc.strerror or exc}") from exc


def kernel_drops(sock: socket.socket) -> int:
    """Frames the kernel dropped for this socket since the last call (reading resets)."""
    _received, dropped, _frozen = struct.unpack("III", sock.getsockopt(SOL_PACKET, PACKET_STATISTICS, 12))
    return int(dropped)


def _with_vlan_tag(data: bytes, tci: int, tpid: int) -> bytes:
    return data[:12] + struct.pack("!HH", tpid, tci & 0xFFFF) + data[12:]


def interface_linktype(interface: str) -> int:
    """The pcap link type of an interface's frames, from its ARPHRD type."""
    try:
        arphrd = int(Path(f"/sys/class/net/{interface}/type").read_text())
    except (OSError, ValueError):
        return 1
    return ARPHRD_TO_LINKTYPE.get(arphrd, 1)


def join_fanout(sock: socket.socket, group: int) -> None:
    """Join a PACKET_FANOUT group that spreads flows over its sockets by a hash of the
    flow (PACKET_FANOUT_HASH). The kernel's fanout hash is symmetric (it sorts the two
    addresses and ports before hashing), so both directions of a flow reach the same
    socket; DEFRAG puts fragments together first, so a datagram's pieces do too."""
    fanout_hash, defrag = 0, 0x8000
    sock.setsockopt(
        SOL_PACKET, PACKET_FANOUT, struct.pack("I", (group & 0xFFFF) | ((fanout_hash | defrag) << 16))
    )


def _attach_filter(sock: socket.socket, bpf_filter: str, interface: str) -> None:
    from scapy.arch.linux import attach_filter

    attach_filter(sock, bpf_filter, interface)
