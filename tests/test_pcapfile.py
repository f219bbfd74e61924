"""Capture files: every format and link type we claim, and clear errors for bad files."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import pytest
from scapy.all import (  # type: ignore[attr-defined]
    DNS,
    DNSQR,
    IP,
    UDP,
    CookedLinux,
    Dot1Q,
    Ether,
    IPv6,
    wrpcap,
    wrpcapng,
)
from scapy.layers.l2 import CookedLinuxV2
from scapy.utils import PcapWriter

from homeguard.capture.pcapfile import PcapFileSource
from homeguard.decode.addresses import ip_text
from homeguard.errors import CaptureFileError
from tests.conftest import known

QUERY = (
    IP(src="192.168.1.10", dst="192.168.1.1") / UDP(sport=5000, dport=53) / DNS(qd=DNSQR(qname="example.org"))
)


def frames(path: Path) -> list[Any]:
    return [f for f in PcapFileSource(str(path)).frames() if f is not None]


def test_pcap_frames_keep_time_link_type_and_bytes(tmp_path: Path) -> None:
    pkts = [Ether() / QUERY, Ether() / QUERY]
    pkts[0].time, pkts[1].time = 1_600_000_000.25, 1_600_000_001.5
    wrpcap(str(tmp_path / "a.pcap"), pkts)
    got = frames(tmp_path / "a.pcap")
    assert [(f[0], f[1]) for f in got] == [(1_600_000_000.25, 1), (1_600_000_001.5, 1)]
    assert got[0][2] == bytes(pkts[0])


def test_nanosecond_pcap(tmp_path: Path) -> None:
    pkt = Ether() / QUERY
    pkt.time = 1_600_000_000.123456789
    with PcapWriter(str(tmp_path / "ns.pcap"), nano=True) as w:
        w.write(pkt)
    assert frames(tmp_path / "ns.pcap")[0][0] == pytest.approx(1_600_000_000.123456789, abs=1e-6)


def test_big_endian_pcap(tmp_path: Path) -> None:
    raw = bytes(Ether() / QUERY)
    header = struct.pack(">IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)
    record = struct.pack(">IIII", 1_600_000_000, 500_000, len(raw), len(raw)) + raw
    (tmp_path / "be.pcap").write_bytes(header + record)
    assert frames(tmp_path / "be.pcap") == [(1_600_000_000.5, 1, raw, len(raw))]


def test_pcapng(tmp_path: Path) -> None:
    pkt = Ether() / QUERY
    pkt.time = 1_600_000_000.5
    wrpcapng(str(tmp_path / "a.pcapng"), [pkt, pkt])
    got = frames(tmp_path / "a.pcapng")
    assert len(got) == 2 and got[0][2] == bytes(pkt) and got[0][0] == pytest.approx(1_600_000_000.5)


@pytest.mark.parametrize(
    ("layer", "linktype"),
    [
        (CookedLinux(proto=0x0800, src=b"\x02\x11\x22\x33\x44\x55\x00\x00", lladdrlen=6), 113),
        (CookedLinuxV2(proto=0x0800, src=b"\x02\x11\x22\x33\x44\x55\x00\x00", lladdrlen=6), 276),
    ],
)
def test_linux_cooked_captures(tmp_path: Path, layer: object, linktype: int) -> None:
    from homeguard.decode.packet import decode_frame

    wrpcap(str(tmp_path / "sll.pcap"), [layer / QUERY], linktype=linktype)
    ((_ts, lt, data, wirelen),) = frames(tmp_path / "sll.pcap")
    assert lt == linktype
    pkt = decode_frame(lt, data, wirelen)
    assert pkt is not None and pkt.src_mac == bytes.fromhex("021122334455")
    assert ip_text(known(pkt.src_ip)) == "192.168.1.10" and pkt.dport == 53


@pytest.mark.parametrize("linktype", [101, 228])
def test_raw_ip_captures(tmp_path: Path, linktype: int) -> None:
    from homeguard.decode.packet import decode_frame

    wrpcap(str(tmp_path / "raw.pcap"), [QUERY], linktype=linktype)
    ((_ts, lt, data, wirelen),) = frames(tmp_path / "raw.pcap")
    pkt = decode_frame(lt, data, wirelen)
    assert pkt is not None and pkt.src_mac is None and ip_text(known(pkt.dst_ip)) == "192.168.1.1"


def test_raw_ipv6_capture(tmp_path: Path) -> None:
    from homeguard.decode.packet import decode_frame

    pkt6 = IPv6(src="fe80::1", dst="fe80::2") / UDP(sport=5000, dport=53) / DNS(qd=DNSQR(qname="a.b"))
    wrpcap(str(tmp_path / "raw6.pcap"), [pkt6], linktype=229)
    ((_ts, lt, data, wirelen),) = frames(tmp_path / "raw6.pcap")
    pkt = decode_frame(lt, data, wirelen)
    assert pkt is not None and ip_text(known(pkt.src_ip)) == "fe80::1"


def test_vlan_tags_are_read_through(tmp_path: Path) -> None:
    from homeguard.decode.packet import decode_frame

    wrpcap(str(tmp_path / "vlan.pcap"), [Ether() / Dot1Q(vlan=42) / Dot1Q(vlan=7) / QUERY])
    ((_ts, lt, data, wirelen),) = frames(tmp_path / "vlan.pcap")
    pkt = decode_frame(lt, data, wirelen)
    assert pkt is not None and pkt.vlan == 42 and pkt.dport == 53


def test_truncated_capture_keeps_every_whole_frame(tmp_path: Path) -> None:
    wrpcap(str(tmp_path / "cut.pcap"), [Ether() / QUERY] * 3)
    data = (tmp_path / "cut.pcap").read_bytes()
    (tmp_path / "cut.pcap").write_bytes(data[:-10])
    source = PcapFileSource(str(tmp_path / "cut.pcap"))
    assert len([f for f in source.frames() if f]) == 2
    assert source.counters.truncated


def test_corrupt_record_names_the_file_and_offset(tmp_path: Path) -> None:
    wrpcap(str(tmp_path / "bad.pcap"), [Ether() / QUERY] * 2)
    data = bytearray((tmp_path / "bad.pcap").read_bytes())
    second = 24 + 16 + len(bytes(Ether() / QUERY))
    data[second + 8 : second + 12] = struct.pack("<I", 0xF0000000)
    (tmp_path / "bad.pcap").write_bytes(bytes(data))
    source = PcapFileSource(str(tmp_path / "bad.pcap"))
    got = []
    with pytest.raises(CaptureFileError, match=rf"bad\.pcap: corrupt at byte {second}"):
        for frame in source.frames():
            got.append(frame)
    assert len(got) == 1  # the good frame before the corruption was delivered


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "the file is empty"), (b"hello, this is not a capture", "not a pcap or pcapng file")],
)
def test_not_a_capture(tmp_path: Path, content: bytes, message: str) -> None:
    (tmp_path / "x.pcap").write_bytes(content)
    with pytest.raises(CaptureFileError, match=message):
        frames(tmp_path / "x.pcap")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CaptureFileError, match="cannot read"):
        frames(tmp_path / "nope.pcap")


def test_large_capture_is_read_in_chunks(tmp_path: Path) -> None:
    """Frames that straddle chunk boundaries come out whole."""
    pkt = Ether() / QUERY / (b"z" * 1300)
    wrpcap(str(tmp_path / "big.pcap"), [pkt] * 2000)  # about 2.7 MiB: several chunks
    got = frames(tmp_path / "big.pcap")
    assert len(got) == 2000 and all(f[2] == bytes(pkt) for f in got)
