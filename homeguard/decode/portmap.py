"""Port mappings asked of the router: NAT-PMP (RFC 6886), PCP (RFC 6887) and UPnP's
SOAP AddPortMapping/DeletePortMapping. Each opens (or closes) a hole from the internet."""

from __future__ import annotations

import re
import socket
import struct
from dataclasses import dataclass

from homeguard.decode.text import network_text
from homeguard.errors import DecodeError

PORT_NAT_PMP = 5351
PCP_OPCODE_MAP = 1


@dataclass(slots=True, frozen=True)
class PortMapping:
    method: str  # nat-pmp, pcp, upnp
    action: str  # add, delete
    protocol: str  # tcp, udp
    internal_port: int
    external_port: int
    lifetime: int | None = None
    internal_client: str | None = None
    description: str | None = None


def parse_nat_pmp_or_pcp(buf: bytes) -> PortMapping | None:
    """A mapping request sent to the gateway's port 5351; None for other messages."""
    if len(buf) < 2:
        raise DecodeError("NAT-PMP/PCP message cut short")
    version, opcode = buf[0], buf[1]
    if version == 0 and opcode in (1, 2) and len(buf) >= 12:
        internal, external, lifetime = struct.unpack_from("!HHI", buf, 4)
        action = "delete" if lifetime == 0 else "add"
        return PortMapping("nat-pmp", action, "udp" if opcode == 1 else "tcp", internal, external, lifetime)
    if version == 2 and opcode & 0x7F == PCP_OPCODE_MAP and not opcode & 0x80 and len(buf) >= 60:
        lifetime = struct.unpack_from("!I", buf, 4)[0]
        client = buf[8:24]
        proto, internal, external = buf[36], *struct.unpack_from("!HH", buf, 40)
        address = (
            socket.inet_ntop(socket.AF_INET, client[12:])
            if client[:12] == b"\0" * 10 + b"\xff\xff"
            else socket.inet_ntop(socket.AF_INET6, client)
        )
        return PortMapping(
            "pcp",
            "delete" if lifetime == 0 else "add",
            {6: "tcp", 17: "udp"}.get(proto, str(proto)),
            internal,
            external,
            lifetime,
            address,
        )
    return None


_ARG = re.compile(rb"<(?:\w+:)?(New\w+)[^>]*>([^<]{0,256})</", re.S)


def parse_soap_port_mapping(action_header: str, body: bytes) -> PortMapping | None:
    """The SOAPAction header names the action; the body carries New* arguments."""
    action = action_header.strip('"').rpartition("#")[2]
    if action not in ("AddPortMapping", "DeletePortMapping"):
        return None
    args = {k.decode(): network_text(v.strip()) for k, v in _ARG.findall(body)}

    def number(name: str) -> int:
        try:
            return int(args.get(name, "0"))
        except ValueError:
            return 0

    return PortMapping(
        "upnp",
        "add" if action == "AddPortMapping" else "delete",
        args.get("NewProtocol", "").lower(),
        number("NewInternalPort"),
        number("NewExternalPort"),
        number("NewLeaseDuration") if "NewLeaseDuration" in args else None,
        args.get("NewInternalClient") or None,
        args.get("NewPortMappingDescription") or None,
    )
