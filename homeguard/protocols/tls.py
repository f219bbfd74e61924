"""TLS on any port, recognised by its first bytes: the ClientHello (server name, versions,
JA3/JA4), the ServerHello, and the certificate where TLS 1.2 and older send it in clear."""

from __future__ import annotations

from homeguard.events.catalog import field
from homeguard.protocols.spec import ProtocolSpec, StreamSpec
from homeguard.sessions.tls import Tls, looks_like_tls

TLS_TYPES = ("tls_client_hello", "tls_server_hello", "tls_certificate")
# A handshake record (22), or an SSLv2-format hello: a two-byte length with the high bit set.
FIRST_BYTES = bytes([22, *range(0x80, 0x100)])

EVENT_TYPES = {
    "tls_client_hello": "A TLS ClientHello, on any port: server name, versions, fingerprints.",
    "tls_server_hello": "A TLS ServerHello: the version and cipher the server chose.",
    "tls_certificate": "The server's certificate, where TLS 1.2 and older send it unencrypted.",
}
FIELDS = (
    field("tls.sni", "text", TLS_TYPES, "The server name the client asked for (SNI)."),
    field(
        "tls.version",
        "str",
        ("tls_client_hello", "tls_server_hello"),
        "The legacy version field, such as 0x0303.",
    ),
    field(
        "tls.supported_versions",
        "list[str]",
        "tls_client_hello",
        "Versions the client offers (supported_versions extension).",
    ),
    field(
        "tls.client_max_name",
        "str",
        "tls_client_hello",
        "The newest version the client offers, in words (SSLv3, TLS 1.0 ... TLS 1.3): from supported_versions, else the legacy field. A client that offers at most TLS 1.1 cannot do better.",
    ),
    field("tls.ciphers", "list[str]", "tls_client_hello", "Cipher suites the client offers, in its order."),
    field(
        "tls.quic",
        "bool",
        "tls_client_hello",
        "True when the hello came in QUIC Initial packets (HTTP/3), read with the keys every on-path observer has (RFC 9001).",
    ),
    field("quic.version", "str", "tls_client_hello", "The QUIC version of those packets: 1 or 2."),
    field(
        "tls.dtls",
        "bool",
        "tls_client_hello",
        "True when the hello was DTLS over UDP (WebRTC, VPNs, CoAP devices): versions DTLS 1.0, 1.2, 1.3.",
    ),
    field(
        "tls.alpn",
        "list[text]",
        "tls_client_hello",
        "Application protocols the client offers (h2, http/1.1, ...).",
    ),
    field(
        "tls.sslv2_format",
        "bool",
        "tls_client_hello",
        "True for an old SSLv2-format hello (no SNI, no extensions, no JA3).",
    ),
    field("tls.ja3", "str", "tls_client_hello", "The JA3 fingerprint of the client."),
    field("tls.ja4", "str", "tls_client_hello", "The JA4 fingerprint of the client (JA4_a_b_c)."),
    field(
        "tls.selected_version",
        "str",
        "tls_server_hello",
        "The version the server chose in supported_versions (TLS 1.3).",
    ),
    field(
        "tls.negotiated_version", "str", "tls_server_hello", "The version in use, such as 0x0301 for TLS 1.0."
    ),
    field(
        "tls.negotiated_name",
        "str",
        "tls_server_hello",
        "The same in words: SSLv3, TLS 1.0, TLS 1.1, TLS 1.2, TLS 1.3.",
    ),
    field("tls.cipher", "str", "tls_server_hello", "The cipher suite the server chose, such as 0x0035."),
    field("tls.cert_subject", "text", "tls_certificate", "Who the certificate names: CN=..., O=..."),
    field("tls.cert_issuer", "text", "tls_certificate", "Who signed it."),
    field("tls.cert_not_before", "float", "tls_certificate", "Valid from (seconds since 1970)."),
    field("tls.cert_not_after", "float", "tls_certificate", "Valid until (seconds since 1970)."),
    field(
        "tls.cert_expired",
        "bool",
        "tls_certificate",
        "True when the packet came after the certificate's end.",
    ),
    field(
        "tls.cert_not_yet_valid",
        "bool",
        "tls_certificate",
        "True when the packet came before the certificate's start (notBefore).",
    ),
    field(
        "tls.cert_valid_now",
        "bool",
        "tls_certificate",
        "False when the certificate was expired or not yet valid when it was seen.",
    ),
    field("tls.cert_self_signed", "bool", "tls_certificate", "True when subject and issuer are the same."),
)


SPEC = ProtocolSpec(
    "tls",
    "TLS handshakes on any port",
    EVENT_TYPES,
    FIELDS,
    stream=StreamSpec(
        lambda _d: Tls(),
        probe=lambda payload, _c: looks_like_tls(payload),
        probe_order=10,
        first_bytes=FIRST_BYTES,
    ),
)
