"""Application decoders on crafted conversations: TLS, HTTP, logins in clear text,
port mappings. And the rule that matters most: no password ever reaches an event."""

from __future__ import annotations

import base64
import hashlib
import json
import struct
from pathlib import Path
from typing import Any

import pytest
from scapy.all import SNMP, SNMPget, SNMPvarbind  # type: ignore[attr-defined]

from tests.conftest import TS0, frames_of, make_certificate, run_pipeline
from tests.conversations import (
    CLIENT_HELLO_CIPHERS,
    CLIENT_HELLO_GROUPS,
    CLIENT_HELLO_SIGALGS,
    client_hello,
    dated_certificate,
    mqtt_connect,
    pcp_map_request,
    server_hello_and_certificate,
    smb1_negotiate,
    tcp_conversation,
    udp_packet,
)

SECRET = "S3cret-Hunter2"


def events_of(packets: list[Any]) -> list[dict[str, Any]]:
    _pipeline, events = run_pipeline(frames_of(packets))
    return events


def of_type(events: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [e for e in events if e["type"] == kind]


def assert_no_secret(events: list[dict[str, Any]], *secrets: str) -> None:
    text = json.dumps(events)
    for secret in (SECRET, *secrets):
        assert secret not in text
        assert base64.b64encode(secret.encode()).decode() not in text


def test_tls_client_hello_fields_and_fingerprints_by_the_specification() -> None:
    events = events_of(tcp_conversation([(True, client_hello())], dport=443))
    (hello,) = of_type(events, "tls_client_hello")
    assert hello["tls.sni"] == "camera.example.com" and hello["tls.alpn"] == ["h2", "http/1.1"]
    assert hello["tls.version"] == "0x0303" and hello["tls.supported_versions"] == [
        "0x0a0a",
        "0x0304",
        "0x0303",
    ]
    # JA3: version, then ciphers, extensions, groups, point formats without GREASE, as decimals.
    ja3 = "771,4865-49199,0-10-11-13-16-43,29-23,0"
    assert hello["tls.ja3"] == hashlib.md5(ja3.encode()).hexdigest()
    ciphers = ",".join(f"{c:04x}" for c in sorted(CLIENT_HELLO_CIPHERS[1:]))
    extensions = ",".join(f"{e:04x}" for e in sorted([10, 11, 13, 43]))
    sigalgs = ",".join(f"{s:04x}" for s in CLIENT_HELLO_SIGALGS)
    ja4_b = hashlib.sha256(ciphers.encode()).hexdigest()[:12]
    ja4_c = hashlib.sha256(f"{extensions}_{sigalgs}".encode()).hexdigest()[:12]
    assert hello["tls.ja4"] == f"t13d0206h2_{ja4_b}_{ja4_c}"  # 2 ciphers, 6 extensions: GREASE left out
    assert len(CLIENT_HELLO_GROUPS) == 3


@pytest.mark.parametrize("split", [7, 100])
def test_a_client_hello_split_over_segments_still_decodes(split: int) -> None:
    events = events_of(tcp_conversation([(True, client_hello())], dport=8443, split=split))
    assert of_type(events, "tls_client_hello")[0]["tls.sni"] == "camera.example.com"


def test_reordered_segments_are_put_back_in_order() -> None:
    packets = tcp_conversation([(True, client_hello())], dport=443, split=40)
    data = packets[3:-3]
    packets[3:-3] = [data[0], *data[1:][::-1]]  # after the first segment, the rest arrive backwards
    assert of_type(events_of(packets), "tls_client_hello")[0]["tls.sni"] == "camera.example.com"


@pytest.fixture(scope="module")
def certificate_der(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return make_certificate(tmp_path_factory.mktemp("cert"), "/CN=camera.home.test/O=Acme Cams").read_bytes()


def test_server_hello_tls10_and_self_signed_certificate(certificate_der: bytes) -> None:
    events = events_of(
        tcp_conversation(
            [(True, client_hello()), (False, server_hello_and_certificate(0x0301, 0x0035, certificate_der))],
            dport=443,
            split=500,
        )
    )
    (server,) = of_type(events, "tls_server_hello")
    assert (server["tls.negotiated_version"], server["tls.negotiated_name"]) == ("0x0301", "TLS 1.0")
    assert server["tls.cipher"] == "0x0035" and server["tls.sni"] == "camera.example.com"
    (cert,) = of_type(events, "tls_certificate")
    assert cert["tls.cert_subject"] == "CN=camera.home.test, O=Acme Cams"
    assert cert["tls.cert_self_signed"] is True and cert["tls.cert_expired"] is False
    assert cert["tls.cert_not_after"] - cert["tls.cert_not_before"] == pytest.approx(86400, abs=2)


def test_tls13_server_hello_reports_the_selected_version() -> None:
    body = struct.pack("!H", 0x0303) + b"\x01" * 32 + b"\x00" + struct.pack("!HB", 0x1301, 0)
    body += struct.pack("!H", 6) + struct.pack("!HHH", 43, 2, 0x0304)
    record = (
        b"\x16\x03\x03" + struct.pack("!H", len(body) + 4) + b"\x02" + len(body).to_bytes(3, "big") + body
    )
    events = events_of(tcp_conversation([(True, client_hello()), (False, record)], dport=443))
    (server,) = of_type(events, "tls_server_hello")
    assert server["tls.version"] == "0x0303" and server["tls.negotiated_name"] == "TLS 1.3"


def http(*lines: str, body: bytes = b"") -> bytes:
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def test_http_request_response_basic_auth_and_known_default() -> None:
    auth = base64.b64encode(b"admin:admin").decode()
    events = events_of(
        tcp_conversation(
            [
                (
                    True,
                    http(
                        "GET /cgi-bin/status?x=1 HTTP/1.1",
                        "Host: cam.local",
                        "User-Agent: curl/8",
                        f"Authorization: Basic {auth}",
                    ),
                ),
                (False, http("HTTP/1.1 200 OK", "Server: GoAhead-Webs", "Content-Length: 2", body=b"ok")),
            ],
            dport=80,
            split=20,
        )
    )
    request, response = of_type(events, "http")
    assert (request["http.method"], request["http.uri"], request["http.host"]) == (
        "GET",
        "/cgi-bin/status?x=1",
        "cam.local",
    )
    assert request["http.user_agent"] == "curl/8" and request["http.authorization"] == "Basic"
    assert (response["http.status"], response["http.server"]) == (200, "GoAhead-Webs")
    (login,) = of_type(events, "auth")
    assert login == {
        **login,
        "auth.protocol": "http",
        "auth.method": "Basic",
        "auth.username": "admin",
        "auth.password_seen": True,
        "auth.default_credentials": True,
    }
    assert_no_secret(events, auth)


def test_form_login_pii_and_soap_port_mapping() -> None:
    form = f"username=anna&password={SECRET}&remember=1".encode()
    soap = (
        b'<?xml version="1.0"?><s:Envelope><s:Body><u:AddPortMapping xmlns:u="urn:schemas-upnp-org:'
        b'service:WANIPConnection:1"><NewRemoteHost></NewRemoteHost><NewExternalPort>8080</NewExternalPort>'
        b"<NewProtocol>TCP</NewProtocol><NewInternalPort>80</NewInternalPort><NewInternalClient>192.168.1.50"
        b"</NewInternalClient><NewEnabled>1</NewEnabled><NewPortMappingDescription>cam</NewPortMappingDescription>"
        b"<NewLeaseDuration>0</NewLeaseDuration></u:AddPortMapping></s:Body></s:Envelope>"
    )
    events = events_of(
        tcp_conversation(
            [
                (
                    True,
                    http(
                        "POST /login HTTP/1.1",
                        "Host: nas.local",
                        "Content-Type: application/x-www-form-urlencoded",
                        f"Content-Length: {len(form)}",
                        body=form,
                    ),
                ),
                (
                    True,
                    http(
                        "GET /track?email=anna.jansen%40example.nl&lat=52.3702&lon=4.8952 HTTP/1.1",
                        "Host: t.example",
                    ),
                ),
                (
                    True,
                    http(
                        "POST /ctl/IPConn HTTP/1.1",
                        "Host: 192.168.1.1:5000",
                        'SOAPAction: "urn:schemas-upnp-org:service:WANIPConnection:1#AddPortMapping"',
                        "Content-Type: text/xml",
                        f"Content-Length: {len(soap)}",
                        body=soap,
                    ),
                ),
            ],
            dport=80,
            split=64,
        )
    )
    (login,) = of_type(events, "auth")
    assert (login["auth.method"], login["auth.username"], login["auth.password_seen"]) == (
        "form",
        "anna",
        True,
    )
    kinds = {(e["pii.kind"], e["pii.sample"]) for e in of_type(events, "pii")}
    assert kinds == {("email", "a***@example.nl"), ("gps", "52.3…,4.89…")}
    (mapping,) = of_type(events, "port_mapping")
    assert {k: mapping[k] for k in mapping if k.startswith("mapping.")} == {
        "mapping.method": "upnp",
        "mapping.action": "add",
        "mapping.protocol": "tcp",
        "mapping.external_port": 8080,
        "mapping.internal_port": 80,
        "mapping.internal_client": "192.168.1.50",
        "mapping.lifetime": 0,
        "mapping.description": "cam",
    }
    assert_no_secret(events, "anna.jansen", "52.3702")
    assert of_type(events, "http")[1]["http.uri"] == "/track?email=a***@example.nl&lat=52.3…&lon=4.89…"


def test_ftp_login_commands_and_banner() -> None:
    events = events_of(
        tcp_conversation(
            [
                (False, b"220 (vsFTPd 2.3.4)\r\n"),
                (True, b"USER root\r\n"),
                (False, b"331 Password\r\n"),
                (True, b"PASS xc3511\r\n"),
                (False, b"230 ok\r\n"),
                (True, b"RETR /etc/passwd\r\n"),
            ],
            dport=21,
        )
    )
    assert [(e["ftp.command"], e.get("ftp.arg")) for e in of_type(events, "ftp")] == [
        ("USER", "root"),
        ("PASS", None),
        ("RETR", "/etc/passwd"),
    ]
    (login,) = of_type(events, "auth")
    assert (login["auth.username"], login["auth.default_credentials"]) == ("root", True)
    assert of_type(events, "banner")[0]["banner.text"] == "220 (vsFTPd 2.3.4)"
    assert_no_secret(events, "xc3511")


def test_pop3_imap_and_smtp_logins() -> None:
    plain = base64.b64encode(f"\0anna\0{SECRET}".encode()).decode()
    pop3 = tcp_conversation(
        [(False, b"+OK ready\r\n"), (True, b"USER anna\r\n"), (True, f"PASS {SECRET}\r\n".encode())],
        dport=110,
        sport=40010,
    )
    imap = tcp_conversation(
        [(False, b"* OK IMAP4rev1\r\n"), (True, f'a1 LOGIN "anna" "{SECRET}"\r\n'.encode())],
        dport=143,
        sport=40011,
    )
    smtp = tcp_conversation(
        [
            (False, b"220 mail ESMTP\r\n"),
            (True, b"EHLO me\r\n"),
            (True, b"AUTH LOGIN\r\n"),
            (False, b"334 VXNlcm5hbWU6\r\n"),
            (True, base64.b64encode(b"bob") + b"\r\n"),
            (False, b"334 UGFzc3dvcmQ6\r\n"),
            (True, base64.b64encode(SECRET.encode()) + b"\r\n"),
            (False, b"235 ok\r\n"),
            (True, f"AUTH PLAIN {plain}\r\n".encode()),
            (True, b"MAIL FROM:<bob@example.org>\r\n"),
            (True, b"DATA\r\n"),
            (False, b"354 go\r\n"),
            (True, b"RCPT TO:<not-a-command@example.org>\r\nhello\r\n.\r\n"),
            (True, b"QUIT\r\n"),
        ],
        dport=25,
        sport=40012,
    )
    events = events_of(pop3 + imap + smtp)
    logins = sorted(
        (e["auth.protocol"], e["auth.method"], e["auth.username"]) for e in of_type(events, "auth")
    )
    assert logins == [
        ("imap", "LOGIN", "anna"),
        ("pop3", "USER/PASS", "anna"),
        ("smtp", "AUTH LOGIN", "bob"),
        ("smtp", "AUTH PLAIN", "anna"),
    ]
    assert of_type(events, "imap")[0]["imap.request"] == 'a1 LOGIN "anna" <redacted>'
    assert [e["smtp.command"] for e in of_type(events, "smtp")] == [
        "EHLO",
        "AUTH",
        "AUTH",
        "MAIL",
        "DATA",
        "QUIT",
    ]
    assert_no_secret(events, plain)


def test_telnet_prompt_driven_login_typed_one_key_at_a_time() -> None:
    iac_will_echo = b"\xff\xfb\x01"
    typed_user = [(True, bytes([c])) for c in b"admin"] + [(True, b"\r\n")]
    typed_password = [(True, bytes([c])) for c in SECRET.encode()] + [(True, b"\r\n")]
    events = events_of(
        tcp_conversation(
            [
                (False, iac_will_echo + b"camera login: "),
                *typed_user,
                (False, b"\r\nPassword: "),
                *typed_password,
                (False, b"\r\n# "),
            ],
            dport=23,
        )
    )
    (login,) = of_type(events, "auth")
    assert (login["auth.protocol"], login["auth.username"], login["auth.password_seen"]) == (
        "telnet",
        "admin",
        True,
    )
    assert login["auth.default_credentials"] is False
    assert_no_secret(events)


def test_ssh_banners_mqtt_connect_and_smb1_negotiate() -> None:
    ssh = tcp_conversation(
        [(False, b"SSH-2.0-dropbear_2012.55\r\n"), (True, b"SSH-2.0-OpenSSH_9.6\r\n")], dport=22
    )
    mqtt = tcp_conversation(
        [(True, mqtt_connect(b"kitchen-1", b"sensor", SECRET.encode()))], dport=1883, sport=40020
    )
    smb = tcp_conversation(
        [(True, smb1_negotiate("PC NETWORK PROGRAM 1.0", "NT LM 0.12"))], dport=445, sport=40021
    )
    events = events_of(ssh + mqtt + smb)
    assert {e["banner.software"] for e in of_type(events, "banner")} == {"dropbear_2012.55", "OpenSSH_9.6"}
    assert of_type(events, "mqtt")[0]["mqtt.client_id"] == "kitchen-1"
    assert of_type(events, "auth")[0]["auth.username"] == "sensor"
    assert of_type(events, "smb")[0]["smb.dialects"] == ["PC NETWORK PROGRAM 1.0", "NT LM 0.12"]
    assert_no_secret(events)


def test_snmp_community_nat_pmp_and_pcp() -> None:
    snmp = udp_packet(
        bytes(SNMP(community="public", PDU=SNMPget(varbindlist=[SNMPvarbind(oid="1.3.6.1.2.1.1.1.0")]))),
        dport=161,
    )
    natpmp = udp_packet(struct.pack("!BBHHHI", 0, 2, 0, 22, 2222, 7200), dport=5351)
    pcp = udp_packet(pcp_map_request(80, 8080), dport=5351, sport=40030)
    events = events_of([snmp, natpmp, pcp])
    (snmp_event,) = of_type(events, "snmp")
    assert (snmp_event["snmp.version"], snmp_event["snmp.pdu"]) == ("2c", "get") or snmp_event[
        "snmp.version"
    ] == "1"
    (login,) = of_type(events, "auth")
    assert login["auth.protocol"] == "snmp" and login["auth.default_credentials"] is True
    mappings = [
        (e["mapping.method"], e["mapping.protocol"], e["mapping.internal_port"], e["mapping.external_port"])
        for e in of_type(events, "port_mapping")
    ]
    assert mappings == [("nat-pmp", "tcp", 22, 2222), ("pcp", "tcp", 80, 8080)]
    assert_no_secret(events, "public")


def test_starttls_switches_to_reading_tls() -> None:
    events = events_of(
        tcp_conversation(
            [
                (False, b"220 mail ESMTP\r\n"),
                (True, b"EHLO me\r\n"),
                (True, b"STARTTLS\r\n"),
                (False, b"220 go ahead\r\n"),
                (True, client_hello(sni="mail.example.org")),
            ],
            dport=587,
        )
    )
    assert of_type(events, "tls_client_hello")[0]["tls.sni"] == "mail.example.org"


def test_lost_segment_acknowledged_by_the_peer_does_not_stall_the_reader() -> None:
    packets = tcp_conversation(
        [(True, b"USER a\r\n"), (True, b"CWD lost\r\n"), (False, b"250 ok\r\n"), (True, b"CWD after\r\n")],
        dport=21,
    )
    del packets[4]  # the capture missed "CWD lost"; the server's reply acknowledges it
    events = events_of(packets)
    commands = [
        (e["ftp.command"], e["ftp.arg"], e.get("capture.frame", None)) for e in of_type(events, "ftp")
    ]
    assert [c[:2] for c in commands] == [("USER", "a"), ("CWD", "after")]


def test_default_credentials_file_is_readable() -> None:
    from homeguard.sessions.credentials import DefaultCredentials

    defaults = DefaultCredentials.shipped()
    assert (
        defaults.known("root", "xc3511")
        and defaults.known(None, b"public")
        and not defaults.known("root", "x")
    )
    assert len(defaults.pairs) >= 62
    assert Path(__file__).parent.parent.joinpath("homeguard/data/default_credentials.txt").exists()


def test_sessions_read_at_once_are_bounded_and_released() -> None:
    from homeguard.clock import ManualClock
    from homeguard.pipeline.core import Pipeline
    from homeguard.settings import Config

    pipeline = Pipeline(Config(), None, [], clock=ManualClock(TS0))
    pipeline.sessions.max_sessions = 3
    packets = []
    for i in range(6):  # six TLS connections whose handshakes never finish
        packets += tcp_conversation([(True, client_hello()[:40])], dport=443, sport=42000 + i)[:4]
    for frame in frames_of(packets):
        pipeline.process(frame)
    assert pipeline.sessions.live == 3 and pipeline.sessions.refused == 3
    pipeline.close()
    assert pipeline.sessions.live == 0


def test_dns_over_tcp_split_over_segments_is_read_whole() -> None:
    from scapy.all import DNS, DNSQR, DNSRR  # type: ignore[attr-defined]

    query = bytes(DNS(id=7, qd=DNSQR(qname="big.example", qtype="TXT")))
    answer = bytes(
        DNS(
            id=7,
            qr=1,
            qd=DNSQR(qname="big.example", qtype="TXT"),
            an=[DNSRR(rrname="big.example", type="TXT", rdata="v" * 200) for _ in range(5)],
        )
    )
    framed = [(True, struct.pack("!H", len(query)) + query), (False, struct.pack("!H", len(answer)) + answer)]
    events = events_of(tcp_conversation(framed, dport=53, split=100))
    dns = of_type(events, "dns")
    assert [(e["dns.is_response"], e["dns.transport"], e["dns.query"]) for e in dns] == [
        (False, "tcp", "big.example"),
        (True, "tcp", "big.example"),
    ]
    assert len(dns[1]["dns.answers"]) == 5


@pytest.mark.parametrize(
    ("start", "end", "expired", "not_yet"),
    [(-86400, 86400, False, False), (-2 * 86400, -86400, True, False), (86400, 2 * 86400, False, True)],
)
def test_a_certificate_outside_its_dates_is_not_valid_now(
    start: int, end: int, expired: bool, not_yet: bool
) -> None:
    der = dated_certificate(TS0 + start, TS0 + end)
    messages = [(True, client_hello()), (False, server_hello_and_certificate(0x0303, 0xC02F, der))]
    (cert,) = of_type(events_of(tcp_conversation(messages, dport=443)), "tls_certificate")
    assert (cert["tls.cert_expired"], cert["tls.cert_not_yet_valid"]) == (expired, not_yet)
    assert cert["tls.cert_valid_now"] is not (expired or not_yet)


def test_a_refused_ftp_login_still_leaked_its_password() -> None:
    """The password crossed the network whether the server said 230 or 530."""
    for answer in (b"530 Login incorrect.\r\n", b"530-Login failed\r\n530 Bye\r\n"):
        messages = [
            (False, b"220 (vsFTPd 3.0.3)\r\n"),
            (True, b"USER anna\r\n"),
            (False, b"331 Please specify the password.\r\n"),
            (True, b"PASS hunter22\r\n"),
            (False, answer),
            (True, b"QUIT\r\n"),
        ]
        events = events_of(tcp_conversation(messages, dport=21))
        (login,) = of_type(events, "auth")
        assert (login["auth.protocol"], login["auth.password_seen"]) == ("ftp", True)
        assert_no_secret(events, "hunter22")


def test_a_second_client_hello_after_a_hello_retry_request_is_an_event_too() -> None:
    """RFC 8446 4.1.4: the server asks again (HelloRetryRequest); the client's second hello,
    after a compatibility ChangeCipherSpec, is read like the first (its own JA4)."""
    from homeguard.sessions.tls import HELLO_RETRY_RANDOM

    def server_hello(random: bytes) -> bytes:
        body = struct.pack("!H", 0x0303) + random + b"\x00" + struct.pack("!HB", 0x1301, 0)
        body += struct.pack("!H", 6) + struct.pack("!HHH", 43, 2, 0x0304)
        return (
            b"\x16\x03\x03" + struct.pack("!H", len(body) + 4) + b"\x02" + len(body).to_bytes(3, "big") + body
        )

    ccs = b"\x14\x03\x03\x00\x01\x01"
    messages = [
        (True, client_hello(alpn=("http/1.1",))),
        (False, server_hello(HELLO_RETRY_RANDOM)),
        (False, ccs),
        (True, ccs),
        (True, client_hello(alpn=("h2",))),
        (False, server_hello(b"\x22" * 32)),
    ]
    hellos = of_type(events_of(tcp_conversation(messages, dport=443)), "tls_client_hello")
    assert [h["tls.alpn"] for h in hellos] == [["http/1.1"], ["h2"]]
    assert hellos[0]["tls.ja4"] != hellos[1]["tls.ja4"] and hellos[1]["tls.ja4"][8:10] == "h2"


def test_a_client_hello_says_the_newest_version_the_client_can_do() -> None:
    """From the client's side alone: no server answer is needed to see an old TLS stack."""
    old = events_of(tcp_conversation([(True, client_hello(versions=(), legacy=0x0301))], dport=443))
    new = events_of(tcp_conversation([(True, client_hello())], dport=443))
    assert of_type(old, "tls_client_hello")[0]["tls.client_max_name"] == "TLS 1.0"
    assert of_type(new, "tls_client_hello")[0]["tls.client_max_name"] == "TLS 1.3"  # GREASE left out
