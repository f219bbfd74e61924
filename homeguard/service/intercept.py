"""Interception on a plain switch port (opt-in, `intercept_devices`): HomeGuard tells the
devices named in the config that the gateway's address is at this machine's MAC, and
forwards what they send, so their traffic passes through here and HomeGuard sees it.
This is what Firewalla's simple mode and IoT Inspector do; docs/sources.md says what it
costs.

Safety, in the order it matters:
- Off unless devices are named, by MAC. A device not listed is never sent anything.
- At most one ARP reply per device every SPOOF_INTERVAL seconds, and at most
  MAX_DEVICES devices.
- IP forwarding is switched on (and ICMP redirects off, or the kernel would tell each
  device the shorter way round), and both are put back as they were at stop.
- At stop, every device is told the gateway's real MAC, RESTORE_REPLIES times. What is
  needed for that is written to a state file first, so `homeguard intercept-restore`
  (the unit's ExecStopPost) can do the same after a crash or SIGKILL.
- HomeGuard's own ARP spoofing rules know this machine's MAC and do not report it.
"""

from __future__ import annotations

import json
import logging
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from homeguard.decode.addresses import ip_text
from homeguard.errors import ConfigError
from homeguard.pipeline.core import Pipeline
from homeguard.settings import ConfigValues

log = logging.getLogger("homeguard.intercept")
SPOOF_INTERVAL = 2.0
RESTORE_REPLIES = 5
RESTORE_GAP = 0.4  # seconds between them: 1.6 s in all
MAX_DEVICES = 64
ETH_P_ARP = 0x0806
SYSCTLS = ("net/ipv4/ip_forward", "net/ipv4/conf/all/send_redirects", "net/ipv4/conf/{iface}/send_redirects")


@dataclass
class InterceptState:
    """What a restore needs, written before the first spoofed reply."""

    interface: str
    own_mac: str
    gateway_ip: str
    gateway_mac: str
    devices: dict[str, str]  # MAC -> IP
    sysctls: dict[str, str]  # path under /proc/sys -> the value before


def mac_bytes(mac: str) -> bytes:
    raw = bytes.fromhex(mac.replace(":", "").replace("-", ""))
    if len(raw) != 6:
        raise ConfigError(f"intercept_devices: {mac!r} is not a MAC address such as aa:bb:cc:dd:ee:ff")
    return raw


def arp_reply(sender_mac: bytes, sender_ip: str, target_mac: bytes, target_ip: str) -> bytes:
    """An Ethernet frame: `sender_ip` is at `sender_mac`, told to `target` only."""
    ethernet = target_mac + sender_mac + struct.pack("!H", ETH_P_ARP)
    arp = struct.pack("!HHBBH", 1, 0x0800, 6, 4, 2)
    arp += sender_mac + socket.inet_aton(sender_ip) + target_mac + socket.inet_aton(target_ip)
    return ethernet + arp


def tell(state: InterceptState, gateway_mac: str, times: int = 1) -> None:
    """Tell every listed device where the gateway is: this machine (spoofing) or the
    gateway itself (restoring). Repeats are RESTORE_GAP apart: Linux ignores a second
    answer within a second of the last change (its ARP locktime)."""
    with socket.socket(socket.AF_PACKET, socket.SOCK_RAW) as raw:
        raw.bind((state.interface, 0))
        for round_no in range(times):
            if round_no:
                time.sleep(RESTORE_GAP)
            for mac, ip in state.devices.items():
                raw.send(arp_reply(mac_bytes(gateway_mac), state.gateway_ip, mac_bytes(mac), ip))


def set_sysctls(interface: str, values: dict[str, str] | None) -> dict[str, str]:
    """Forwarding on and redirects off (values None), or the given values back; returns
    what was there before."""
    before = {}
    for template in SYSCTLS:
        path = Path("/proc/sys") / template.format(iface=interface.replace(".", "/"))
        before[str(path)] = path.read_text().strip()
        wanted = ("1" if "ip_forward" in str(path) else "0") if values is None else values.get(str(path))
        if wanted is None or wanted == before[str(path)]:
            continue
        try:
            path.write_text(wanted + "\n")
        except OSError as exc:
            raise ConfigError(
                f"interception cannot set {path} to {wanted} ({exc.strerror}): the service's unit protects "
                "kernel settings, so set them once in /etc/sysctl.d/90-homeguard-intercept.conf "
                "(net.ipv4.ip_forward = 1, net.ipv4.conf.all.send_redirects = 0) and run `sysctl --system`"
            ) from exc
    return before


