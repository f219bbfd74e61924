"""Crafted application conversations: real TCP handshakes and segments built with scapy,
with payloads written by hand from the protocols' specifications."""

from __future__ import annotations

import struct
from typing import Any

from scapy.all import IP, TCP, UDP, Ether  # type: ignore[attr-defined]

CLIENT_MAC, SERVER_MAC = "3c:22:fb:00:00:01", "00:1b:a9:00:00:50"
CLIENT_IP, SERVER_IP = "192.168.1.20", "192.168.1.50"


Endpoint = tuple[str, str]  # (MAC, IP) as seen on the wire: an internet server has the router's MAC


def tcp_conversation(
    messages: list[tuple[bool, bytes]],
    dport: int,
    sport: int = 40000,
    split: int = 0,
    client: Endpoint = (CLIENT_MAC, CLIENT_IP),
    server: Endpoint = (SERVER_MAC, SERVER_IP),
) -> list[Any]:
    """Handshake, then each (from_client, payload) as segments (split into pieces of
    `split` bytes when given), with ACKs and correct sequence numbers, then FIN both ways."""
    up = Ether(src=client[0], dst=server[0]) / IP(src=client[1], dst=server[1])
    down = Ether(src=server[0], dst=client[0]) / IP(src=server[1], dst=client[1])
    cseq, sseq = 1000, 5000
    packets = [
        up / TCP(sport=sport, dport=dport, flags="S", seq=cseq - 1),
        down / TCP(sport=dport, dport=sport, flags="SA", seq=sseq - 1, ack=cseq),
        up / TCP(sport=sport, dport=dport, flags="A", seq=cseq, ack=sseq),
    ]
    for from_client, payload in messages:
        pieces = [payload[i : i + split] for i in range(0, len(payload), split)] if split else [payload]
        for piece in pieces:
            if from_client:
                packets.append(up / TCP(sport=sport, dport=dport, flags="PA", seq=cseq, ack=sseq) / piece)
                cseq += len(piece)
            else:
                packets.append(down / TCP(sport=dport, dport=sport, flags="PA", seq=sseq, ack=cseq) / piece)
                sseq += len(piece)
    packets += [
        up / TCP(sport=sport, dport=dport, flags="FA", seq=cseq, ack=sseq),
        down / TCP(sport=dport, dport=sport, flags="FA", seq=sseq, ack=cseq + 1),
        up / TCP(sport=sport, dport=dport, flags="A", seq=cseq + 1, ack=sseq + 1),
    ]
    return packets


def udp_packet(payload: bytes, dport: int, sport: int = 40001, to_server: bool = True) -> Any:
    if to_server:
        return (
            Ether(src=CLIENT_MAC, dst=SERVER_MAC)
            / IP(src=CLIENT_IP, dst=SERVER_IP)
            / UDP(sport=sport, dport=dport)
            / payload
        )
    return (
        Ether(src=SERVER_MAC, dst=CLIENT_MAC)
        / IP(src=SERVER_IP, dst=CLIENT_IP)
        / UDP(sport=dport, dport=sport)
        / payload
    )


def _ext(kind: int, body: bytes) -> bytes:
    return struct.pack("!HH", kind, len(body)) + body


def _u16s(values: list[int]) -> bytes:
    return b"".join(struct.pack("!H", v) for v in values)


CLIENT_HELLO_CIPHERS = [0x0A0A, 0x1301, 0xC02F]
CLIENT_HELLO_GROUPS = [0x0A0A, 29, 23]
CLIENT_HELLO_SIGALGS = [0x0403, 0x0804]


