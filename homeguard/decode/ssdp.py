"""SSDP (UPnP discovery over UDP 1900): what devices announce about themselves."""

from __future__ import annotations

from dataclasses import dataclass, field

from homeguard.decode.text import network_text
from homeguard.errors import DecodeError

MAX_SSDP_BYTES = 4096
MAX_HEADER_VALUE = 512


@dataclass(slots=True)
class SsdpMessage:
    method: str  # NOTIFY, M-SEARCH or RESPONSE
    headers: dict[str, str] = field(default_factory=dict)


def parse_ssdp(buf: bytes) -> SsdpMessage:
    text = buf[:MAX_SSDP_BYTES].decode("latin-1")
    lines = text.split("\r\n") if "\r\n" in text else text.split("\n")
    start = lines[0].strip()
    if start.startswith("HTTP/"):
        method = "RESPONSE"
    elif start.endswith("HTTP/1.1") or start.endswith("HTTP/1.0"):
        method = start.split(" ", 1)[0].upper()
    else:
        raise DecodeError(f"not an SSDP start line: {start[:40]!r}")
    msg = SsdpMessage(method)
    for line in lines[1:]:
        if not line:
            break
        name, sep, value = line.partition(":")
        if sep:
            # read as latin-1 to split the lines; the value is the device's own UTF-8 text
            msg.headers[name.strip().lower()] = network_text(
                value.strip().encode("latin-1"), MAX_HEADER_VALUE
            )
    return msg
