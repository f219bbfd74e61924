"""Load shedding: under load, bulk segments of connections nobody reads are counted
without decoding; every flow total and every other event stays the same."""

from __future__ import annotations

import types
from typing import Any

from homeguard.clock import ManualClock
from homeguard.service.daemon import CALM_SECONDS, Daemon
from homeguard.settings import Config
from tests.conftest import TS0, frames_of, run_pipeline
from tests.conversations import client_hello, http_message, tcp_conversation
from tests.household import CAMERA, LAPTOP, browse, internet

BULK = [(False, b"\x17\x03\x03\x05\xa0" + b"\x00" * 1440)] * 50  # encrypted data: nobody reads it


def traffic() -> list[Any]:
    tls = tcp_conversation(
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
    return [*browse(LAPTOP, "www.example.org", "192.0.2.8", 41002, 5), *tls, *login]


def run(shedding: bool) -> tuple[list[dict[str, object]], list[dict[str, object]], int]:
    events: list[dict[str, object]] = []
    from homeguard.pipeline.core import Pipeline

    pipeline = Pipeline(Config(), None, [events.append], clock=ManualClock(TS0))
    pipeline.shedding = shedding
    for frame in frames_of(traffic()):
        pipeline.process(frame)
    pipeline.close()
    flows = [e for e in events if e["type"] == "flow_end"]
    others = [{k: v for k, v in e.items() if k != "ts"} for e in events if e["type"] != "flow_end"]
    return flows, others, pipeline.stats.shed


def test_shedding_keeps_every_total_and_every_event() -> None:
    full_flows, full_events, _ = run(shedding=False)
    shed_flows, shed_events, shed = run(shedding=True)
    assert shed >= 45  # the bulk of the video stream skipped the decoder
    assert shed_flows == full_flows
    assert shed_events == full_events
    assert any(e["type"] == "auth" for e in shed_events) and any(
        e["type"] == "tls_client_hello" for e in shed_events
    )


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
