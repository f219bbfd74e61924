"""The workers' batches back in time order (homeguard/workers/merge.py): nothing goes on
before every worker has read that far, a batch's rows follow its events, and a worker
that falls silent or a flood of waiting items cannot hold the household up. A replay's
merge goes by file and frame, whatever the times say."""

from __future__ import annotations

import math

from homeguard.events import Event
from homeguard.workers.channel import Batch
from homeguard.workers.merge import STALE, TimeMerge, frame_place


def batch(*times: float, until: float, rows: bool = False) -> Batch:
    events: list[Event] = [{"ts": ts, "type": "dns"} for ts in times]
    inserts = {"flows": [{"src_ip": "10.0.0.1"}]} if rows else {}
    return Batch(events, inserts, until=until)


def order(items: list[Event | Batch]) -> list[float | str]:
    return ["rows" if isinstance(item, Batch) else item["ts"] for item in items]


def test_nothing_goes_before_every_worker_has_read_that_far() -> None:
    merged = TimeMerge()
    merged.add(0, batch(10.0, 10.3, until=10.3), now=0.0)
    merged.add(1, batch(until=10.1), now=0.0)  # worker 1 has read up to 10.1: nothing yet
    assert order(list(merged.ready(now=0.1))) == [10.0]
    merged.add(1, batch(10.2, until=10.5, rows=True), now=0.2)
    assert order(list(merged.ready(now=0.2))) == [10.2, 10.3]  # its rows wait for 10.5
    merged.add(0, batch(until=11.0), now=0.3)
    assert order(list(merged.ready(now=0.3))) == ["rows"]
    assert merged.waiting == 0 and merged.early == 0


def test_a_silent_worker_is_not_waited_for_and_a_given_up_one_never() -> None:
    merged = TimeMerge()
    merged.add(0, batch(until=5.0), now=0.0)
    merged.add(1, batch(6.0, until=6.0), now=0.0)
    assert order(list(merged.ready(now=1.0))) == []  # worker 0 may still have older frames
    assert order(list(merged.ready(now=STALE + 0.1))) == [6.0]  # silent for too long
    merged.add(0, batch(until=5.5), now=STALE + 0.2)  # heard again: waited for again
    merged.add(1, batch(7.0, until=7.0), now=STALE + 0.2)
    assert order(list(merged.ready(now=STALE + 0.2))) == []
    merged.forget(0)
    assert order(list(merged.ready(now=STALE + 0.3))) == [7.0]


def test_too_many_waiting_go_early_oldest_first_and_stop_flushes_all() -> None:
    merged = TimeMerge(max_waiting=5)
    merged.add(0, batch(until=1.0), now=0.0)
    merged.add(1, batch(*(2.0 + n for n in range(8)), until=10.0), now=0.0)
    assert order(list(merged.ready(now=0.0))) == [2.0, 3.0, 4.0]
    assert merged.early == 3 and merged.waiting == 5
    assert order(list(merged.ready(now=0.0, everything=True))) == [5.0, 6.0, 7.0, 8.0, 9.0]
    assert merged.waiting == 0


def framed(file: int, *frames_and_times: tuple[int, float], until: int) -> Batch:
    events: list[Event] = [
        {"ts": ts, "type": "dns", "capture.frame": frame} for frame, ts in frames_and_times
    ]
    return Batch(events, until=frame_place(file, until), file=file, read_time=float(until))


def test_a_replay_goes_by_file_and_frame_where_the_clock_goes_back() -> None:
    merged = TimeMerge(max_waiting=math.inf, stale=math.inf, by_frame=True)
    # worker 0 has frames 1 and 3 of the first file, then frame 2 of the second, whose
    # clock is a day behind; worker 1 has frame 2 of the first file and 1 of the second
    merged.add(0, framed(0, (1, 500.0), (3, 300.0), until=4), now=0.0)
    merged.add(1, framed(0, (2, 400.0), until=4), now=0.0)
    merged.add(1, framed(1, (1, 100.0), until=2), now=0.0)
    first = list(merged.ready(now=0.0))
    # every batch is an item by frame: it carries the time the household keeps
    assert order(first) == [500.0, 400.0, 300.0, "rows", "rows"]
    merged.add(0, framed(1, (2, 200.0), until=2), now=0.0)
    # rows go after the events of their place, from whichever worker
    assert order(list(merged.ready(now=0.0))) == [100.0, 200.0, "rows", "rows"]
    # what both announce in one place (a replay's end) goes by time: the earliest sighting
    merged.add(0, Batch([{"ts": 9.0, "type": "device_new", "capture.frame": 2}], until=math.inf, file=1), 0.0)
    merged.add(1, Batch([{"ts": 8.0, "type": "device_new", "capture.frame": 2}], until=math.inf, file=1), 0.0)
    assert order(list(merged.ready(now=0.0))) == [8.0, 9.0, "rows", "rows"]
    assert merged.waiting == 0 and merged.early == 0