def client_hello(
    sni: str = "camera.example.com",
    alpn: tuple[str, ...] = ("h2", "http/1.1"),
    versions: tuple[int, ...] = (0x0A0A, 0x0304, 0x0303),
    legacy: int = 0x0303,
) -> bytes:
    """A TLS record holding a ClientHello, GREASE values included (JA3/JA4 leave them out)."""
    name = sni.encode()
    alpn_list = b"".join(bytes([len(p)]) + p.encode() for p in alpn)
    extensions = b"".join(
        [
            _ext(0x0A0A, b""),
            _ext(0, struct.pack("!HBH", len(name) + 3, 0, len(name)) + name),
            _ext(10, struct.pack("!H", 2 * len(CLIENT_HELLO_GROUPS)) + _u16s(CLIENT_HELLO_GROUPS)),
            _ext(11, b"\x01\x00"),
            _ext(13, struct.pack("!H", 2 * len(CLIENT_HELLO_SIGALGS)) + _u16s(CLIENT_HELLO_SIGALGS)),
            _ext(16, struct.pack("!H", len(alpn_list)) + alpn_list),
            _ext(43, bytes([2 * len(versions)]) + _u16s(list(versions))),
        ]
    )
    body = (
        struct.pack("!H", legacy)
        + b"\x11" * 32
        + b"\x00"
        + struct.pack("!H", 2 * len(CLIENT_HELLO_CIPHERS))
        + _u16s(CLIENT_HELLO_CIPHERS)
        + b"\x01\x00"
        + struct.pack("!H", len(extensions))
        + extensions
    )
    handshake = b"\x01" + len(body).to_bytes(3, "big") + body
    return b"\x16\x03\x01" + struct.pack("!H", len(handshake)) + handshake


def server_hello_and_certificate(version: int = 0x0301, cipher: int = 0x0035, cert_der: bytes = b"") -> bytes:
    """ServerHello (TLS 1.0 by default), then Certificate and ServerHelloDone, in one record."""
    body = struct.pack("!H", version) + b"\x22" * 32 + b"\x00" + struct.pack("!HB", cipher, 0)
    hello = b"\x02" + len(body).to_bytes(3, "big") + body
    messages = hello
    if cert_der:
        chain = len(cert_der).to_bytes(3, "big") + cert_der
        cert_body = len(chain).to_bytes(3, "big") + chain
        messages += b"\x0b" + len(cert_body).to_bytes(3, "big") + cert_body
    messages += b"\x0e\x00\x00\x00"
    return b"\x16" + struct.pack("!HH", version, len(messages)) + messages


def _mqtt_string(value: bytes) -> bytes:
    return struct.pack("!H", len(value)) + value


def mqtt_connect(client_id: bytes, user: bytes, password: bytes) -> bytes:
    """An MQTT 3.1.1 CONNECT with a user name and password."""
    payload = (
        _mqtt_string(b"MQTT")
        + bytes([4, 0xC2])
        + struct.pack("!H", 60)
        + _mqtt_string(client_id)
        + _mqtt_string(user)
        + _mqtt_string(password)
    )
    return bytes([0x10, len(payload)]) + payload


def smb1_negotiate(*dialects: str) -> bytes:
    """An SMBv1 Negotiate Protocol request behind its NetBIOS session header."""
    data = b"".join(b"\x02" + d.encode() + b"\x00" for d in dialects)
    message = b"\xffSMB\x72" + b"\x00" * 27 + b"\x00" + struct.pack("<H", len(data)) + data
    return struct.pack("!I", len(message)) + message


def pcp_map_request(internal_port: int, external_port: int, lifetime: int = 3600) -> bytes:
    """A PCP MAP request (RFC 6887) for TCP, from 192.168.1.20 as an IPv4-mapped address."""
    client = b"\x00" * 10 + b"\xff\xff" + bytes([192, 168, 1, 20])
    nonce = b"\x01" * 12
    return (
        struct.pack("!BBHI", 2, 1, 0, lifetime)
        + client
        + nonce
        + struct.pack("!B3xHH", 6, internal_port, external_port)
        + b"\x00" * 16
    )


