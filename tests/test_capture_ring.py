"""The TPACKET_V3 ring, on a real veth pair between two namespaces this test makes:
frames arrive whole and in order, the BPF filter applies, a VLAN tag the kernel took off
is put back, and a fanout group keeps both directions of every flow on one socket."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.netns_lab import unavailable_reason

PROBE = Path(__file__).with_name("ring_probe.py")
REASON = unavailable_reason()
pytestmark = pytest.mark.skipif(
    REASON is not None and not os.environ.get("HOMEGUARD_REQUIRE_NETNS"), reason=f"{REASON}"
)

SEND = """
import sys
from scapy.all import Ether, IP, UDP, TCP, ARP, Dot1Q, Raw, sendp
A, B, ALL = "02:00:00:00:00:0a", "02:00:00:00:00:0b", "ff:ff:ff:ff:ff:ff"
frames = []
for i in range(40):  # UDP, numbered in the payload
    frames.append(Ether(src=A, dst=B) / IP(src="10.9.0.1", dst="10.9.0.2") / UDP(sport=5000, dport=6000)
                  / Raw(b"n%03d" % i))
for i in range(10):
    frames.append(Ether(src=A, dst=ALL) / ARP(psrc="10.9.0.1", pdst="10.9.0.%d" % (i + 3)))
frames.append(Ether(src=A, dst=B) / Dot1Q(vlan=42, prio=5)
              / IP(src="10.9.1.1", dst="10.9.1.2") / UDP(sport=7, dport=7) / Raw(b"tagged"))
for flow in range(32):  # both directions of 32 TCP flows
    a, b = "10.9.2.%d" % (flow + 1), "10.9.3.%d" % (flow + 1)
    for _ in range(3):
        frames.append(Ether(src=A, dst=B) / IP(src=a, dst=b) / TCP(sport=40000 + flow, dport=443, flags="A"))
        frames.append(Ether(src=B, dst=A) / IP(src=b, dst=a) / TCP(sport=443, dport=40000 + flow, flags="A"))
sendp(frames, iface=sys.argv[1], verbose=False)
"""


def capture_while_sending(
    veth: tuple[str, str], tmp_path: Path, *probe_args: str, sender_script: str = SEND
) -> dict[str, Any]:
    sender, capture = veth
    prefix = sender[: -len("-a")]
    ready = tmp_path / "ready"
    probe = subprocess.Popen(
        [
            "ip",
            "netns",
            "exec",
            capture,
            sys.executable,
            str(PROBE),
            "--interface",
            f"{prefix}b",
            "--seconds",
            "4",
            "--ready",
            str(ready),
            *probe_args,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 20
    while not ready.exists():
        assert probe.poll() is None, probe.communicate()[1]
        assert time.monotonic() < deadline, "the probe never started capturing"
        time.sleep(0.05)
    subprocess.run(
        ["ip", "netns", "exec", sender, sys.executable, "-c", sender_script, f"{prefix}a"],
        check=True,
        timeout=60,
    )
    out, err = probe.communicate(timeout=60)
    assert probe.returncode == 0, err
    result: dict[str, Any] = json.loads(out)
    return result


def test_frames_arrive_whole_in_order_and_filtered(veth: tuple[str, str], tmp_path: Path) -> None:
    result = capture_while_sending(veth, tmp_path, "--filter", "udp and port 6000")
    frames = [bytes.fromhex(f["hex"]) for f in result["frames"]]
    assert [f[-4:] for f in frames] == [b"n%03d" % i for i in range(40)]  # no ARP, no TCP, in order
    assert all(len(f) == 14 + 20 + 8 + 4 for f in frames)  # whole, padding and all
    assert all(entry["wirelen"] == len(f) for entry, f in zip(result["frames"], frames, strict=True))
    stamps = [entry["ts"] for entry in result["frames"]]
    assert stamps == sorted(stamps) and abs(stamps[0] - time.time()) < 60  # the kernel's stamps, on our clock
    assert result["kernel_drops"] == 0


def test_a_vlan_tag_the_kernel_took_off_is_put_back(veth: tuple[str, str], tmp_path: Path) -> None:
    result = capture_while_sending(veth, tmp_path)
    tagged = [
        bytes.fromhex(f["hex"]) for f in result["frames"] if bytes.fromhex(f["hex"]).endswith(b"tagged")
    ]
    assert len(tagged) == 1
    frame = tagged[0]
    assert frame[12:14] == b"\x81\x00" and int.from_bytes(frame[14:16], "big") == (5 << 13) | 42
    assert frame[16:18] == b"\x08\x00"


def test_a_fanout_group_keeps_both_directions_of_each_flow_on_one_socket(
    veth: tuple[str, str], tmp_path: Path
) -> None:
    result = capture_while_sending(veth, tmp_path, "--sockets", "2", "--filter", "tcp")
    sockets_of: dict[tuple[bytes, bytes], set[int]] = {}
    for entry in result["frames"]:
        frame = bytes.fromhex(entry["hex"])
        ends = tuple(sorted((frame[26:30] + frame[34:36], frame[30:34] + frame[36:38])))
        sockets_of.setdefault(ends, set()).add(entry["socket"])  # type: ignore[arg-type]
    assert len(result["frames"]) == 32 * 6 and len(sockets_of) == 32
    assert all(len(sockets) == 1 for sockets in sockets_of.values())
    used = {socket for sockets in sockets_of.values() for socket in sockets}
    assert used == {0, 1}  # and the flows are spread


MANY = """
import sys
from scapy.all import Ether, IP, UDP, Raw, sendp
frames = [Ether(src="02:00:00:00:00:0a", dst="02:00:00:00:00:0b") / IP(src="10.9.0.1", dst="10.9.0.2")
          / UDP(sport=5000, dport=6000) / Raw(b"m%05d" % i + bytes(400)) for i in range(4000)]
sendp(frames, iface=sys.argv[1], verbose=False)
"""


def test_every_frame_of_many_blocks_arrives_once_in_order_as_the_ring_wraps(
    veth: tuple[str, str], tmp_path: Path
) -> None:
    # 4,000 frames of 448 bytes fill about seven 256 KiB blocks of a ring of four, so
    # the reader goes round it: full blocks, then the partial one the retire timer hands over.
    result = capture_while_sending(veth, tmp_path, "--seconds", "12", "--filter", "udp", sender_script=MANY)
    numbers = [bytes.fromhex(f["hex"])[42:48] for f in result["frames"]]
    assert numbers == [b"m%05d" % i for i in range(4000)]
    assert result["kernel_drops"] == 0
