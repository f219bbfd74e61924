"""HTTP/1.x on any port, recognised by its first bytes: request and response heads, logins
and personal data sent in clear, and UPnP port mappings (SOAP)."""

from __future__ import annotations

from homeguard.decode.http import METHODS, looks_like_request, looks_like_response
from homeguard.events.catalog import field
from homeguard.protocols.spec import ProtocolSpec, StreamSpec
from homeguard.sessions.http import Http

EVENT_TYPES = {
    "http": "An HTTP/1.x request or response head, on any port.",
    "pii": "Personal data in clear text in an HTTP request: only its kind and a redacted sample.",
}
FIELDS = (
    field("http.is_response", "bool", "http", "False for a request, true for a response."),
    field("http.method", "text", "http", "Requests: GET, POST, ..."),
    field("http.uri", "text", "http", "Requests: the path and query, with any personal data redacted."),
    field("http.host", "text", "http", "Requests: the Host header."),
    field("http.user_agent", "text", "http", "Requests: the User-Agent header."),
    field("http.content_type", "text", "http", "Requests: the Content-Type header."),
    field(
        "http.authorization",
        "str",
        "http",
        "Requests: the Authorization scheme (Basic, Digest, Bearer), never its value.",
    ),
    field("http.status", "int", "http", "Responses: the status code."),
    field("http.server", "text", "http", "Responses: the Server header."),
    field("pii.kind", "str", "pii", "email, gps, phone, imei or mac."),
    field("pii.sample", "text", "pii", "A redacted sample, such as a***@example.nl."),
    field("pii.location", "str", "pii", "Where it was: uri, or header:NAME."),
    field("pii.host", "text", "pii", "The web server it was sent to (the Host header)."),
)


FIRST_BYTES = bytes({method[0] for method in METHODS} | {ord("H")})  # a method, or HTTP/ of a response


def looks_like_http(payload: bytes, from_client: bool) -> bool:
    return looks_like_request(payload) if from_client else looks_like_response(payload)


SPEC = ProtocolSpec(
    "http",
    "HTTP/1.x on any port",
    EVENT_TYPES,
    FIELDS,
    stream=StreamSpec(Http, probe=looks_like_http, probe_order=20, first_bytes=FIRST_BYTES),
)
