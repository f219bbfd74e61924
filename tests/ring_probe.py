"""Capture with HomeGuard's TPACKET_V3 ring for a fixed time and print what arrived, as
JSON: run inside a test's network namespace (`ip netns exec NS python tests/ring_probe.py`).

With --sockets N, N ring sockets join one PACKET_FANOUT group and each frame is listed
with the socket that got it, to show how flows are spread."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from homeguard.capture.ring import RingSource
from homeguard.clock import SystemClock


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--interface", required=True)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--filter", default=None)
    parser.add_argument("--sockets", type=int, default=1)
    parser.add_argument("--ready", help="a file to create once capturing")
    args = parser.parse_args()
    group = 4242 if args.sockets > 1 else None
    sources = [
        RingSource(args.interface, args.filter, ring_bytes=1 << 20, fanout_group=group, clock=SystemClock())
        for _ in range(args.sockets)
    ]
    if args.ready:
        Path(args.ready).touch()
    iterators = [s.frames() for s in sources]
    frames: list[dict[str, object]] = []
    end = time.time() + args.seconds  # bounded: the probe always stops by itself
    while time.time() < end:
        for index, frames_of in enumerate(iterators):
            frame = next(frames_of)  # a block's frames, or None after an idle tick
            while frame is not None:
                ts, _linktype, data, wirelen = frame
                frames.append({"socket": index, "ts": ts, "hex": data.hex(), "wirelen": wirelen})
                frame = next(frames_of)
    for source in sources:
        source.stop.set()
        source.close()
    drops = sum(s.counters.kernel_drops for s in sources)
    print(json.dumps({"frames": frames, "kernel_drops": drops}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