def restore(state_file: Path) -> bool:
    """Put every device's ARP entry and the sysctls back, from the state file; False if
    there was nothing to restore."""
    try:
        state = InterceptState(**json.loads(state_file.read_text()))
    except FileNotFoundError:
        return False
    tell(state, state.gateway_mac, RESTORE_REPLIES)
    set_sysctls(state.interface, state.sysctls)
    state_file.unlink(missing_ok=True)
    log.info("interception ended: %d device(s) told the gateway's real address", len(state.devices))
    return True


class Interceptor:
    """Spoofs for the listed devices whose address is known; `address_of(mac)` finds a
    device's address as HomeGuard learns it (its ARP and DHCP, seen on any port)."""

    def __init__(
        self,
        interface: str,
        own_mac: str,
        gateway: tuple[str, str],
        listed: list[str],
        address_of: Callable[[str], str | None],
        state_file: Path,
    ) -> None:
        if len(listed) > MAX_DEVICES:
            raise ConfigError(f"intercept_devices: at most {MAX_DEVICES} devices, not {len(listed)}")
        for mac in (own_mac, gateway[1], *listed):
            mac_bytes(mac)
        self.listed = [m.lower() for m in listed]
        self.address_of = address_of
        self.state_file = state_file
        self.state = InterceptState(interface, own_mac, gateway[0], gateway[1], {}, {})
        self.state.sysctls = set_sysctls(interface, None)
        state_file.parent.mkdir(parents=True, exist_ok=True)
        self._save()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="intercept", daemon=True)
        self._thread.start()
        log.warning(
            "intercepting %d device(s) on %s: their traffic to %s passes through this machine",
            len(listed),
            interface,
            gateway[0],
        )

    def _save(self) -> None:
        """Written before any device is told anything new: a restore must know it."""
        self.state_file.write_text(json.dumps(asdict(self.state)))

    def _learn_addresses(self) -> None:
        changed = False
        for mac in self.listed:
            try:
                ip = self.address_of(mac)
            except RuntimeError:  # the capture thread changed the tables meanwhile: next round
                continue
            if ip and self.state.devices.get(mac) != ip:
                self.state.devices[mac] = ip
                changed = True
        if changed:
            self._save()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._learn_addresses()
            try:
                tell(self.state, self.state.own_mac)
            except OSError as exc:
                log.warning("cannot send the interception's ARP replies: %s", exc)
            self._stop.wait(SPOOF_INTERVAL)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=SPOOF_INTERVAL + 1)
        restore(self.state_file)


def start_interception(
    config: ConfigValues, interface: str, pipeline: Pipeline, state_file: Path
) -> Interceptor:
    """The interceptor for the listed devices, with this machine's MAC, the gateway (from
    intercept_gateway or the default route) and its MAC (asked by ARP)."""
    from scapy.layers.l2 import getmacbyip

    from homeguard.capture.live import interface_mac

    own = interface_mac(interface)
    gateway_ip = config["intercept_gateway"] or default_gateway(interface)
    if own is None or gateway_ip is None:
        raise ConfigError(
            "intercept_devices: no MAC on the capture interface, or no gateway: set intercept_gateway"
        )
    gateway_mac = getmacbyip(gateway_ip)
    if not gateway_mac:
        raise ConfigError(f"intercept_devices: the gateway {gateway_ip} does not answer ARP on {interface}")
    pipeline.infrastructure.interceptor_mac = own  # HomeGuard's own claims are no spoofing

    def address_of(mac: str) -> str | None:
        raw = mac_bytes(mac)
        for ip, binding in list(pipeline.infrastructure.bindings.items()):
            if binding.mac == raw:
                return ip_text(ip)
        device = pipeline.devices.by_mac.get(raw)
        known = [ip for ip in list(device.ips) if "." in ip] if device is not None else []
        return known[-1] if known else None

    own_text = ":".join(f"{b:02x}" for b in own)
    return Interceptor(
        interface, own_text, (gateway_ip, gateway_mac), config["intercept_devices"], address_of, state_file
    )


def default_gateway(interface: str) -> str | None:
    """The IPv4 default route's gateway on the interface, from /proc/net/route."""
    for line in Path("/proc/net/route").read_text().splitlines()[1:]:
        fields = line.split()
        if len(fields) > 2 and fields[0] == interface and fields[1] == "00000000":
            return socket.inet_ntoa(struct.pack("<I", int(fields[2], 16)))
    return None
