"""Decoders against packets crafted with scapy: every field we emit, read back right."""

from __future__ import annotations

from scapy.all import (  # type: ignore[attr-defined]
    ARP,
    BOOTP,
    DHCP,
    DNS,
    DNSQR,
    DNSRR,
    ICMP,
    IP,
    TCP,
    UDP,
    Ether,
    IPv6,
    Raw,
    fragment,
)
from scapy.layers.inet6 import IPv6ExtHdrDestOpt, IPv6ExtHdrHopByHop, IPv6ExtHdrRouting

from homeguard.decode.addresses import ip_bytes, ip_text, mac_bytes, mac_text
from homeguard.decode.arp import parse_arp
from homeguard.decode.dhcp import parse_dhcp
from homeguard.decode.dns import parse_dns, parse_dns_over_tcp
from homeguard.decode.fragments import FragmentReassembler
from homeguard.decode.packet import TCP_SYN, decode_frame
from homeguard.decode.ssdp import parse_ssdp
from tests.conftest import decode, known

MAC = "3c:22:fb:12:34:56"


def test_ipv4_tcp_headers() -> None:
    pkt = decode(
        Ether(src=MAC, dst="02:00:00:00:00:01")
        / IP(src="192.168.1.20", dst="93.184.216.34")
        / TCP(sport=50000, dport=443, flags="S")
    )
    assert mac_text(known(pkt.src_mac)) == MAC
    assert (ip_text(known(pkt.src_ip)), ip_text(known(pkt.dst_ip))) == ("192.168.1.20", "93.184.216.34")
    assert (pkt.proto, pkt.sport, pkt.dport, pkt.tcp_flags) == (6, 50000, 443, TCP_SYN)


def test_ethernet_padding_is_not_payload() -> None:
    frame = bytes(Ether() / IP(src="10.0.0.1", dst="10.0.0.2") / UDP(sport=1, dport=2) / b"hi") + b"\0" * 20
    pkt = decode_frame(1, frame, len(frame))
    assert pkt is not None and pkt.payload() == b"hi"


def test_ipv6_extension_headers_are_walked() -> None:
    pkt = decode(
        Ether()
        / IPv6(src="2001:db8::1", dst="2001:db8::2")
        / IPv6ExtHdrHopByHop()
        / IPv6ExtHdrDestOpt()
        / IPv6ExtHdrRouting()
        / UDP(sport=5353, dport=53)
        / b"x"
    )
    assert (pkt.proto, pkt.sport, pkt.dport) == (17, 5353, 53)
    assert ip_text(known(pkt.src_ip)) == "2001:db8::1"


def test_icmp_type_and_code_take_the_port_fields() -> None:
    pkt = decode(Ether() / IP() / ICMP(type=3, code=1))
    assert (pkt.proto, pkt.sport, pkt.dport) == (1, 3, 1)


def test_arp_reply() -> None:
    pkt = decode(
        Ether(src=MAC)
        / ARP(op=2, hwsrc=MAC, psrc="192.168.1.20", hwdst="02:00:00:00:00:01", pdst="192.168.1.1")
    )
    msg = parse_arp(pkt.data[pkt.l3_at :])
    assert msg.op == 2 and mac_text(known(msg.sender_mac)) == MAC
    assert (ip_text(known(msg.sender_ip)), ip_text(known(msg.target_ip))) == ("192.168.1.20", "192.168.1.1")


def test_dns_response_with_compression_cname_and_addresses() -> None:
    answer = DNS(
        id=77,
        qr=1,
        rcode=0,
        qd=DNSQR(qname="www.example.com", qtype="A"),
        an=[
            DNSRR(rrname="www.example.com", type="CNAME", rdata="edge.example.net", ttl=300),
            DNSRR(rrname="edge.example.net", type="A", rdata="93.184.216.34", ttl=60),
            DNSRR(rrname="edge.example.net", type="AAAA", rdata="2606:2800:220:1::1", ttl=30),
        ],
    )
    msg = parse_dns(bytes(answer))
    assert msg.id == 77 and msg.is_response and msg.rcode == 0
    assert msg.questions == [("www.example.com", 1)]
    assert [(a.name, a.rtype, a.value) for a in msg.answers] == [
        ("www.example.com", 5, "edge.example.net"),
        ("edge.example.net", 1, "93.184.216.34"),
        ("edge.example.net", 28, "2606:2800:220:1::1"),
    ]
    assert min(a.ttl for a in msg.answers) == 30


def test_dns_compression_pointers_decode() -> None:
    # Hand-made: the answer's name is a pointer to the question's name (offset 12).
    msg = (
        b"\x00\x01\x81\x80\x00\x01\x00\x01\x00\x00\x00\x00"
        b"\x07example\x03com\x00\x00\x01\x00\x01"
        b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\x01\x02\x03\x04"
    )
    parsed = parse_dns(msg)
    assert parsed.answers[0].name == "example.com" and parsed.answers[0].value == "1.2.3.4"


def test_nxdomain() -> None:
    msg = parse_dns(bytes(DNS(qr=1, rcode=3, qd=DNSQR(qname="nope.example"))))
    assert msg.rcode == 3 and msg.answers == []


