"""The share of a device's DNS lookups that fail: malware with a domain generation
algorithm asks for names that mostly do not exist, while a healthy device's lookups
almost all succeed. The share catches families whose names look like words (simda's
"tahecuk.com"), which the domain model cannot tell from real ones.

Counted per device over the last ten minutes, on the answers (one per lookup), bounded
per device and in devices.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from dataclasses import field as dataclass_field

from homeguard.bounded import make_room
from homeguard.events import Event
from homeguard.events.catalog import field

WINDOW = 600.0  # seconds: the rules' ten minutes
MAX_ANSWERS = 500  # per device: enough for a share, bounded against a flood
MAX_DEVICES = 4096

FIELDS = (
    field(
        "dns.failure_share",
        "float",
        "dns",
        "On an answer: the share (0 to 1) of the asking device's answers in the last ten minutes"
        " that said the name does not exist (NXDOMAIN). High for malware searching for its server.",
    ),
    field("dns.answers_recent", "int", "dns", "On an answer: how many answers that share is taken over."),
)


@dataclass(slots=True)
class Answers:
    seen: deque[tuple[float, bool]] = dataclass_field(default_factory=lambda: deque(maxlen=MAX_ANSWERS))
    failed: int = 0  # of those in seen


class LookupFailures:
    def __init__(self) -> None:
        self._devices: dict[str, Answers] = {}

    def __call__(self, event: Event) -> None:
        if event["type"] != "dns" or not event.get("dns.is_response") or "dns.rcode" not in event:
            return
        device = event.get("device.mac")
        if not device:
            return
        answers = self._devices.get(device)
        if answers is None:
            make_room(self._devices, MAX_DEVICES)
            answers = self._devices[device] = Answers()
        now = float(event["ts"])
        failed = event["dns.rcode"] == "NXDOMAIN"
        if len(answers.seen) == MAX_ANSWERS:
            answers.failed -= answers.seen[0][1]
        answers.seen.append((now, failed))
        answers.failed += failed
        while answers.seen and answers.seen[0][0] < now - WINDOW:
            answers.failed -= answers.seen.popleft()[1]
        event["dns.failure_share"] = round(answers.failed / len(answers.seen), 3)
        event["dns.answers_recent"] = len(answers.seen)
