"""Live capture from an interface: the TPACKET_V3 ring (capture/ring.py) where it can be
set up, else a plain packet socket that scapy opens. libpcap compiles the BPF filter;
we read raw frames and decode them ourselves."""

from __future__ import annotations

import contextlib
import errno
import logging
import select
import socket
import struct
from collections.abc import Callable, Iterator
from pathlib import Path
from threading import Event
from typing import Any, TypeVar

from homeguard.capture.ring import IDLE_TICK, RingSource, RingUnavailable, interface_linktype
from homeguard.capture.source import CaptureCounters, Frame
from homeguard.clock import Clock
from homeguard.errors import CaptureSourceError

log = logging.getLogger("homeguard.capture")
T = TypeVar("T")
SOL_PACKET = 263
PACKET_STATISTICS = 6
SO_RCVBUFFORCE = 33


def default_interface() -> str:
    """The interface that carries the default route (IPv4 first, then IPv6)."""
    try:
        for line in Path("/proc/net/route").read_text().splitlines()[1:]:
            fields = line.split()
            if len(fields) > 2 and fields[1] == "00000000":
                return fields[0]
        for line in Path("/proc/net/ipv6_route").read_text().splitlines():
            fields = line.split()
            if len(fields) == 10 and fields[0] == "0" * 32 and fields[9] != "lo":
                return fields[9]
    except OSError:
        pass
    raise CaptureSourceError(
        "no default route, so no interface to pick: name one with -i IFACE "
        f"(interfaces here: {', '.join(available_interfaces())})"
    )


def available_interfaces() -> list[str]:
    return sorted(name for _, name in socket.if_nameindex())


def permission_fix() -> str:
    # Never advise setcap on the interpreter: that lets every Python program on the
    # machine capture. The service gets the two capabilities for itself alone.
    return (
        "run it as root (sudo homeguard ...), or install it as a service with "
        "`sudo homeguard setup`, which gives the capture rights to the HomeGuard service only"
    )


def open_live(
    interface: str,
    bpf_filter: str | None = None,
    *,
    promiscuous: bool = True,
    ring_bytes: int = 16 << 20,
    buffer_bytes: int = 8 << 20,
    fanout_group: int | None = None,
    clock: Clock,
) -> LiveSource | RingSource:
    """The best live source this machine allows: a TPACKET_V3 ring (capture/ring.py), or,
    where it cannot be set up (ring_bytes 0, an old kernel, no memory for it), a plain
    packet socket, with a log line saying why."""
    check_interface(interface)
    if ring_bytes > 0:
        try:
            return opened_with_advice(
                lambda: RingSource(
                    interface,
                    bpf_filter,
                    promiscuous=promiscuous,
                    ring_bytes=ring_bytes,
                    fanout_group=fanout_group,
                    clock=clock,
                ),
                interface,
                bpf_filter,
            )
        except RingUnavailable as exc:
            log.warning("capturing through a plain socket on %s: %s", interface, exc.strerror)
    if fanout_group is not None:
        raise CaptureSourceError("capture workers need the TPACKET_V3 ring: set capture_ring_mb above 0")
    return LiveSource(interface, bpf_filter, promiscuous=promiscuous, buffer_bytes=buffer_bytes, clock=clock)


def check_interface(interface: str) -> None:
    try:
        socket.if_nametoindex(interface)
    except OSError as exc:
        raise CaptureSourceError(
            f"no interface named {interface!r}; interfaces here: {', '.join(available_interfaces())}"
        ) from exc


def opened_with_advice(make: Callable[[], T], interface: str, bpf_filter: str | None) -> T:
    """Open a capture socket, with the errors a user can act on put in words."""
    # scapy warns that it cannot guess a layer for raw sockets: we decode ourselves.
    logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
    from scapy.error import Scapy_Exception

    try:
        return make()
    except RingUnavailable:
        raise
    except PermissionError as exc:
        raise CaptureSourceError(f"no permission to capture on {interface}: {permission_fix()}") from exc
    except OSError as exc:
        if exc.errno == errno.EPERM:
            raise CaptureSourceError(f"no permission to capture on {interface}: {permission_fix()}") from exc
        raise CaptureSourceError(f"cannot capture on {interface}: {exc}") from exc
    except (Scapy_Exception, ImportError) as exc:
        raise CaptureSourceError(
            f"cannot apply the BPF filter {bpf_filter!r}: {exc} "
            "(the filter needs libpcap: sudo apt install libpcap0.8)"
        ) from exc


