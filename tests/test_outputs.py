"""Outputs behind bounded queues: a stalled output never holds up the packet thread, what
it has to drop is counted and reaches the statistics; in replay nothing is dropped."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from homeguard import app
from homeguard.clock import ManualClock
from homeguard.events import Event
from homeguard.outputs.queued import QueuedSink
from homeguard.pipeline.replay import replay_files
from homeguard.plugins.hookspecs import EventSinkSpec, OutputContext, hookimpl
from homeguard.plugins.manager import plugin_manager
from homeguard.settings import Config
from homeguard.store.queries import latest_capture_stats
from tests.conftest import TS0
from tests.household import LAPTOP, lookup


class Stalled:
    """An output that takes the first item and then hangs until released."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.taken = threading.Event()
        self.written: list[Any] = []

    def __call__(self, item: Any) -> None:
        self.taken.set()
        self.release.wait(60)
        self.written.append(item)


def test_a_stalled_output_drops_and_counts_instead_of_waiting() -> None:
    output = Stalled()
    sink = QueuedSink("stalled", output, max_queue=100)
    sink("first")
    assert output.taken.wait(10)  # the output thread is now stuck in the first item
    for i in range(5000):  # the packet thread goes on; nothing here waits for the output
        sink(i)
    assert sink.dropped == 5000 - 100
    output.release.set()
    sink.close()
    assert output.written == ["first", *range(100)]  # what was queued is still written, in order


def test_in_replay_a_slow_output_loses_nothing() -> None:
    written: list[int] = []

    def slow(item: int) -> None:
        threading.Event().wait(0.0005)
        written.append(item)

    sink = QueuedSink("slow", slow, max_queue=10, wait_when_full=True)
    for i in range(300):
        sink(i)
    sink.close()
    assert written == list(range(300)) and sink.dropped == 0


def test_an_output_that_raises_costs_that_item_only() -> None:
    written: list[int] = []

    def picky(item: int) -> None:
        if item % 2:
            raise ValueError("odd")
        written.append(item)

    sink = QueuedSink("picky", picky, max_queue=100, wait_when_full=True)
    for i in range(10):
        sink(i)
    sink.close()
    assert written == [0, 2, 4, 6, 8] and sink.failed == 5


class StalledPlugin:
    def __init__(self) -> None:
        self.output = Stalled()

    @hookimpl
    def homeguard_event_sinks(self, context: OutputContext) -> list[EventSinkSpec]:
        return [EventSinkSpec("stalled", self.output, max_queue=2)]


def test_the_drops_of_a_plugin_output_reach_capture_stats(tmp_path: Path, write_pcap: Any) -> None:
    """Live (not replay): a plugin's stalled output behind a queue of 2, eight lookups."""
    capture = write_pcap(
        [p for i in range(4) for p in lookup(LAPTOP, f"h{i}.example", "198.51.100.9", qid=i)]
    )
    config = Config()
    config.set("db_path", str(tmp_path / "hg.db"), "test")
    config.set("rules_dir", str(tmp_path / "none"), "test")
    manager = plugin_manager(entry_points=False)
    plugin = StalledPlugin()
    manager.register(plugin, name="stalled")
    household = app.build(config, ManualClock(TS0), manager=manager)
    try:
        replay_files(household.pipeline, [str(capture)])  # built as for a live run: outputs drop
        assert household.db is not None
        stats = latest_capture_stats(household.db, 1)[0]
    finally:
        plugin.output.release.set()
        household.close()
    # By then at most three events got past the queue of two (one in the stuck output's
    # hands); every other event was dropped, and counted in the row.
    assert stats["events"] > 3 and stats["output_drops"] >= stats["events"] - 3
    written: list[Event] = plugin.output.written
    assert 1 <= len(written) <= 3


def test_closing_behind_a_stalled_output_with_a_full_queue_does_not_hang() -> None:
    """The daemon's stop must not wait forever for an output that never returns."""
    output = Stalled()
    sink = QueuedSink("stuck", output, max_queue=2)
    sink("first")
    assert output.taken.wait(10)
    sink("second")
    sink("third")  # the queue is full now
    sink.close(timeout=0.2)  # returns: the stop marker could not even be queued
    assert sink.thread.is_alive()  # left behind, still stuck in "first"
    output.release.set()
