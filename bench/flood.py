#!/usr/bin/env python3
"""Flood benchmark: two floods replayed beside the synthetic household capture,
interleaved, with pps and peak RSS.

- `mac-flood`: every packet comes from a new MAC and IP address, opens a new flow and
  asks DNS for a new name (what a tool inventing devices, such as macof, sends);
- `ip-flood`: the same from one MAC: one device inventing IP addresses and names.

    python bench/flood.py [--packets 1000000] [--runs 3]

Each flood must keep at least half the household's throughput, and its peak RSS must
stay at or under 150 MB (the unit's MemoryMax is 256M).
"""

from __future__ import annotations

import argparse
import struct
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from replay_bench import CACHE, SUMMARY, household_capture, run_measured  # noqa: E402

PCAP_HEADER = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)
RESOLVER = bytes([192, 168, 1, 1])
ROUTER_MAC = bytes.fromhex("3ca62f000001")


def _checksum(header: bytes) -> int:
    total = sum(struct.unpack(f"!{len(header) // 2}H", header))
    total = (total & 0xFFFF) + (total >> 16)
    return ~((total & 0xFFFF) + (total >> 16)) & 0xFFFF


def flood_frame(i: int, one_mac: bool = False) -> bytes:
    """A DNS query from a made-up device: MAC 02:... (or always the same one), IP
    10.x.y.z, a name never asked before."""
    mac = b"\x02" + (1 if one_mac else i).to_bytes(5, "big")
    src = bytes([10, (i >> 16) & 0xFF, (i >> 8) & 0xFF, i & 0xFF or 1])
    qname = b"".join(bytes([len(p)]) + p for p in (f"h{i:x}".encode(), b"flood", b"example")) + b"\0"
    dns = struct.pack("!HHHHHH", i & 0xFFFF, 0x0100, 1, 0, 0, 0) + qname + struct.pack("!HH", 1, 1)
    udp = struct.pack("!HHHH", 1024 + i % 60000, 53, 8 + len(dns), 0) + dns
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i & 0xFFFF, 0, 64, 17, 0, src, RESOLVER)
    ip = ip[:10] + struct.pack("!H", _checksum(ip)) + ip[12:]
    return ROUTER_MAC + mac + b"\x08\x00" + ip + udp


def flood_capture(packets: int, one_mac: bool = False) -> Path:
    path = CACHE / f"{'ip' if one_mac else 'mac'}-flood-{packets}.pcap"
    if not path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        with open(path.with_suffix(".tmp"), "wb") as out:
            out.write(PCAP_HEADER)
            for i in range(packets):
                frame = flood_frame(i, one_mac)
                ts = 1_700_000_000 + i // 1000
                out.write(struct.pack("<IIII", ts, (i % 1000) * 1000, len(frame), len(frame)) + frame)
        path.with_suffix(".tmp").rename(path)
    return path


def replay(capture: Path) -> tuple[float, int]:
    with tempfile.TemporaryDirectory() as tmp:
        command = [sys.executable, "-m", "homeguard", "replay", str(capture), "--db", f"{tmp}/f.db"]
        _wall, rss, err = run_measured(command)
    match = SUMMARY.search(err)
    if match is None:
        raise SystemExit(f"replay failed: {err.strip()[-500:]}")
    return float(match.group(3).replace(",", "")), rss


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--packets", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3, help="interleaved runs of each; the median counts")
    args = parser.parse_args()
    inputs = {
        "household": household_capture(3000),
        "mac-flood": flood_capture(args.packets),
        "ip-flood": flood_capture(args.packets, one_mac=True),
    }
    results: dict[str, list[tuple[float, int]]] = {name: [] for name in inputs}
    for _ in range(args.runs):  # household, flood, household, flood, ...: drift hits both alike
        for name, capture in inputs.items():
            results[name].append(replay(capture))
    print(f"{'input':<12} {'pps (median)':>14} {'peak RSS MiB (max)':>20}")
    medians = {}
    for name, runs in results.items():
        medians[name] = sorted(pps for pps, _ in runs)[len(runs) // 2]
        print(f"{name:<12} {medians[name]:>14,.0f} {max(rss for _, rss in runs):>20}")
    for name in ("mac-flood", "ip-flood"):
        print(f"{name} / household throughput: {medians[name] / medians['household']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
