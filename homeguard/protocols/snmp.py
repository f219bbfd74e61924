"""SNMP (UDP 161, traps on 162): the version, and the community string, which is a
password sent in clear text."""

from __future__ import annotations

from homeguard.decode.packet import Packet
from homeguard.decode.snmp import parse_snmp
from homeguard.events.catalog import field
from homeguard.protocols.spec import PacketContext, ProtocolSpec
from homeguard.sessions.base import Emitted
from homeguard.sessions.credentials import DefaultCredentials, auth_fields

AGENT_PORTS = (161, 162)  # 162: traps, sent to a manager, carry the community too
VERSIONS = {0: "1", 1: "2c", 3: "3"}

EVENT_TYPES = {
    "snmp": "An SNMP message (UDP 161/162).",
}
FIELDS = (
    field("snmp.version", "str", "snmp", "1, 2c or 3."),
    field("snmp.pdu", "str", "snmp", "get, get-next, set, response, trap, ..."),
)


def snmp_events(payload: bytes, to_agent: bool, defaults: DefaultCredentials) -> Emitted:
    message = parse_snmp(payload)
    version = VERSIONS.get(message.version, str(message.version))
    out: Emitted = [("snmp", {"snmp.version": version, "snmp.pdu": message.pdu})]
    if to_agent and message.community is not None:  # requests carry the password to the agent
        out.append(("auth", auth_fields(defaults, "snmp", "community", None, message.community)))
    return out


def on_snmp(ctx: PacketContext, ts: float, pkt: Packet) -> None:
    ctx.session_events(ts, pkt, snmp_events(pkt.payload(), pkt.dport in AGENT_PORTS, ctx.defaults))


SPEC = ProtocolSpec(
    "snmp",
    "SNMP requests and traps",
    EVENT_TYPES,
    FIELDS,
    udp_ports=AGENT_PORTS,
    on_packet=on_snmp,
    priority=50,
)
