"""A synthetic household capture for benchmarks: scapy crafts one copy of each distinct
packet; bulk transfer packets are repeated with new timestamps, which is all our
decoders care about. Deterministic (seeded), so runs compare."""

from __future__ import annotations

import random
import struct
from pathlib import Path

from scapy.all import ARP, BOOTP, DHCP, DNS, DNSQR, DNSRR, IP, TCP, UDP, Ether, Raw  # type: ignore

ROUTER_MAC = "02:00:00:00:00:01"
ROUTER_IP = "192.168.1.1"


def _pcap_header() -> bytes:
    return struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1)


def _record(ts: float, frame: bytes) -> bytes:
    sec = int(ts)
    return struct.pack("<IIII", sec, int((ts - sec) * 1e6), len(frame), len(frame)) + frame


def household_frames(devices: int, flows: int, seed: int = 7) -> list[tuple[float, bytes]]:
    """About 100 packets per flow on average: DNS, handshake, bulk both ways, FIN."""
    rng = random.Random(seed)
    macs = [f"a4:83:e7:{i >> 8:02x}:{i & 0xFF:02x}:{rng.randrange(256):02x}" for i in range(devices)]
    ips = [f"192.168.1.{10 + i}" for i in range(devices)]
    out: list[tuple[float, bytes]] = []
    ts = 1_700_000_000.0
    for i in range(devices):  # each device joins: DHCP request and a gratuitous ARP
        dhcp = (
            Ether(src=macs[i], dst="ff:ff:ff:ff:ff:ff")
            / IP(src="0.0.0.0", dst="255.255.255.255")
            / UDP(sport=68, dport=67)
            / BOOTP(chaddr=bytes.fromhex(macs[i].replace(":", "")))
            / DHCP(options=[("message-type", "request"), ("hostname", f"device-{i}"), "end"])
        )
        out.append((ts, bytes(dhcp)))
        out.append(
            (
                ts + 0.01,
                bytes(
                    Ether(src=macs[i], dst="ff:ff:ff:ff:ff:ff")
                    / ARP(op=2, hwsrc=macs[i], psrc=ips[i], pdst=ips[i])
                ),
            )
        )
        ts += 0.05
    for f in range(flows):
        d = rng.randrange(devices)
        name = f"host{f % 500}.service{f % 37}.example"
        server = f"203.0.{f % 250}.{1 + f % 200}"
        sport = 40000 + f % 20000
        up = Ether(src=macs[d], dst=ROUTER_MAC) / IP(src=ips[d], dst=server)
        down = Ether(src=ROUTER_MAC, dst=macs[d]) / IP(src=server, dst=ips[d])
        q = (
            Ether(src=macs[d], dst=ROUTER_MAC)
            / IP(src=ips[d], dst=ROUTER_IP)
            / UDP(sport=sport, dport=53)
            / DNS(id=f & 0xFFFF, qd=DNSQR(qname=name))
        )
        a = (
            Ether(src=ROUTER_MAC, dst=macs[d])
            / IP(src=ROUTER_IP, dst=ips[d])
            / UDP(sport=53, dport=sport)
            / DNS(id=f & 0xFFFF, qr=1, qd=DNSQR(qname=name), an=DNSRR(rrname=name, rdata=server))
        )
        out += [(ts, bytes(q)), (ts + 0.01, bytes(a))]
        syn = up / TCP(sport=sport, dport=443, flags="S")
        synack = down / TCP(sport=443, dport=sport, flags="SA")
        data_up = bytes(up / TCP(sport=sport, dport=443, flags="PA") / Raw(b"x" * 200))
        data_down = bytes(down / TCP(sport=443, dport=sport, flags="A") / Raw(b"y" * 1400))
        out += [(ts + 0.02, bytes(syn)), (ts + 0.03, bytes(synack))]
        t = ts + 0.04
        for _ in range(rng.randrange(20, 180)):
            out.append((t, data_down if rng.random() < 0.8 else data_up))
            t += 0.001
        out.append((t, bytes(up / TCP(sport=sport, dport=443, flags="FA"))))
        out.append((t + 0.01, bytes(down / TCP(sport=443, dport=sport, flags="FA"))))
        out.append((t + 0.02, bytes(up / TCP(sport=sport, dport=443, flags="A"))))
        ts += 0.05
    out.sort(key=lambda r: r[0])
    return out


def write_household(path: Path, devices: int = 30, flows: int = 3000) -> int:
    frames = household_frames(devices, flows)
    with path.open("wb") as f:
        f.write(_pcap_header())
        for ts, frame in frames:
            f.write(_record(ts, frame))
    return len(frames)
