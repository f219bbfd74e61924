"""Shared helpers: captures crafted with scapy, and running the CLI for real."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from scapy.all import wrpcap

from homeguard.capture.source import Frame
from homeguard.clock import ManualClock
from homeguard.decode.packet import Packet, decode_frame
from homeguard.events import Event
from homeguard.pipeline.core import Pipeline
from homeguard.settings import Config
from tests.netns_lab import Lab, unavailable_reason
from tests.receivers import Mailbox, Webhook

TS0 = 1_700_000_000.0
T = TypeVar("T")


def known(value: T | None) -> T:
    """A decoded field a test expects to be there."""
    assert value is not None
    return value


def frames_of(packets: Iterable[Any], start: float = TS0, step: float = 0.01) -> list[Frame]:
    """scapy packets as frames (Ethernet link type), one `step` apart."""
    out = []
    for i, pkt in enumerate(packets):
        raw = bytes(pkt)
        ts = float(pkt.time) if getattr(pkt, "_hg_time", False) else start + i * step
        out.append((ts, 1, raw, len(raw)))
    return out


def decode(pkt: Any) -> Packet:
    raw = bytes(pkt)
    result = decode_frame(1, raw, len(raw))
    assert result is not None
    return result


def run_pipeline(
    frames: Iterable[Frame], config: Config | None = None, writer: Any = None
) -> tuple[Pipeline, list[Event]]:
    events: list[Event] = []
    pipeline = Pipeline(config or Config(), writer, [events.append], clock=ManualClock(TS0))
    for frame in frames:
        pipeline.process(frame)
    pipeline.close()
    return pipeline, events


def homeguard(*args: str, check: bool = True, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """Run the real CLI in a child process."""
    done = subprocess.run(
        [sys.executable, "-m", "homeguard", *args], capture_output=True, text=True, check=False, **kwargs
    )
    if check and done.returncode != 0:
        raise AssertionError(f"homeguard {' '.join(args)} failed:\n{done.stderr}")
    return done


def read_jsonl(path: Path) -> list[Event]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture
def write_pcap(tmp_path: Path) -> Callable[..., Path]:
    def write(packets: list[Any], name: str = "capture.pcap", start: float = TS0, step: float = 0.01) -> Path:
        for i, pkt in enumerate(packets):
            pkt.time = start + i * step
        path = tmp_path / name
        wrpcap(str(path), packets)
        return path

    return write


def make_certificate(
    folder: Path, subject: str = "/CN=camera.home.test", der: bool = True, names: str | None = None
) -> Path:
    """A self-signed certificate made by the openssl command (skips the test without it)."""
    import shutil

    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a certificate (apt-get install openssl)")
    out = folder / ("cert.der" if der else "cert.pem")
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-subj",
            subject,
            *(["-addext", f"subjectAltName={names}"] if names else []),
            "-days",
            "1",
            "-keyout",
            str(folder / "key.pem"),
            *(["-outform", "DER"] if der else []),
            "-out",
            str(out),
        ],
        check=True,
        capture_output=True,
    )
    return out


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    """A JSON webhook receiver on loopback (tests/receivers.py)."""
    hook = Webhook().start()
    yield hook
    hook.stop()


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    """An SMTP server on loopback (tests/receivers.py)."""
    box = Mailbox().start()
    yield box
    box.stop()


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Lab]:
    """A household network of namespaces (tests/netns_lab.py), taken down afterwards."""
    yield from lab_running(tmp_path)


def lab_running(tmp_path: Path, mirror: bool = True) -> Iterator[Lab]:
    """The lab, up for as long as the caller needs it (a fixture's body): skipped where
    namespaces cannot be made, unless CI requires them."""
    reason = unavailable_reason()
    if reason:
        if os.environ.get("HOMEGUARD_REQUIRE_NETNS"):
            pytest.fail(f"the namespace lab is required here but {reason}")
        pytest.skip(reason)
    lab = Lab(tmp_path, mirror=mirror)
    try:
        lab.up()
        yield lab
    finally:
        lab.down()


@pytest.fixture
def veth() -> Iterator[tuple[str, str]]:
    """Two namespaces joined by a veth pair: (sender namespace, capture namespace)."""
    prefix = f"hgring{os.getpid() % 100000}"
    sender, capture = f"{prefix}-a", f"{prefix}-b"
    commands = [
        ["ip", "netns", "add", sender],
        ["ip", "netns", "add", capture],
        [
            "ip",
            "link",
            "add",
            f"{prefix}a",
            "netns",
            sender,
            "type",
            "veth",
            "peer",
            "name",
            f"{prefix}b",
            "netns",
            capture,
        ],
        ["ip", "-n", sender, "link", "set", f"{prefix}a", "up"],
        ["ip", "-n", capture, "link", "set", f"{prefix}b", "up"],
    ]
    try:
        for command in commands:
            subprocess.run(command, check=True, capture_output=True, timeout=30)
        for namespace in (sender, capture):  # only the frames the test sends
            subprocess.run(
                ["ip", "netns", "exec", namespace, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1"],
                check=True,
                timeout=30,
            )
        yield sender, capture
    finally:
        for namespace in (sender, capture):
            subprocess.run(["ip", "netns", "del", namespace], capture_output=True, timeout=30)