def http_message(*lines: str, body: bytes = b"") -> bytes:
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def application_samples(cert_der: bytes) -> list[Any]:
    """One conversation of every application protocol HomeGuard reads, for the catalog test."""
    import base64

    from scapy.all import SNMP, SNMPget, SNMPvarbind  # type: ignore[attr-defined]

    tls13 = struct.pack("!H", 0x0303) + b"\x01" * 32 + b"\x00" + struct.pack("!HB", 0x1301, 0)
    tls13 += struct.pack("!H", 6) + struct.pack("!HHH", 43, 2, 0x0304)
    tls13_record = (
        b"\x16\x03\x03" + struct.pack("!H", len(tls13) + 4) + b"\x02" + len(tls13).to_bytes(3, "big") + tls13
    )
    sslv2 = (
        bytes([0x80, 0x2E, 0x01, 0x03, 0x01, 0x00, 0x15, 0x00, 0x00, 0x00, 0x10])
        + b"\x00\x00\x39" * 7
        + b"\x00" * 16
    )
    form = b"user=anna&password=x"
    soap = (
        b"<NewExternalPort>8080</NewExternalPort><NewProtocol>UDP</NewProtocol><NewInternalPort>80</NewInternalPort>"
        b"<NewInternalClient>192.168.1.9</NewInternalClient><NewLeaseDuration>60</NewLeaseDuration>"
        b"<NewPortMappingDescription>x</NewPortMappingDescription>"
    )
    http = [
        (
            True,
            http_message(
                "POST /login?mac=aa:bb:cc:dd:ee:ff HTTP/1.1",
                "Host: nas.local",
                "User-Agent: ua",
                "Content-Type: application/x-www-form-urlencoded",
                f"Content-Length: {len(form)}",
                f"Authorization: Basic {base64.b64encode(b'admin:admin').decode()}",
                body=form,
            ),
        ),
        (False, http_message("HTTP/1.1 200 OK", "Server: mini_httpd", "Content-Length: 0")),
        (
            True,
            http_message("GET /generate_204 HTTP/1.1", "Host: connectivitycheck.gstatic.com"),
        ),
        (
            True,
            http_message(
                "POST /ctl HTTP/1.1",
                "Host: r",
                'SOAPAction: "x#AddPortMapping"',
                f"Content-Length: {len(soap)}",
                body=soap,
            ),
        ),
    ]
    return [
        *tcp_conversation(
            [(True, client_hello()), (False, server_hello_and_certificate(0x0301, 0x0035, cert_der))],
            dport=443,
            sport=41000,
        ),
        *tcp_conversation(
            [(True, client_hello(sni="www.youtube.com")), (False, tls13_record)], dport=443, sport=41001
        ),
        *tcp_conversation([(True, sslv2)], dport=443, sport=41002),
        *tcp_conversation(http, dport=80, sport=41003),
        *tcp_conversation(
            [(False, b"220 ftp\r\n"), (True, b"USER a\r\n"), (True, b"PASS b\r\n")], dport=21, sport=41004
        ),
        *tcp_conversation(
            [(False, b"+OK\r\n"), (True, b"USER a\r\n"), (True, b"PASS b\r\n")], dport=110, sport=41005
        ),
        *tcp_conversation([(False, b"* OK\r\n"), (True, b"a LOGIN u p\r\n")], dport=143, sport=41006),
        *tcp_conversation(
            [(False, b"220 smtp\r\n"), (True, b"MAIL FROM:<a@b.example>\r\n")], dport=25, sport=41007
        ),
        *tcp_conversation([(False, b"SSH-2.0-OpenSSH_7.4\r\n")], dport=22, sport=41008),
        *tcp_conversation([(True, mqtt_connect(b"c", b"u", b"p"))], dport=1883, sport=41009),
        *tcp_conversation([(True, smb1_negotiate("NT LM 0.12"))], dport=445, sport=41010),
        udp_packet(
            bytes(SNMP(community="public", PDU=SNMPget(varbindlist=[SNMPvarbind(oid="1.3.6.1")]))), dport=161
        ),
        udp_packet(pcp_map_request(80, 8080), dport=5351),
        *(udp_packet(d, dport=443, sport=41011) for d in quic_initials(client_hello(alpn=("h3",)))),
        udp_packet(dtls_record(client_hello(versions=(), legacy=0x0303)), dport=3478, sport=41012),
    ]


def dtls_record(tls_record: bytes, version: int = 0xFEFD) -> bytes:
    """A TLS ClientHello record as DTLS sends it: DTLS's version, an empty cookie, and the
    record and handshake headers with their epoch, sequence and fragment fields."""
    body = tls_record[9:]
    body = struct.pack("!H", version) + body[2:35] + b"\x00" + body[35:]
    size = len(body).to_bytes(3, "big")
    record = b"\x01" + size + b"\x00\x00" + b"\x00\x00\x00" + size + body
    return b"\x16\xfe\xff" + b"\x00" * 8 + struct.pack("!H", len(record)) + record


def quic_initials(hello_record: bytes) -> list[bytes]:
    from tests.quic import client_initials

    return client_initials(hello_record, bytes.fromhex("8394c8f03e515708"))


def dated_certificate(not_before: float, not_after: float) -> bytes:
    """A self-signed certificate (DER) valid between the two times: packet time, not the clock."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "camera.home.test")])

    def when(ts: float) -> datetime.datetime:
        return datetime.datetime.fromtimestamp(ts, datetime.UTC)

    builder = x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
    builder = builder.serial_number(1).not_valid_before(when(not_before)).not_valid_after(when(not_after))
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)
