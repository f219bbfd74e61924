"""MQTT: an IoT device's CONNECT to its broker, with the client id and any login."""

from __future__ import annotations

from homeguard.decode.mqtt import is_connect
from homeguard.events.catalog import field
from homeguard.protocols.spec import ProtocolSpec, StreamSpec
from homeguard.sessions.binary import Mqtt

EVENT_TYPES = {
    "mqtt": "An MQTT CONNECT: an IoT device logging in to its message broker.",
}
FIELDS = (
    field("mqtt.client_id", "text", "mqtt", "The client's id."),
    field("mqtt.protocol_level", "int", "mqtt", "3 (MQTT 3.1), 4 (3.1.1) or 5."),
)


SPEC = ProtocolSpec(
    "mqtt",
    "MQTT connections",
    EVENT_TYPES,
    FIELDS,
    stream=StreamSpec(
        Mqtt,
        ports=(1883,),
        probe=lambda payload, from_client: from_client and is_connect(payload),
        probe_order=40,
        first_bytes=b"\x10",
    ),
)
