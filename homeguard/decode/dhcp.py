"""DHCPv4 (RFC 2131, options RFC 2132): who asks for an address, under which name."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from homeguard.decode.text import network_name
from homeguard.errors import DecodeError

MAGIC_COOKIE = b"\x63\x82\x53\x63"
MESSAGE_TYPES = {
    1: "discover",
    2: "offer",
    3: "request",
    4: "decline",
    5: "ack",
    6: "nak",
    7: "release",
    8: "inform",
}
OPT_PAD, OPT_END = 0, 255
OPT_ROUTER, OPT_DNS, OPT_HOSTNAME, OPT_DOMAIN = 3, 6, 12, 15
OPT_REQUESTED_IP, OPT_LEASE, OPT_MESSAGE_TYPE, OPT_SERVER_ID = 50, 51, 53, 54
OPT_PARAMS, OPT_VENDOR_CLASS, OPT_CLIENT_ID = 55, 60, 61


@dataclass(slots=True)
class DhcpMessage:
    op: int
    client_mac: bytes | None
    client_ip: bytes  # ciaddr
    your_ip: bytes  # yiaddr: the address the server offers or acknowledges
    message_type: int | None = None
    hostname: str | None = None
    requested_ip: bytes | None = None
    server_id: bytes | None = None
    param_request_list: list[int] = field(default_factory=list)
    vendor_class: str | None = None
    lease_time: int | None = None
    routers: list[bytes] = field(default_factory=list)
    dns_servers: list[bytes] = field(default_factory=list)


def parse_dhcp(buf: bytes) -> DhcpMessage:
    if len(buf) < 240:
        raise DecodeError(f"DHCP message of {len(buf)} bytes is shorter than BOOTP's 240")
    if buf[236:240] != MAGIC_COOKIE:
        raise DecodeError("BOOTP message without the DHCP magic cookie")
    op, htype, hlen = buf[0], buf[1], buf[2]
    mac = buf[28:34] if htype == 1 and hlen == 6 else None
    msg = DhcpMessage(op, mac, buf[12:16], buf[16:20])
    pos = 240
    end = len(buf)
    while pos < end:
        code = buf[pos]
        if code == OPT_PAD:
            pos += 1
            continue
        if code == OPT_END:
            break
        if pos + 1 >= end:
            raise DecodeError(f"DHCP option {code} has no length")
        olen = buf[pos + 1]
        value = buf[pos + 2 : pos + 2 + olen]
        if len(value) != olen:
            raise DecodeError(f"DHCP option {code} claims {olen} bytes, {len(value)} remain")
        _apply_option(msg, code, value)
        pos += 2 + olen
    return msg


def _text(value: bytes) -> str:
    return network_name(value.rstrip(b"\0"))


def _apply_option(msg: DhcpMessage, code: int, value: bytes) -> None:
    if code == OPT_MESSAGE_TYPE and value:
        msg.message_type = value[0]
    elif code == OPT_HOSTNAME:
        msg.hostname = _text(value)
    elif code == OPT_REQUESTED_IP and len(value) == 4:
        msg.requested_ip = value
    elif code == OPT_SERVER_ID and len(value) == 4:
        msg.server_id = value
    elif code == OPT_PARAMS:
        msg.param_request_list = list(value)
    elif code == OPT_VENDOR_CLASS:
        msg.vendor_class = _text(value)
    elif code == OPT_LEASE and len(value) == 4:
        msg.lease_time = struct.unpack("!I", value)[0]
    elif code == OPT_ROUTER:
        msg.routers = [value[i : i + 4] for i in range(0, len(value) - 3, 4)]
    elif code == OPT_DNS:
        msg.dns_servers = [value[i : i + 4] for i in range(0, len(value) - 3, 4)]