class LiveSource:
    """Frames from a network interface through a plain packet socket, one `recv` per
    frame, with the kernel's drop counter: where the ring cannot be had."""

    def __init__(
        self,
        interface: str,
        bpf_filter: str | None = None,
        *,
        promiscuous: bool = True,
        buffer_bytes: int = 8 << 20,
        stop: Event | None = None,
        clock: Clock,
    ) -> None:
        self.name = interface
        self.clock = clock
        self.counters = CaptureCounters()
        self.stop = stop or Event()
        self.buffer_bytes = 0
        self.kind = "receive buffer"
        check_interface(interface)
        self._scapy_socket = opened_with_advice(
            lambda: self._open(interface, bpf_filter, promiscuous), interface, bpf_filter
        )
        self._sock: socket.socket = self._scapy_socket.ins
        self._sock.setblocking(False)
        self.buffer_bytes = self._raise_buffer(buffer_bytes)
        self.linktype = interface_linktype(interface)

    @staticmethod
    def _open(interface: str, bpf_filter: str | None, promiscuous: bool) -> Any:
        from scapy.arch.linux import L2ListenSocket

        return L2ListenSocket(iface=interface, filter=bpf_filter, promisc=promiscuous)

    def _raise_buffer(self, size: int) -> int:
        try:  # FORCE exceeds net.core.rmem_max, and needs CAP_NET_ADMIN
            self._sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, size)
        except OSError:
            self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, size)
        return self._sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF) // 2

    def read_kernel_drops(self) -> int:
        """Add the kernel's counters (which reset on each read) to ours."""
        raw = self._sock.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8)
        _received, dropped = struct.unpack("II", raw)
        self.counters.kernel_drops += dropped
        return self.counters.kernel_drops

    def frames(self) -> Iterator[Frame | None]:
        sock = self._sock
        recv = sock.recv
        linktype = self.linktype
        counters = self.counters
        clock = self.clock.time  # the frame's arrival time
        stop = self.stop
        next_stats = clock() + 1.0
        while not stop.is_set():
            try:
                while True:
                    data = recv(65536)
                    counters.packets += 1
                    counters.bytes += len(data)
                    yield (clock(), linktype, data, len(data))
                    if counters.packets & 0x3FF == 0:
                        if stop.is_set():
                            return
                        if clock() >= next_stats:  # busy: no idle moment to read drops in
                            self.read_kernel_drops()
                            next_stats = clock() + 1.0
            except BlockingIOError:
                pass
            except OSError as exc:
                if exc.errno == errno.ENETDOWN:
                    stop.wait(IDLE_TICK)  # the link went down: wait for it (or a stop), do not die
                else:
                    raise
            now = clock()
            if now >= next_stats:
                self.read_kernel_drops()
                next_stats = now + 1.0
            yield None
            select.select([sock], [], [], IDLE_TICK)

    def caught_up(self, now: float) -> float:
        return now

    def problem(self, now: float) -> str | None:
        return None

    def close(self) -> None:
        self.read_kernel_drops()
        self._scapy_socket.close()


def interface_mac(interface: str) -> bytes | None:
    """This machine's MAC on `interface`, None when it has none (or no such interface)."""
    try:
        text = Path(f"/sys/class/net/{interface}/address").read_text().strip()
        return bytes.fromhex(text.replace(":", ""))
    except (OSError, ValueError):
        return None


def machine_addresses() -> frozenset[bytes]:
    """Every IPv4 and IPv6 address of this machine, packed: traffic to one of them is its
    own, not traffic it forwards as a router."""
    import psutil

    packed = set()
    for addresses in psutil.net_if_addrs().values():
        for address in addresses:
            if address.family in (socket.AF_INET, socket.AF_INET6):
                with contextlib.suppress(OSError):
                    packed.add(socket.inet_pton(address.family, address.address.split("%")[0]))
    return frozenset(packed)
