"""A flow as the events that start and end it, and as its row in the flows table."""

from __future__ import annotations

from homeguard.decode.addresses import ip_text, mac_text
from homeguard.decode.packet import PROTO_TCP
from homeguard.events import Event
from homeguard.events.builders import proto_name, set_if
from homeguard.state.flows import Flow


def _flow_common(event_type: str, flow: Flow, ts: float) -> Event:
    proto, src, sport, dst, dport = flow.key
    event: Event = {"ts": ts, "type": event_type}
    if flow.src_mac is not None:
        event["src.mac"] = mac_text(flow.src_mac)
    if flow.dst_mac is not None:
        event["dst.mac"] = mac_text(flow.dst_mac)
    event.update({"src.ip": ip_text(src), "dst.ip": ip_text(dst), "proto": proto_name(proto)})
    if sport or dport:
        event["src.port"] = sport
        event["dst.port"] = dport
    set_if(event, "flow.server_name", flow.server_name)
    event["flow.direction"] = flow.direction
    if proto == PROTO_TCP:
        event["flow.handshake"] = flow.handshake
    return event


def flow_start_event(flow: Flow) -> Event:
    return _flow_common("flow_start", flow, flow.start)


def flow_established_event(flow: Flow, ts: float) -> Event:
    """The responder accepted: what "a protocol in use" rules wait for (a bare SYN, as a
    port scan sends, is not a connection)."""
    return _flow_common("flow_established", flow, ts)


def flow_end_event(flow: Flow) -> Event:
    event = _flow_common("flow_end", flow, flow.last)
    event["flow.duration"] = round(flow.last - flow.start, 6)
    event["flow.packets_out"] = flow.packets_out
    event["flow.bytes_out"] = flow.bytes_out
    event["flow.packets_in"] = flow.packets_in
    event["flow.bytes_in"] = flow.bytes_in
    event["flow.end_reason"] = flow.end_reason
    if flow.name_source:
        event["flow.name_source"] = flow.name_source
    if flow.cnames:
        event["flow.cnames"] = list(flow.cnames)
    return event


def flow_row(flow: Flow) -> dict[str, object]:
    proto, src, sport, dst, dport = flow.key
    return {
        "start": flow.start,
        "end": flow.last,
        "proto": proto_name(proto),
        "src_mac": mac_text(flow.src_mac) if flow.src_mac else None,
        "src_ip": ip_text(src),
        "src_port": sport,
        "dst_mac": mac_text(flow.dst_mac) if flow.dst_mac else None,
        "dst_ip": ip_text(dst),
        "dst_port": dport,
        "server_name": flow.server_name,
        "packets_out": flow.packets_out,
        "bytes_out": flow.bytes_out,
        "packets_in": flow.packets_in,
        "bytes_in": flow.bytes_in,
        "end_reason": flow.end_reason,
    }
