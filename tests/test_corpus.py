"""Every real capture in ../shared/corpus replays without an unhandled exception.
Skipped when the corpus is not beside the repository."""

from __future__ import annotations

from pathlib import Path

import pytest

from homeguard.capture.pcapfile import PcapFileSource
from homeguard.clock import ManualClock
from homeguard.errors import CaptureFileError
from homeguard.pipeline.core import Pipeline
from homeguard.settings import Config
from tests.conftest import TS0

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
SUFFIXES = (".pcap", ".pcapng", ".cap", ".trace", ".dump")


@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"no shared corpus at {CORPUS}")
def test_every_corpus_capture_replays_without_a_crash() -> None:
    captures = sorted(p for p in CORPUS.rglob("*") if p.suffix in SUFFIXES and p.is_file())
    assert len(captures) > 1000
    pipeline = Pipeline(Config(), None, [], clock=ManualClock(TS0))
    unreadable = []
    for capture in captures:
        try:
            pipeline.run(PcapFileSource(str(capture)), replay=True)
        except CaptureFileError as exc:
            assert str(exc).startswith(str(capture)), "the error must name the file"
            unreadable.append(capture.name)
    pipeline.close()
    assert pipeline.stats.internal_errors == 0
    assert pipeline.stats.packets > 250_000
    assert len(unreadable) <= 2, unreadable  # the corpus holds two damaged captures