def test_dns_over_tcp_length_prefixed() -> None:
    one = bytes(DNS(id=1, qd=DNSQR(qname="a.example")))
    two = bytes(DNS(id=2, qd=DNSQR(qname="b.example", qtype="TXT")))
    segment = len(one).to_bytes(2, "big") + one + len(two).to_bytes(2, "big") + two
    msgs = parse_dns_over_tcp(segment)
    assert [(m.id, m.questions) for m in msgs] == [(1, [("a.example", 1)]), (2, [("b.example", 16)])]


def test_dhcp_request_fields() -> None:
    dhcp = BOOTP(op=1, chaddr=bytes.fromhex("3c22fb123456"), ciaddr="0.0.0.0") / DHCP(
        options=[
            ("message-type", "request"),
            ("hostname", "Annas-iPhone"),
            ("requested_addr", "192.168.1.23"),
            ("server_id", "192.168.1.1"),
            ("param_req_list", [1, 121, 3, 6, 15, 119, 252]),
            ("vendor_class_id", "android-dhcp-13"),
            "end",
        ]
    )
    msg = parse_dhcp(bytes(dhcp))
    assert msg.message_type == 3 and mac_text(known(msg.client_mac)) == MAC
    assert msg.hostname == "Annas-iPhone" and msg.vendor_class == "android-dhcp-13"
    assert (
        ip_text(known(msg.requested_ip)) == "192.168.1.23" and ip_text(known(msg.server_id)) == "192.168.1.1"
    )
    assert msg.param_request_list == [1, 121, 3, 6, 15, 119, 252]


def test_dhcp_offer_fields() -> None:
    dhcp = BOOTP(op=2, yiaddr="192.168.1.23", chaddr=bytes.fromhex("3c22fb123456")) / DHCP(
        options=[
            ("message-type", "offer"),
            ("server_id", "192.168.1.1"),
            ("router", "192.168.1.1"),
            ("name_server", "192.168.1.1", "9.9.9.9"),
            ("lease_time", 86400),
            "end",
        ]
    )
    msg = parse_dhcp(bytes(dhcp))
    assert msg.message_type == 2 and ip_text(known(msg.your_ip)) == "192.168.1.23"
    assert [ip_text(i) for i in msg.dns_servers] == ["192.168.1.1", "9.9.9.9"]
    assert msg.lease_time == 86400 and [ip_text(i) for i in msg.routers] == ["192.168.1.1"]


def test_ssdp_notify() -> None:
    text = (
        b"NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nNT: upnp:rootdevice\r\n"
        b"NTS: ssdp:alive\r\nLOCATION: http://192.168.1.1:5000/rootDesc.xml\r\n"
        b"SERVER: Linux/3.14 UPnP/1.0 MiniUPnPd/1.9\r\nUSN: uuid:abc::upnp:rootdevice\r\n\r\n"
    )
    msg = parse_ssdp(text)
    assert msg.method == "NOTIFY"
    assert msg.headers["server"] == "Linux/3.14 UPnP/1.0 MiniUPnPd/1.9"
    assert msg.headers["location"] == "http://192.168.1.1:5000/rootDesc.xml"


def test_ssdp_response() -> None:
    msg = parse_ssdp(b"HTTP/1.1 200 OK\r\nST: upnp:rootdevice\r\nSERVER: x\r\n\r\n")
    assert msg.method == "RESPONSE" and msg.headers["st"] == "upnp:rootdevice"


def test_fragmented_dns_answer_is_reassembled() -> None:
    big = DNS(
        id=9,
        qr=1,
        qd=DNSQR(qname="big.example"),
        an=[DNSRR(rrname="big.example", type="TXT", rdata="x" * 200) for _ in range(8)],
    )
    packet = IP(src="192.168.1.1", dst="192.168.1.20", id=4242) / UDP(sport=53, dport=5000) / big
    pieces = [decode(Ether() / p) for p in fragment(packet, fragsize=400)]
    assert len(pieces) > 2 and all(p.fragment for p in pieces)
    reassembler = FragmentReassembler()
    whole = None
    for piece in reversed(pieces):  # out of order on purpose
        whole = reassembler.add(piece, 0.0) or whole
    assert whole is not None and whole.sport == 53
    assert parse_dns(whole.payload()).id == 9 and len(reassembler) == 0


def test_tcp_payload_offsets() -> None:
    pkt = decode(Ether() / IP() / TCP(sport=1, dport=2, options=[("MSS", 1460)]) / Raw(b"GET / HTTP/1.1\r\n"))
    assert pkt.payload() == b"GET / HTTP/1.1\r\n"


