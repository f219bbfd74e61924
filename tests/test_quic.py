"""QUIC: Initial packets opened with the keys of RFC 9001 (checked against its own test
vectors), a ClientHello put back together across two packets, JA4 with its "q", and the
flow named by the SNI, so trackers and the data report see QUIC like TLS."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from scapy.all import IP, UDP, Ether, wrpcap  # type: ignore[attr-defined]

from homeguard.decode.quic import VERSION_2, client_initial_keys
from tests.conftest import TS0, frames_of, homeguard, run_pipeline
from tests.conversations import client_hello, dtls_record
from tests.quic import client_initial, client_initials, crypto_frame

TV, ROUTER = "8c:79:f5:00:00:40", "3c:a6:2f:00:00:01"
TV_IP, SERVER_IP = "192.168.1.40", "203.0.113.80"
DCID = bytes.fromhex("8394c8f03e515708")


def test_initial_keys_match_the_rfcs_test_vectors() -> None:
    v1 = client_initial_keys(DCID)  # RFC 9001, appendix A.1
    assert (v1.key.hex(), v1.iv.hex(), v1.hp.hex()) == (
        "1f369613dd76d5467730efcbe3b1a22d",
        "fa044b2f42a3fd3b46fb255c",
        "9f50449e04a0e810283a1e9933adedd2",
    )
    v2 = client_initial_keys(DCID, VERSION_2)  # RFC 9369, appendix A.1
    assert (v2.key.hex(), v2.iv.hex(), v2.hp.hex()) == (
        "8b1a0bc121284290a29e0971b5cd045d",
        "91f73e2351d8fa91660e909f",
        "45b95e15235d6f45a6b19cbcb0294ba9",
    )


def quic_flow(datagrams: list[bytes], sport: int = 51000, answer: bool = True) -> list[Any]:
    up = Ether(src=TV, dst=ROUTER) / IP(src=TV_IP, dst=SERVER_IP) / UDP(sport=sport, dport=443)
    down = Ether(src=ROUTER, dst=TV) / IP(src=SERVER_IP, dst=TV_IP) / UDP(sport=443, dport=sport)
    packets = [up / d for d in datagrams]
    return packets + ([down / (b"\xc0" + b"\x00" * 60)] if answer else [])


def test_a_hello_across_two_initials_is_read_with_its_sni_alpn_and_ja4() -> None:
    hello = client_hello(sni="log-ingestion.samsungacr.com", alpn=("h3",))
    _, events = run_pipeline(frames_of(quic_flow(client_initials(hello, DCID, pieces=2))))
    (seen,) = [e for e in events if e["type"] == "tls_client_hello"]
    assert seen["tls.sni"] == "log-ingestion.samsungacr.com" and seen["tls.alpn"] == ["h3"]
    assert seen["tls.quic"] is True and seen["quic.version"] == "1"
    assert seen["tls.ja4"].startswith("q13d") and seen["tls.ja4"][8:10] == "h3"
    (end,) = [e for e in events if e["type"] == "flow_end"]
    assert (end["flow.server_name"], end["flow.name_source"]) == ("log-ingestion.samsungacr.com", "tls")


def test_version_2_and_out_of_order_initials() -> None:
    hello = client_hello(sni="chat.example.org", alpn=("h3",))
    first, second = client_initials(hello, DCID, pieces=2, version=VERSION_2)
    _, events = run_pipeline(frames_of(quic_flow([second, first])))
    (seen,) = [e for e in events if e["type"] == "tls_client_hello"]
    assert seen["tls.sni"] == "chat.example.org" and seen["quic.version"] == "2"


def test_later_initials_keep_the_first_keys_when_the_server_changed_the_connection_id() -> None:
    """RFC 9001 5.2: Initial keys come from the client's first DCID, also for Initials sent
    after the server chose a new one; and 0-RTT may be captured before the Initial."""
    message = client_hello(sni="www.example.de", alpn=("h3",))[5:]
    half = len(message) // 2
    first = client_initial(DCID, crypto_frame(0, message[:half]), pn=0)
    later = client_initial(b"\x11" * 8, crypto_frame(half, message[half:]), pn=1, key_dcid=DCID)
    zero_rtt = bytes([0xD0]) + b"\x00\x00\x00\x01" + b"\x08" + DCID + b"\x00" + b"\x41\x00" + b"\x5a" * 300
    _, events = run_pipeline(frames_of(quic_flow([zero_rtt, first, later])))
    (seen,) = [e for e in events if e["type"] == "tls_client_hello"]
    assert seen["tls.sni"] == "www.example.de"


def test_what_is_not_a_clients_quic_initial_costs_nothing_and_says_nothing() -> None:
    hello = client_hello(sni="a.example")
    (good,) = client_initials(hello, DCID)
    tampered = good[:-40] + bytes(b ^ 0xFF for b in good[-40:])  # fails its authentication
    garbage = [b"\xc0\x00\x00\x00\x01\x08" + bytes(range(200)), b"\x00" * 50, tampered]
    for n, datagram in enumerate(garbage):
        _, events = run_pipeline(frames_of(quic_flow([datagram], sport=52000 + n)))
        assert [e for e in events if e["type"] == "tls_client_hello"] == []


def test_a_tracker_reached_over_quic_is_a_finding(tmp_path: Path) -> None:
    hello = client_hello(sni="log-ingestion.samsungacr.com", alpn=("h3",))
    packets = quic_flow(client_initials(hello, DCID))
    for n, pkt in enumerate(packets):
        pkt.time = TS0 + n * 0.01
    capture = tmp_path / "quic.pcap"
    wrpcap(str(capture), packets)
    homeguard("replay", str(capture), "--db", str(tmp_path / "hg.db"))
    rows = json.loads(homeguard("findings", "--db", str(tmp_path / "hg.db"), "--json").stdout)
    assert "tracker-contact" in {row["rule"] for row in rows}


def dtls_hello(version: int, sni: str = "turn.example.org") -> bytes:
    return dtls_record(client_hello(sni=sni, versions=(), legacy=0x0303), version)


def test_a_dtls_hello_is_read_and_an_old_one_is_a_finding(tmp_path: Path) -> None:
    _, events = run_pipeline(frames_of(quic_flow([dtls_hello(0xFEFD)], sport=53000)))
    (seen,) = [e for e in events if e["type"] == "tls_client_hello"]
    assert seen["tls.dtls"] is True and seen["tls.sni"] == "turn.example.org"
    assert seen["tls.client_max_name"] == "DTLS 1.2" and seen["tls.ja4"].startswith("dd2d")
    packets = quic_flow([dtls_hello(0xFEFF)], sport=53001)  # DTLS 1.0 at most: deprecated (RFC 8996)
    for n, pkt in enumerate(packets):
        pkt.time = TS0 + n * 0.01
    wrpcap(str(tmp_path / "dtls.pcap"), packets)
    homeguard("replay", str(tmp_path / "dtls.pcap"), "--db", str(tmp_path / "hg.db"))
    rows = json.loads(homeguard("findings", "--db", str(tmp_path / "hg.db"), "--json").stdout)
    assert [row["rule"] for row in rows if row["category"] == "insecure.old-tls"] == ["old-tls-client"]
