"""What every event builder shares: the packet's common fields, and where a flow goes.
Each protocol builds its own events (homeguard/protocols/)."""

from __future__ import annotations

from collections.abc import Callable

from homeguard.decode.addresses import ip_text, is_group_ip, is_local_ip, mac_text
from homeguard.decode.packet import PROTO_NAMES, Packet
from homeguard.events import Event


def proto_name(proto: int) -> str:
    return PROTO_NAMES.get(proto) or str(proto)


def packet_event(event_type: str, ts: float, pkt: Packet) -> Event:
    """An event with the common fields of the packet it came from."""
    event: Event = {"ts": ts, "type": event_type}
    if pkt.src_mac is not None:
        event["src.mac"] = mac_text(pkt.src_mac)
    if pkt.dst_mac is not None:
        event["dst.mac"] = mac_text(pkt.dst_mac)
    if pkt.vlan is not None:
        event["vlan"] = pkt.vlan
    if pkt.src_ip is not None and pkt.dst_ip is not None:
        event["src.ip"] = ip_text(pkt.src_ip)
        event["dst.ip"] = ip_text(pkt.dst_ip)
        event["proto"] = proto_name(pkt.proto)
        if pkt.sport or pkt.dport:
            event["src.port"] = pkt.sport
            event["dst.port"] = pkt.dport
    return event


def set_if(event: Event, name: str, value: object) -> None:
    if value is not None and value != "" and value != []:
        event[name] = value


def flow_direction(src: bytes, dst: bytes, is_home: Callable[[bytes], bool] = is_local_ip) -> str:
    """inbound (from the internet to a device at home), outbound, internal or external.
    Multicast and broadcast stay inside the home. `is_home` may know the household's
    global IPv6 prefixes too (state/infrastructure.py)."""
    src_home, dst_home = is_home(src), is_home(dst) or is_group_ip(dst)
    if src_home:
        return "internal" if dst_home else "outbound"
    return "inbound" if dst_home else "external"


def certificate_dates(event: Event, ts: float) -> None:
    """Whether the certificate was valid when it was seen: expired after notAfter, and
    not yet valid before notBefore (a wrong clock, or a certificate made for later)."""
    not_before, not_after = event.get("tls.cert_not_before"), event.get("tls.cert_not_after")
    if not_after is not None:
        event["tls.cert_expired"] = ts > not_after
    if not_before is not None:
        event["tls.cert_not_yet_valid"] = ts < not_before
    if not_before is not None or not_after is not None:
        event["tls.cert_valid_now"] = not (
            event.get("tls.cert_expired") or event.get("tls.cert_not_yet_valid")
        )
