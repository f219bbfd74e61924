"""Live capture from an interface: scapy opens the packet socket and compiles the BPF
filter through libpcap; we read raw frames from it and decode them ourselves."""

from __future__ import annotations

import contextlib
import errno
import logging
import select
import socket
import struct
from collections.abc import Iterator
from pathlib import Path
from threading import Event
from typing import Any

from homeguard.capture.source import CaptureCounters, Frame
from homeguard.clock import Clock
from homeguard.errors import CaptureSourceError

SOL_PACKET = 263
PACKET_STATISTICS = 6
SO_RCVBUFFORCE = 33
IDLE_TICK = 0.5  # seconds: how often an idle source yields None so the pipeline can tick
ARPHRD_TO_LINKTYPE = {1: 1, 772: 1, 512: 9, 0xFFFE: 101, 801: 105, 803: 127}


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


class LiveSource:
    """Frames from a network interface, with the kernel's drop counter."""

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
        try:
            socket.if_nametoindex(interface)
        except OSError as exc:
            raise CaptureSourceError(
                f"no interface named {interface!r}; interfaces here: {', '.join(available_interfaces())}"
            ) from exc
        self._scapy_socket = self._open(interface, bpf_filter, promiscuous)
        self._sock: socket.socket = self._scapy_socket.ins
        self._sock.setblocking(False)
        self.buffer_bytes = self._raise_buffer(buffer_bytes)
        self.linktype = self._linktype(interface)

    def _open(self, interface: str, bpf_filter: str | None, promiscuous: bool) -> Any:
        # scapy warns that it cannot guess a layer for raw sockets: we decode ourselves.
        logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
        try:
            from scapy.arch.linux import L2ListenSocket
            from scapy.error import Scapy_Exception

            return L2ListenSocket(iface=interface, filter=bpf_filter, promisc=promiscuous)
        except PermissionError as exc:
            raise CaptureSourceError(f"no permission to capture on {interface}: {permission_fix()}") from exc
        except OSError as exc:
            if exc.errno == errno.EPERM:
                raise CaptureSourceError(
                    f"no permission to capture on {interface}: {permission_fix()}"
                ) from exc
            raise CaptureSourceError(f"cannot capture on {interface}: {exc}") from exc
        except (Scapy_Exception, ImportError) as exc:
            raise CaptureSourceError(
                f"cannot apply the BPF filter {bpf_filter!r}: {exc} "
                "(the filter needs libpcap: sudo apt install libpcap0.8)"
            ) from exc

    def _raise_buffer(self, size: int) -> int:
        try:  # FORCE exceeds net.core.rmem_max, and needs CAP_NET_ADMIN
            self._sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, size)
        except OSError:
            self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, size)
        return self._sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF) // 2

    @staticmethod
    def _linktype(interface: str) -> int:
        try:
            arphrd = int(Path(f"/sys/class/net/{interface}/type").read_text())
        except (OSError, ValueError):
            return 1
        return ARPHRD_TO_LINKTYPE.get(arphrd, 1)

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
