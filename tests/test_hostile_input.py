"""Truncated, garbage and hostile packets: every decoder raises DecodeError or nothing.

A dedicated longer run: HOMEGUARD_FUZZ_EXAMPLES=100000 pytest tests/test_hostile_input.py
"""

from __future__ import annotations

import contextlib
import os
import struct
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scapy.all import ARP, BOOTP, DHCP, DNS, DNSQR, DNSRR, IP, TCP, UDP, Ether  # type: ignore[attr-defined]

from homeguard.clock import ManualClock
from homeguard.decode.arp import parse_arp
from homeguard.decode.dhcp import parse_dhcp
from homeguard.decode.dns import parse_dns, parse_dns_over_tcp
from homeguard.decode.link import LINK_READERS
from homeguard.decode.packet import decode_frame
from homeguard.decode.ssdp import parse_ssdp
from homeguard.errors import DecodeError
from homeguard.pipeline.core import Pipeline
from homeguard.settings import Config
from tests.conftest import TS0

EXAMPLES = int(os.environ.get("HOMEGUARD_FUZZ_EXAMPLES", "300"))
fuzz = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
PARSERS = [parse_arp, parse_dhcp, parse_dns, parse_dns_over_tcp, parse_ssdp]

DNS_ANSWER = bytes(
    DNS(id=1, qr=1, qd=DNSQR(qname="a.example.com"), an=DNSRR(rrname="a.example.com", rdata="1.2.3.4"))
)
DHCP_REQUEST = bytes(
    BOOTP(chaddr=b"\x02" * 6) / DHCP(options=[("message-type", "request"), ("hostname", "x"), "end"])
)
SAMPLES = {
    parse_dns: DNS_ANSWER,
    parse_dhcp: DHCP_REQUEST,
    parse_arp: bytes(ARP(op=1, psrc="10.0.0.1", pdst="10.0.0.2")),
    parse_ssdp: b"M-SEARCH * HTTP/1.1\r\nST: ssdp:all\r\n\r\n",
}


def only_decode_errors(parser: object, data: bytes) -> None:
    with contextlib.suppress(DecodeError):
        parser(data)  # type: ignore[operator]


@pytest.mark.parametrize("parser", list(SAMPLES), ids=lambda p: p.__name__)
def test_every_truncation_of_a_valid_message(parser: object) -> None:
    sample = SAMPLES[parser]  # type: ignore[index]
    for cut in range(len(sample)):
        only_decode_errors(parser, sample[:cut])


def test_compression_loop_is_rejected() -> None:
    loop = b"\x00\x01\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00" + b"\xc0\x0c\x00\x01\x00\x01"
    with pytest.raises(DecodeError, match="loops"):
        parse_dns(loop)


def test_two_pointers_pointing_at_each_other() -> None:
    msg = b"\x00\x01\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00" + b"\xc0\x0e\xc0\x0c\x00\x01\x00\x01"
    with pytest.raises(DecodeError):
        parse_dns(msg)


def test_counts_that_lie_keep_what_was_read() -> None:
    lying = bytearray(DNS_ANSWER)
    lying[6:8] = struct.pack("!H", 60000)  # claims 60,000 answers, has one
    msg = parse_dns(bytes(lying))
    assert msg.truncated and msg.answers[0].value == "1.2.3.4"


def test_question_count_that_lies_is_an_error() -> None:
    lying = bytearray(DNS_ANSWER)
    lying[4:6] = struct.pack("!H", 5)
    with pytest.raises(DecodeError):
        parse_dns(bytes(lying))


def test_overlong_name_is_rejected() -> None:
    name = b"".join(b"\x3f" + b"a" * 63 for _ in range(5)) + b"\x00"
    msg = b"\x00\x01\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00" + name + b"\x00\x01\x00\x01"
    with pytest.raises(DecodeError, match="255"):
        parse_dns(msg)


def test_dhcp_option_length_that_lies() -> None:
    lying = DHCP_REQUEST[:240] + b"\x0c\xff" + b"abc"
    with pytest.raises(DecodeError, match="option 12"):
        parse_dhcp(lying)


def test_ip_header_length_that_lies() -> None:
    frame = bytearray(bytes(Ether() / IP() / TCP()))
    frame[14] = 0x42  # IHL of 2 words
    with pytest.raises(DecodeError):
        decode_frame(1, bytes(frame), len(frame))