def test_ja4_matches_a_published_fingerprint_and_the_specs_edge_cases() -> None:
    from homeguard.decode.tls import ClientHello, ja4_alpn

    # A Chrome hello published with its JA4 and JA4_r (the raw lists the hashes are of).
    ciphers = [0x1301, 0x1302, 0x1303, 0xC02B, 0xC02F, 0xC02C, 0xC030, 0xCCA9, 0xCCA8, 0xC013, 0xC014,
               0x009C, 0x009D, 0x002F, 0x0035]  # fmt: skip
    extensions = [0x002D, 0x0033, 0x0010, 0xFE0D, 0x0017, 0x44CD, 0x0000, 0x000B, 0x000A, 0x002B, 0xFF01,
                  0x0023, 0x0012, 0x0005, 0x000D, 0x001B]  # fmt: skip
    sigs = [0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601]
    chrome = ClientHello(0x0303, [0x5A5A, *ciphers], [0x3A3A, *extensions], sni="tls.example", alpn=["h2"],
                         supported_versions=[0x0304, 0x0303], signature_algorithms=sigs,
                         first_alpn=b"h2")  # fmt: skip
    assert chrome.ja4() == "t13d1516h2_8daaf6152771_d8a2da3f94cd"
    # Only SNI and ALPN: nothing to hash in the third part, as with no extensions at all.
    bare = ClientHello(0x0303, ciphers, [0x0000, 0x0010], sni="a.example", alpn=["h2"], first_alpn=b"h2")
    assert bare.ja4().endswith("_000000000000")
    assert ClientHello(0x0303, ciphers, []).ja4().endswith("_000000000000")
    # The ALPN characters, with the spec's own examples.
    cases = {b"": "00", b"h2": "h2", b"http/1.1": "h1", b"x": "xx", b"\xab": "ab", b"\xab\xcd": "ad",
             b"\x30\xab": "3b", b"\x30\x31\xab\xcd": "3d", b"\x30\xab\xcd\x31": "01"}  # fmt: skip
    assert {value: ja4_alpn(value) for value in cases} == cases


def test_tunnels_are_opened_to_the_packet_inside() -> None:
    """6in4, 4in6, GRE (with key and sequence), VXLAN (ARP inside too) and GTP-U."""
    import struct

    from scapy.all import GRE, VXLAN  # type: ignore[attr-defined]

    from homeguard.decode.link import ETH_ARP

    outer = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
    inner_tcp = IPv6(src="2001:db8::20", dst="2001:db8::80") / TCP(sport=40000, dport=443)
    inner_dns = IP(src="192.168.1.20", dst="192.168.1.1") / UDP(sport=5353, dport=53) / (b"x" * 12)
    gtp = b"\x30\xff" + struct.pack("!HI", len(bytes(inner_dns)), 7) + bytes(inner_dns)
    cases = {
        "6in4": outer / IP(src="198.51.100.1", dst="203.0.113.1", proto=41) / inner_tcp,
        "4in6": outer / IPv6(src="2001:db8::1", dst="2001:db8::2", nh=4) / inner_dns,
        "gre": outer / IP(src="198.51.100.1", dst="203.0.113.1")
        / GRE(key_present=1, key=9, seqnum_present=1) / inner_dns,
        "gtp-u": outer / IP(src="10.0.0.1", dst="10.0.0.2") / UDP(sport=2152, dport=2152) / gtp,
    }  # fmt: skip
    for name, packet in cases.items():
        raw = bytes(packet)
        pkt = decode_frame(1, raw, len(raw))
        assert pkt is not None and pkt.src_ip is not None, name
        if name == "6in4":
            assert (ip_text(pkt.src_ip), pkt.dport, pkt.proto) == ("2001:db8::20", 443, 6), name
        else:
            assert (ip_text(pkt.src_ip), pkt.dport, pkt.proto) == ("192.168.1.20", 53, 17), name
    vxlan = (
        outer / IP(src="10.0.0.1", dst="10.0.0.2") / UDP(sport=50000, dport=4789) / VXLAN(vni=42)
        / Ether(src="3c:22:fb:00:00:01", dst="ff:ff:ff:ff:ff:ff")
        / ARP(psrc="192.168.1.20", pdst="192.168.1.1")
    )  # fmt: skip
    raw = bytes(vxlan)
    pkt = decode_frame(1, raw, len(raw))
    assert pkt is not None and pkt.ethertype == ETH_ARP and pkt.src_mac == bytes.fromhex("3c22fb000001")
    nested = bytes(outer / IP(proto=4) / IP(proto=4) / IP(proto=4) / IP(proto=4) / IP(proto=4) / UDP())
    deepest = decode_frame(1, nested, len(nested))
    assert deepest is not None and deepest.proto == 4  # three tunnels opened, then no further


def test_address_texts_turn_back_into_their_bytes_and_anything_else_into_none() -> None:
    for raw in (bytes([192, 168, 1, 20]), bytes.fromhex("20010db8000000000000000000000001")):
        assert ip_bytes(ip_text(raw)) == raw
    mac = bytes.fromhex("02aabbccddee")
    assert mac_bytes(mac_text(mac)) == mac
    not_addresses: list[object] = ["", "printer.home", "10.0.0.256", "fe80::1%eth0", None, 3]
    assert [ip_bytes(text) for text in not_addresses] == [None] * len(not_addresses)
    not_macs: list[object] = ["", "02:aa:bb", "zz:aa:bb:cc:dd:ee", None, b"\x02\xaa\xbb\xcc\xdd\xee"]
    assert [mac_bytes(text) for text in not_macs] == [None] * len(not_macs)
