"""Bulk segments (pipeline/bulk.py): the middle of connections nobody reads is counted
from fixed offsets, always, and more loosely under load (shedding); every flow total,
every device's last_seen and every other event stays what the full decode gives."""

from __future__ import annotations

import types
from collections import Counter
from dataclasses import dataclass
from typing import Any

import pytest
from pytest import MonkeyPatch
from scapy.layers.inet import IP, IPOption_NOP

from homeguard.clock import ManualClock
from homeguard.compiled import compiled_modules
from homeguard.decode.packet import Packet, decode_frame
from homeguard.pipeline import core
from homeguard.pipeline.core import Pipeline
from homeguard.service.daemon import CALM_SECONDS, Daemon
from homeguard.settings import Config
from tests.conftest import TS0, frames_of, run_pipeline
from tests.conversations import client_hello, http_message, tcp_conversation
from tests.household import CAMERA, LAPTOP, browse, internet

BULK = [(False, b"\x17\x03\x03\x05\xa0" + b"\x00" * 1440)] * 50  # encrypted data: nobody reads it


def traffic() -> list[Any]:
    video = tcp_conversation(
        [(True, client_hello(sni="video.example")), (False, b"\x16\x03\x03\x00\x04\x0e\x00\x00\x00"), *BULK],
        dport=443,
        sport=41000,
        client=LAPTOP,
        server=internet("192.0.2.7"),
    )
    login = tcp_conversation(
        [(True, http_message("GET / HTTP/1.1", "Host: cam", "Authorization: Basic YWRtaW46YWRtaW4="))],
        dport=80,
        sport=41001,
        client=LAPTOP,
        server=CAMERA,
    )
    # A capture that began mid-stream: no handshake; the client's data is no TLS, so no
    # reader wants the flow before the server's first data accepts it.
    not_tls = [(True, b"x" * 100)] * 9
    midstream = tcp_conversation([*not_tls, *BULK[:20]], dport=443, sport=41003, client=LAPTOP)[3:]
    # A flow whose server answers with IP options: always the full path.
    with_options = tcp_conversation(
        BULK[:20], dport=443, sport=41004, client=LAPTOP, server=internet("192.0.2.9")
    )
    for packet in with_options[3:-3]:
        if packet[IP].src == "192.0.2.9":
            packet[IP].options = [IPOption_NOP()] * 4
    return [
        *browse(LAPTOP, "www.example.org", "192.0.2.8", 41002, 5),
        *video,
        *login,
        *midstream,
        *with_options,
    ]


@dataclass
class Outcome:
    flows: list[dict[str, object]]
    others: list[dict[str, object]]
    last_seen: list[tuple[float, ...]]  # every device's, after each frame
    shed: int


def run(shortcut: bool, shedding: bool) -> Outcome:
    events: list[dict[str, object]] = []
    pipeline = Pipeline(Config(), None, [events.append], clock=ManualClock(TS0))
    pipeline.bulk_shortcut, pipeline.shedding = shortcut, shedding
    last_seen = []
    for frame in frames_of(traffic()):
        pipeline.process(frame)
        last_seen.append(tuple(dev.last_seen for dev in pipeline.devices))
    pipeline.close()
    flows = [e for e in events if e["type"] == "flow_end"]
    others = [{k: v for k, v in e.items() if k != "ts"} for e in events if e["type"] != "flow_end"]
    return Outcome(flows, others, last_seen, pipeline.stats.shed)


def test_bulk_segments_counted_from_offsets_give_what_the_full_decode_gives() -> None:
    full = run(shortcut=False, shedding=False)
    shortcut = run(shortcut=True, shedding=False)
    shed = run(shortcut=True, shedding=True)
    assert len(full.flows) == 6 and any(e["type"] == "auth" for e in full.others)
    assert any(e["type"] == "tls_client_hello" for e in full.others)
    for outcome in (shortcut, shed):
        assert outcome.flows == full.flows
        assert outcome.others == full.others
        assert outcome.last_seen == full.last_seen
    assert shortcut.shed == 0  # not under load: nothing counted as shed
    assert shed.shed >= 45  # the bulk of the video stream skipped the decoder


@pytest.mark.skipif(
    core.__name__ in compiled_modules(),
    reason="the pipeline is compiled here (mypyc): its call to decode_frame cannot be patched to count",
)
def test_the_shortcut_takes_the_bulk_and_leaves_the_rest_to_the_decoder(monkeypatch: MonkeyPatch) -> None:
    decoded: Counter[int] = Counter()  # frames that reached the full decoder, by client port
    real = decode_frame

    def counting(linktype: int, data: bytes, wirelen: int) -> Packet | None:
        pkt = real(linktype, data, wirelen)
        if pkt is not None:
            decoded[pkt.sport if pkt.sport > 40000 else pkt.dport] += 1
        return pkt

    monkeypatch.setattr(core, "decode_frame", counting)
    run(shortcut=False, shedding=False)
    every = decoded.copy()
    decoded.clear()
    run(shortcut=True, shedding=False)
    assert sum(every.values()) == len(frames_of(traffic()))
    assert every[41000] - decoded[41000] >= 45  # the video's encrypted bulk
    assert every[41003] - decoded[41003] >= 3  # the mid-stream flow, once accepted
    assert decoded[41004] == every[41004]  # IP options: all decoded
    assert decoded[41001] == every[41001]  # the login: read by its session reader to the end


def test_the_daemon_sheds_from_the_first_drop_and_stops_after_a_calm_minute() -> None:
    pipeline, _ = run_pipeline([])
    daemon = Daemon(pipeline, types.SimpleNamespace(stop=None), 1.0, ManualClock(TS0))
    daemon._shed_if_dropping(0, TS0)
    assert not pipeline.shedding
    daemon._shed_if_dropping(250, TS0 + 0.5)  # the ring counted drops in the block just read
    assert pipeline.shedding
    daemon._shed_if_dropping(250, TS0 + 0.5 + CALM_SECONDS - 1)
    assert pipeline.shedding
    daemon._shed_if_dropping(260, TS0 + 0.5 + CALM_SECONDS)  # more drops: the calm starts again
    daemon._shed_if_dropping(260, TS0 + 0.5 + 2 * CALM_SECONDS - 1)
    assert pipeline.shedding
    daemon._shed_if_dropping(260, TS0 + 0.5 + 2 * CALM_SECONDS)
    assert not pipeline.shedding
