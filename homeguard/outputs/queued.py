"""A slow sink behind a bounded queue on its own thread, as the alert outbox is.

Live, a full queue drops the newest event and counts it: capture never waits for an
output. In replay nothing is lost: the reader waits for the output instead. The drops
are reported when the sink closes, and `dropped` is there for the statistics.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger("homeguard.outputs")
_STOP = object()


class QueuedSink:
    def __init__(
        self,
        name: str,
        write: Callable[[Any], None],
        max_queue: int = 10_000,
        *,
        wait_when_full: bool = False,
        close: Callable[[], None] | None = None,
        finish: Callable[[], None] | None = None,
    ) -> None:
        self.name = name
        self.write = write
        self.wait_when_full = wait_when_full
        self.on_close = close
        self.on_finish = finish  # on the sink's own thread, after the last item (its connections live there)
        self.queue: queue.Queue[Any] = queue.Queue(max_queue)
        self.dropped = 0  # items that found the queue full (live only)
        self.failed = 0  # items the output raised on
        self.thread = threading.Thread(target=self._loop, name=f"homeguard-out-{name}", daemon=True)
        self.thread.start()

    def __call__(self, item: Any) -> None:
        if self.wait_when_full:
            self.queue.put(item)
            return
        try:
            self.queue.put_nowait(item)
        except queue.Full:
            self.dropped += 1
            if self.dropped == 1 or not self.dropped % 10_000:
                log.warning("output %s is behind: %d event(s) dropped so far", self.name, self.dropped)

    def _loop(self) -> None:
        while True:
            item = self.queue.get()
            if item is _STOP:
                if self.on_finish is not None:
                    self.on_finish()
                return
            try:
                self.write(item)
            except Exception:  # an output's bug costs that item, never capture or the thread
                self.failed += 1
                if self.failed <= 10:
                    log.exception("output %s failed on an item", self.name)

    def close(self, timeout: float = 10.0) -> None:
        """Write what is queued, then stop; a stalled output is left behind after `timeout`
        (its full queue must not hold up the daemon's stop either)."""
        with contextlib.suppress(queue.Full):  # stuck: the join below gives up on it as well
            self.queue.put(_STOP, timeout=timeout)
        self.thread.join(timeout)
        if self.thread.is_alive():
            log.error(
                "output %s did not finish within %.0f s; %d item(s) left",
                self.name,
                timeout,
                self.queue.qsize(),
            )
        if self.on_close is not None:
            self.on_close()
        if self.dropped or self.failed:
            log.warning("output %s: %d dropped (queue full), %d failed", self.name, self.dropped, self.failed)