def test_tcp_offset_that_lies() -> None:
    frame = bytearray(bytes(Ether() / IP() / TCP()))
    frame[14 + 20 + 12] = 0x10  # data offset 4 bytes
    with pytest.raises(DecodeError):
        decode_frame(1, bytes(frame), len(frame))


@fuzz
@given(st.binary(max_size=600))
def test_fuzz_application_decoders(data: bytes) -> None:
    for parser in PARSERS:
        only_decode_errors(parser, data)


@fuzz
@given(st.sampled_from(sorted(LINK_READERS)), st.binary(max_size=200))
def test_fuzz_header_chain(linktype: int, data: bytes) -> None:
    with contextlib.suppress(DecodeError):
        decode_frame(linktype, data, len(data))


@fuzz
@given(st.binary(min_size=1, max_size=120), st.integers(0, 1500))
def test_fuzz_mutated_real_frames(noise: bytes, at: int) -> None:
    """Real frames with bytes overwritten: the whole pipeline survives, no internal error."""
    base = bytes(Ether() / IP(src="10.0.0.2", dst="10.0.0.1") / UDP(sport=5000, dport=53) / DNS_ANSWER)
    at %= len(base)
    frame = base[:at] + noise + base[at + len(noise) :]
    pipeline = Pipeline(Config(), None, clock=ManualClock(TS0))
    pipeline.process((1.0, 1, frame, len(frame)))
    pipeline.close()
    assert pipeline.stats.internal_errors == 0


# -- the application decoders (sessions) ----------------------------------------------

from homeguard.decode import http as http_decode  # noqa: E402
from homeguard.decode import mqtt, pii, portmap, quic, smb, snmp, tls, x509  # noqa: E402
from homeguard.protocols.shipped import SHIPPED  # noqa: E402
from homeguard.protocols.spec import StreamFactory  # noqa: E402
from homeguard.sessions.credentials import DefaultCredentials  # noqa: E402

APPLICATION_DECODERS: dict[str, Callable[[bytes], object]] = {
    "tls_client_hello": tls.parse_client_hello,
    "dtls_client_hello": lambda data: tls.parse_client_hello(data, dtls=True),
    "quic_initial": quic.open_initial,
    "tls_server_hello": tls.parse_server_hello,
    "tls_certificate": tls.first_certificate,
    "sslv2_hello": tls.parse_sslv2_client_hello,
    "x509": x509.parse_certificate,
    "http_head": http_decode.parse_head,
    "http_form": http_decode.form_login,
    "http_authorization": lambda data: http_decode.authorization_login(data.decode("latin-1")),
    "pii": lambda data: (pii.scan(data.decode("latin-1")), pii.redact(data.decode("latin-1"))),
    "snmp": snmp.parse_snmp,
    "mqtt": mqtt.parse_connect,
    "nat_pmp_pcp": portmap.parse_nat_pmp_or_pcp,
    "soap": lambda data: portmap.parse_soap_port_mapping("x#AddPortMapping", data),
    "smb": smb.parse_negotiate,
}
DEFAULTS = DefaultCredentials.shipped()


@pytest.mark.parametrize("name", sorted(APPLICATION_DECODERS))
@fuzz
@given(data=st.binary(max_size=700))
def test_fuzz_application_decoder(name: str, data: bytes) -> None:
    with contextlib.suppress(DecodeError):
        APPLICATION_DECODERS[name](data)


def _analyzers() -> dict[str, StreamFactory]:
    """Every shipped protocol's stream analyzer."""
    return {spec.name: spec.stream.factory for spec in SHIPPED if spec.stream is not None}


@pytest.mark.parametrize("name", sorted(_analyzers()))
@fuzz
@given(chunks=st.lists(st.tuples(st.booleans(), st.one_of(st.none(), st.binary(max_size=160))), max_size=5))
def test_fuzz_session_analyzer(name: str, chunks: list[tuple[bool, bytes | None]]) -> None:
    """Random bytes both ways, gaps included: an analyzer may reject, never crash."""
    analyzer = _analyzers()[name](DEFAULTS)
    for from_client, data in chunks:
        with contextlib.suppress(DecodeError):
            analyzer.feed(from_client, data)
