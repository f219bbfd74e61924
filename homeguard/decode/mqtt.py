"""MQTT CONNECT: the client id, and whether a username and password came in clear."""

from __future__ import annotations

from dataclasses import dataclass

from homeguard.decode.text import network_text
from homeguard.errors import DecodeError


@dataclass(slots=True, frozen=True)
class MqttConnect:
    protocol_level: int
    client_id: str
    username: str | None
    password: bytes | None  # held only to compare with known defaults, then dropped


def _remaining_length(buf: bytes) -> tuple[int, int]:
    value, shift, pos = 0, 0, 1
    while True:
        if pos >= len(buf) or pos > 4:
            raise DecodeError("MQTT remaining length is cut short or too long")
        byte = buf[pos]
        value |= (byte & 0x7F) << shift
        pos += 1
        if not byte & 0x80:
            return value, pos
        shift += 7


def _string(buf: bytes, pos: int) -> tuple[bytes, int]:
    if pos + 2 > len(buf):
        raise DecodeError("MQTT string length cut short")
    n = int.from_bytes(buf[pos : pos + 2], "big")
    if pos + 2 + n > len(buf):
        raise DecodeError("MQTT string runs past the packet")
    return buf[pos + 2 : pos + 2 + n], pos + 2 + n


def is_connect(buf: bytes) -> bool:
    return len(buf) > 8 and buf[0] == 0x10 and b"MQ" in buf[2:12]


def parse_connect(buf: bytes) -> MqttConnect:
    if not buf or buf[0] != 0x10:
        raise DecodeError("not an MQTT CONNECT packet")
    _length, pos = _remaining_length(buf)
    name, pos = _string(buf, pos)
    if name not in (b"MQTT", b"MQIsdp") or pos + 4 > len(buf):
        raise DecodeError("not an MQTT CONNECT packet")
    level, flags = buf[pos], buf[pos + 1]
    pos += 4  # level, flags, keep-alive
    if level == 5:  # MQTT 5 has properties before the payload
        props, after = _remaining_length(b"\0" + buf[pos:])
        pos += after - 1 + props
    client_id, pos = _string(buf, pos)
    if flags & 0x04:  # will: properties (v5), topic, payload
        if level == 5:
            props, after = _remaining_length(b"\0" + buf[pos:])
            pos += after - 1 + props
        _topic, pos = _string(buf, pos)
        _payload, pos = _string(buf, pos)
    username = password = None
    if flags & 0x80:
        raw, pos = _string(buf, pos)
        username = network_text(raw, 256)
    if flags & 0x40:
        password, pos = _string(buf, pos)
    return MqttConnect(level, network_text(client_id, 256), username, password)
