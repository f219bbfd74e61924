#!/usr/bin/env python3
"""Robustness: every capture of ../shared/corpus, then N fuzzed frames, through the full
daemon path (decoders, sessions, state, the shipped rules, findings and the alert queue,
batched SQLite writes), counting internal errors (exceptions that are not a clean
DecodeError) and crashes.

    python bench/robustness.py [--frames 1000000] [--seed 1] [--corpus ../shared/corpus]

Fuzzed frames are real frames (the household scenario and corpus samples) with bytes
flipped, cut, repeated or inserted, on every link type HomeGuard reads. Bounded: it
stops after --frames frames. Exit status 1 if anything went wrong.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from homeguard.capture.pcapfile import PcapFileSource  # noqa: E402
from homeguard.clock import SystemClock  # noqa: E402
from homeguard.errors import CaptureFileError  # noqa: E402
from homeguard.findings.book import FindingsBook  # noqa: E402
from homeguard.notify.queue import AlertQueue  # noqa: E402
from homeguard.pipeline.core import Pipeline  # noqa: E402
from homeguard.rules.engine import RuleEngine  # noqa: E402
from homeguard.rules.loader import load_ruleset, shipped_rules_dir  # noqa: E402
from homeguard.settings import Config  # noqa: E402
from homeguard.state.flood import MacFloodGuard  # noqa: E402
from homeguard.store.database import open_database  # noqa: E402
from homeguard.store.writer import BatchWriter  # noqa: E402

SUFFIXES = (".pcap", ".pcapng", ".cap", ".trace", ".dump")
LINKTYPES = (1, 1, 1, 1, 101, 113, 276, 9, 105, 127, 0)  # Ethernet most, then raw IP, SLL, SLL2, PPP, 802.11


def daemon_path(db_path: Path) -> tuple[Pipeline, BatchWriter]:
    db = open_database(db_path)
    config = Config()
    writer = BatchWriter(db, config.values["flush_max_rows"])
    engine = RuleEngine(
        load_ruleset([shipped_rules_dir()]), [FindingsBook(writer, SystemClock(), AlertQueue([], "en"))]
    )
    return Pipeline(config, writer, [engine], clock=SystemClock()), writer


def seed_frames(corpus: Path, per_file: int = 300) -> list[bytes]:
    from scapy.all import raw  # type: ignore[attr-defined]

    from tests import household

    seeds = [raw(p) for p in household.today()]
    for path in sorted(p for p in corpus.rglob("*") if p.suffix in SUFFIXES)[:: max(1, 1)][:400]:
        try:
            for n, (_ts, _lt, data, _len) in enumerate(f for f in PcapFileSource(str(path)).frames() if f):
                if n >= per_file:
                    break
                seeds.append(data)
        except CaptureFileError:
            continue
    return seeds


def mutate(rng: random.Random, frame: bytes) -> bytes:
    data = bytearray(frame)
    for _ in range(rng.randint(1, 6)):
        choice = rng.random()
        if not data:
            data = bytearray(rng.randbytes(rng.randint(1, 64)))
        elif choice < 0.45:
            data[rng.randrange(len(data))] = rng.randrange(256)
        elif choice < 0.65:
            del data[rng.randrange(len(data)) :]
        elif choice < 0.8:
            at = rng.randrange(len(data))
            data[at:at] = rng.randbytes(rng.randint(1, 32))
        elif choice < 0.9:
            at = rng.randrange(len(data))
            data[at : at + 2] = bytes((0xFF, 0xFF))  # lengths and counts at their maximum
        else:
            at = rng.randrange(len(data))
            data[at:at] = data[at : at + rng.randint(1, 64)] * rng.randint(2, 8)
    return bytes(data)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--corpus", default=str(HERE.parent.parent / "shared" / "corpus"))
    args = parser.parse_args()
    corpus = Path(args.corpus)
    with tempfile.TemporaryDirectory() as tmp:
        pipeline, writer = daemon_path(Path(tmp) / "robust.db")
        started = time.perf_counter()
        files = unreadable = 0
        if corpus.is_dir():
            for path in sorted(p for p in corpus.rglob("*") if p.suffix in SUFFIXES and p.is_file()):
                files += 1
                try:
                    pipeline.run(PcapFileSource(str(path)), replay=True)
                except CaptureFileError:
                    unreadable += 1
        corpus_packets, corpus_seconds = pipeline.stats.packets, time.perf_counter() - started
        print(
            f"corpus: {files} captures ({unreadable} unreadable, reported), {corpus_packets} packets "
            f"in {corpus_seconds:.1f} s, internal errors so far: {pipeline.stats.internal_errors}"
        )
        rng = random.Random(args.seed)
        seeds = seed_frames(corpus) if corpus.is_dir() else seed_frames(Path(tmp))
        # Fuzzed frames carry random MACs: off with the flood guard, so that every frame
        # reaches the decoders instead of being skipped as part of a MAC flood.
        pipeline.flood = MacFloodGuard(new_macs=sys.maxsize)
        started = time.perf_counter()
        ts = 1_767_225_600.0
        for n in range(args.frames):
            frame = mutate(rng, seeds[rng.randrange(len(seeds))])
            ts += 0.0005
            pipeline.process((ts, LINKTYPES[rng.randrange(len(LINKTYPES))], frame, len(frame)))
            if not n % 65536:
                pipeline.maintain(ts)
        pipeline.close()
        writer.db.close()
        seconds = time.perf_counter() - started
        stats = pipeline.stats
        print(
            f"fuzz: {args.frames} frames from {len(seeds)} seeds in {seconds:.1f} s "
            f"({args.frames / seconds:,.0f} frames/s): {stats.malformed} rejected as malformed, "
            f"{stats.events} events, internal errors (all, corpus included): {stats.internal_errors}"
        )
        return 1 if stats.internal_errors else 0


if __name__ == "__main__":
    sys.exit(main())
