"""Suricata's EVE JSON log as a source (`eve_files`): what Suricata saw becomes
HomeGuard's events for the household's devices (decode/eve.py reads the records).

- `flow`: a flow with packets and bytes each way, reported as a flow seen on the wire
  (flow_start, flow_established, flow_end, a flows row with end_reason `suricata`);
- `dns`: the lookup or answer of the device that asked, answers naming its flows;
- `tls`: a tls_client_hello (SNI, JA3, JA4) and, with a subject, a tls_certificate;
- `http`: the request (Host, method, redacted URI, User-Agent) and, with a status, the
  response;
- `dhcp`: the host name a device gave.

Each file is followed like `tail -F`; a line that is not a record HomeGuard reads is
counted and skipped.
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from homeguard.decode.addresses import mac_text
from homeguard.decode.eve import (
    EveRecord,
    dns_answers,
    dns_question,
    eve_time,
    name,
    number,
    read_eve,
    text,
    uri,
)
from homeguard.decode.resolver_log import Lookup
from homeguard.errors import DecodeError
from homeguard.events import Event, builders
from homeguard.pipeline.followed import FollowedFiles
from homeguard.state.flows import Flow

if TYPE_CHECKING:
    from homeguard.pipeline.core import Pipeline

log = logging.getLogger("homeguard.eve")


@dataclass(slots=True)
class EveStats:
    records: int = 0
    skipped: int = 0  # record types HomeGuard does not read
    malformed: int = 0


class EveLog:
    def __init__(self, paths: list[str]) -> None:
        self.name = "suricata-eve"
        self.files = FollowedFiles(paths, "Suricata's EVE log", log)
        self.stats = EveStats()

    def drain(self, pipeline: Pipeline, now: float) -> int:
        fed = 0
        for path, line in self.files.lines(pipeline.clock.time(), now):
            try:
                record = read_eve(line)
                if record is None:
                    self.stats.skipped += 1
                    continue
                fed += feed_record(pipeline, record)
                self.stats.records += 1
            except DecodeError as exc:
                self.stats.malformed += 1
                log.debug("%s: %s", path, exc)
        return fed

    def problem(self, now: float) -> str | None:
        return self.files.problem(now)

    def close(self) -> None:
        self.files.close()


def feed_record(pipeline: Pipeline, record: EveRecord) -> int:
    if record.kind == "flow":
        return _flow(pipeline, record)
    if record.kind == "dns":
        return _dns(pipeline, record)
    if record.kind == "dhcp":
        return _dhcp(pipeline, record)
    events = _tls(record) if record.kind == "tls" else _http(record)
    mac = pipeline.mac_of(ipaddress.ip_address(record.src_ip).packed)
    for event in events:
        pipeline.emit(event, mac)
    return len(events)


def _flow(pipeline: Pipeline, record: EveRecord) -> int:
    body = record.body
    key = (
        record.proto,
        ipaddress.ip_address(record.src_ip).packed,
        record.sport,
        ipaddress.ip_address(record.dst_ip).packed,
        record.dport,
    )
    start = eve_time(body.get("start")) if "start" in body else record.ts
    end = eve_time(body.get("end")) if "end" in body else record.ts
    flow = Flow(key, start, end, None, None)
    flow.packets_out, flow.bytes_out = number(body, "pkts_toserver"), number(body, "bytes_toserver")
    flow.packets_in, flow.bytes_in = number(body, "pkts_toclient"), number(body, "bytes_toclient")
    flow.end_reason = "suricata"
    pipeline.exported_flow(flow)
    return 1


def _dns(pipeline: Pipeline, record: EveRecord) -> int:
    body = record.body
    asked, qtype = dns_question(body)
    if asked is None:
        return 0
    if body.get("type") == "answer":
        rcode = text(body, "rcode") or "NOERROR"
        lookup = Lookup(record.dst_ip, asked, qtype or "", rcode, tuple(dns_answers(body)), record.src_ip)
    else:
        lookup = Lookup(record.src_ip, asked, qtype or "", resolver=record.dst_ip)
    return pipeline.logged_lookup(record.ts, lookup)


def _packet_event(event_type: str, record: EveRecord) -> Event:
    return {
        "ts": record.ts,
        "type": event_type,
        "src.ip": record.src_ip,
        "src.port": record.sport,
        "dst.ip": record.dst_ip,
        "dst.port": record.dport,
        "proto": builders.proto_name(record.proto),
    }


def _tls(record: EveRecord) -> list[Event]:
    body = record.body
    hello = _packet_event("tls_client_hello", record)
    for field, value in (("tls.sni", name(body, "sni")), ("tls.ja4", text(body, "ja4"))):
        if value:
            hello[field] = value
    ja3 = body.get("ja3")
    if isinstance(ja3, dict) and text(ja3, "hash"):
        hello["tls.ja3"] = text(ja3, "hash")
    events = [hello]
    if text(body, "subject"):
        certificate = _packet_event("tls_certificate", record)
        certificate["tls.cert_subject"] = text(body, "subject")
        if text(body, "issuerdn"):
            certificate["tls.cert_issuer"] = text(body, "issuerdn")
        for field, key in (("tls.cert_not_before", "notbefore"), ("tls.cert_not_after", "notafter")):
            if isinstance(body.get(key), str):
                certificate[field] = eve_time(body[key] if "+" in body[key] else body[key] + "+00:00")
        builders.certificate_dates(certificate, record.ts)
        events.append(certificate)
    return events


def _http(record: EveRecord) -> list[Event]:
    body = record.body
    request = _packet_event("http", record)
    request["http.is_response"] = False
    for field, value in (
        ("http.host", name(body, "hostname")),
        ("http.method", text(body, "http_method")),
        ("http.uri", uri(body)),
        ("http.user_agent", text(body, "http_user_agent")),
    ):
        if value:
            request[field] = value
    events = [request]
    status = body.get("status")
    if isinstance(status, int) and not isinstance(status, bool):
        response = _packet_event("http", record)
        response["http.is_response"] = True
        response["http.status"] = status
        events.append(response)
    return events


def _dhcp(pipeline: Pipeline, record: EveRecord) -> int:
    """The host name a device gave, for the device named by its MAC in the record."""
    body = record.body
    try:
        mac = bytes.fromhex(str(body.get("client_mac", "")).replace(":", ""))
    except ValueError as exc:
        raise DecodeError("EVE: dhcp client_mac is not a MAC") from exc
    if len(mac) != 6:
        raise DecodeError("EVE: dhcp client_mac is not a MAC")
    event = _packet_event("dhcp", record)
    event["dhcp.client_mac"] = mac_text(mac)
    hostname = name(body, "hostname")
    if hostname:
        event["dhcp.hostname"] = hostname
        pipeline.devices.update(mac, hostname=hostname)
    message_type = text(body, "dhcp_type")
    if message_type:
        event["dhcp.message_type"] = message_type
    pipeline.emit(event, mac)
    return 1
