"""The pipeline: frames in, events out, state kept, rows stored.

capture -> decode -> protocols and sessions -> events -> state and enrichment -> sinks.
Live capture and replay drive the very same object, frame by frame. Which protocol
reads what is decided by one dispatch built from the registered protocol specs
(protocols/dispatch.py); the handlers use this object as their PacketContext.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from homeguard.capture.source import CaptureSource, CountedSource, Frame
from homeguard.clock import Clock
from homeguard.decode.addresses import ip_text, is_local_ip, is_unicast_mac, mac_text
from homeguard.decode.fragments import FragmentReassembler
from homeguard.decode.link import LINKTYPE_ETHERNET
from homeguard.decode.packet import (
    PROTO_ICMPV6,
    PROTO_TCP,
    PROTO_UDP,
    TCP_ACK,
    TCP_FIN,
    TCP_RST,
    TCP_SYN,
    Packet,
    decode_frame,
)
from homeguard.decode.resolver_log import Lookup
from homeguard.errors import DecodeError
from homeguard.events import Event, builders
from homeguard.events.wanted import EventTypes, types_wanted
from homeguard.pipeline.bulk import count_bulk_segment
from homeguard.protocols.dispatch import ProtocolDispatch
from homeguard.protocols.shipped import SHIPPED
from homeguard.sessions.base import Emitted
from homeguard.sessions.credentials import DefaultCredentials
from homeguard.sessions.reader import SessionReader
from homeguard.settings import Config
from homeguard.state.arrivals import Arrivals
from homeguard.state.devices import Device, DeviceInventory
from homeguard.state.dnslog import DnsLog
from homeguard.state.enrichment import Enricher
from homeguard.state.flood import FLOOD_WINDOW, FloodReport, MacFloodGuard
from homeguard.state.flow_events import flow_end_event, flow_established_event, flow_row, flow_start_event
from homeguard.state.flows import Flow, FlowTable
from homeguard.state.infrastructure import Infrastructure
from homeguard.state.lookup_failures import LookupFailures
from homeguard.state.names import ServerNames
from homeguard.state.visibility import Visibility
from homeguard.store.household import learn_infrastructure
from homeguard.store.writer import BatchWriter

log = logging.getLogger("homeguard.pipeline")
EventSink = Callable[[Event], None]
SWEEP_INTERVAL = 5.0  # seconds of packet time between flow expiry sweeps
CLOCK_JUMP = 60.0  # seconds backwards after which the housekeeping timers restart


@dataclass(slots=True)
class PipelineStats:
    packets: int = 0
    bytes: int = 0
    malformed: int = 0  # packets a decoder rejected: counted, skipped
    events: int = 0
    flows_ended: int = 0
    internal_errors: int = 0  # bugs: an exception that is not a DecodeError
    shed: int = 0  # bulk segments counted without decoding, under load (pipeline/bulk.py)
    flood_skipped: int = 0  # packets from unknown MACs during a MAC flood (state/flood.py)
    events_by_type: dict[str, int] = field(default_factory=dict)


class Pipeline:
    def __init__(
        self,
        config: Config,
        writer: BatchWriter | None,
        sinks: list[EventSink] | None = None,
        *,
        clock: Clock,
        protocols: ProtocolDispatch | None = None,
        enrichers: list[EventSink] | None = None,
    ) -> None:
        self.config = config
        self.clock = clock
        self.writer = writer
        self.sinks: list[EventSink] = sinks or []
        # Sinks that only want flow_end events (the data ledger), spared every other event.
        self.flow_end_sinks: list[EventSink] = []
        # The event types built (events/wanted.py): want_events() sets it from the sinks.
        self.wanted: EventTypes = None
        self.on_wanted: list[Callable[[EventTypes], None]] = []  # told when `wanted` changes
        self.stats = PipelineStats()
        self.start_network()
        self.protocols = protocols or ProtocolDispatch(SHIPPED)
        self.defaults = DefaultCredentials.shipped()
        self.sessions = SessionReader(self.protocols.streams.analyzer_for, self.defaults)
        # Without the plugin registry's (app.py), the shipped enrichers without their lists.
        self.enrichers: list[EventSink] = [Enricher(), LookupFailures()] if enrichers is None else enrichers
        # The process's own health (CPU, memory, start) for capture_stats rows; the app
        # wires in the service's self-monitor.
        self.health: Callable[[], dict[str, Any]] = dict
        self.output_drops: Callable[[], int] = lambda: 0  # events the outputs' full queues dropped
        # What is wrong with the daemon's other sources (pipeline/feed.py), for capture_stats.
        self.source_problems: Callable[[float], list[str]] = lambda now: []
        self.shedding = False  # set by the daemon while the kernel drops packets
        self.bulk_shortcut = True  # False: every frame takes the full path (tests compare the two)
        self.set_metadata_only(config.values["metadata_only"])
        self.capture_file: str | None = None
        self.frame_no = 0
        # Writes are scheduled by the wall clock: they are about the disk, not packet time,
        # so a replay of old or jumbled captures writes as often as a live day does.
        self._next_flush = clock.monotonic() + config.values["flush_interval"]
        self._stats_mark = (0, 0)  # source packets and drops at the last capture_stats

    def start_network(self) -> None:
        """Fresh state for one network: devices, flows, names, pending lookups, fragments,
        the household's infrastructure and arrivals. `replay --separate` calls it between
        captures from different places (after close()), so nothing of one is used for
        the next; the rules, their state and the store stay."""
        values = self.config.values
        self.devices = DeviceInventory(values["max_devices"])
        self.flows = FlowTable(values["max_flows"], values["flow_idle_timeout"])
        self.server_names = ServerNames(values["max_server_names"])
        self.dns_log = DnsLog(values["max_pending_dns"])
        self.fragments = FragmentReassembler()
        self.infrastructure = Infrastructure(
            values["household_resolvers"], values["dhcp_servers"], values["ipv6_routers"]
        )
        self.arrivals = Arrivals()
        self.flood = MacFloodGuard()
        self.visibility = Visibility()  # the daemon sets its own MAC
        self._now = 0.0
        self._next_sweep = 0.0

    def set_metadata_only(self, macs: list[str]) -> None:
        """Devices whose member asked: no DNS log and no server names are kept for them."""
        self.metadata_only = frozenset(bytes.fromhex(mac.replace(":", "")) for mac in macs)

    def want_events(self) -> None:
        """Build only the event types the sinks ask for (call after changing the sinks or
        their rules), and tell the followers (capture workers build the events here)."""
        self.wanted = types_wanted(self.sinks, ["flow_end"] if self.flow_end_sinks else [])
        for follower in self.on_wanted:
            follower(self.wanted)

    def wants(self, event_type: str) -> bool:
        """Whether an event of this type would reach anyone (for handlers, before building it)."""
        return self.wanted is None or event_type in self.wanted

    @property
    def last_ts(self) -> float:
        """The timestamp of the last packet seen."""
        return self._now

    # -- the hot path -------------------------------------------------------

    def run(
        self, source: CaptureSource, *, replay: bool = False, on_progress: Callable[[int], None] | None = None
    ) -> None:
        """Feed every frame of a source through the pipeline. `on_progress` gets the
        bytes read so far now and then (not per frame: a progress bar is slow)."""
        self.start_source(source.name if replay else None)
        process = self.process
        reported = 0
        for frame in source.frames():
            if frame is None:
                self.maintain(self._now if replay else self.clock.time())
                continue
            process(frame)
            if on_progress is not None and not self.frame_no & 0x1FFF:
                on_progress(source.counters.bytes - reported)
                reported = source.counters.bytes
        if on_progress is not None:
            on_progress(source.counters.bytes - reported)

    def start_source(self, capture_file: str | None) -> None:
        """A new source: frames count from one, and its capture_stats from zero. Events
        name `capture_file` (a replayed file) and their frame in it."""
        self.capture_file = capture_file
        self.frame_no = 0
        self._stats_mark = (0, 0)

    def process(self, frame: Frame) -> None:
        ts, linktype, data, wirelen = frame
        stats = self.stats
        stats.packets += 1
        stats.bytes += wirelen
        self.frame_no += 1
        # keep_time(ts), written out: this runs once per frame
        if ts < self._now - CLOCK_JUMP:  # the clock went back (NTP at boot, or files out of order):
            self._next_sweep = ts + SWEEP_INTERVAL  # count the sweeps from the new time
        self._now = ts
        if ts >= self._next_sweep:
            self.maintain(ts)
        if (
            linktype == LINKTYPE_ETHERNET
            and self.bulk_shortcut
            and count_bulk_segment(self.flows, self.devices.by_mac, data, wirelen, ts, self.shedding)
        ):
            if self.shedding:
                stats.shed += 1
            return
        try:
            pkt = decode_frame(linktype, data, wirelen)
            if pkt is None:
                return
            src_mac = pkt.src_mac
            if src_mac is not None:
                dev = self.devices.by_mac.get(src_mac)
                if dev is not None:
                    dev.last_seen = ts
                elif is_unicast_mac(src_mac) and not self._admit_device(ts, pkt, src_mac):
                    return
            if pkt.src_ip is None:
                on_frame = self.protocols.ethertypes.get(pkt.ethertype)
                if on_frame is not None:
                    on_frame(self, ts, pkt)
                return
            if pkt.fragment:
                self._fragment(ts, pkt)
                return
            flow = self._track_flow(ts, pkt)
            self._application(ts, pkt, flow)
        except DecodeError:
            stats.malformed += 1
        except Exception:  # a bug must cost one packet, never the daemon
            stats.internal_errors += 1
            if stats.internal_errors <= 10:
                log.exception(
                    "internal error on frame %d of %s", self.frame_no, self.capture_file or "the live capture"
                )

    def _track_flow(self, ts: float, pkt: Packet) -> Flow:
        proto = pkt.proto
        sport, dport = FlowTable.key_ports(proto, pkt.sport, pkt.dport)
        src, dst = pkt.src_ip, pkt.dst_ip
        assert src is not None and dst is not None
        flows = self.flows.flows
        flow = flows.get((proto, src, sport, dst, dport))
        if flow is not None and pkt.tcp_flags & (TCP_SYN | TCP_ACK) == TCP_SYN and self._reopened(flow):
            flow = None
        if flow is not None:
            flow.last = ts
            flow.packets_out += 1
            flow.bytes_out += pkt.wirelen
            outbound = True
        else:
            flow = flows.get((proto, dst, dport, src, sport))
            if (
                flow is None
                and pkt.tcp_flags & (TCP_SYN | TCP_ACK) == TCP_SYN | TCP_ACK
                and proto == PROTO_TCP
            ):
                # The capture missed the SYN: the side answering with SYN-ACK is the server.
                flow = self._start_flow(ts, pkt, (proto, dst, dport, src, sport), answer=True)
                outbound = False
            elif flow is None:
                flow = self._start_flow(ts, pkt, (proto, src, sport, dst, dport))
                outbound = True
            else:
                flow.last = ts
                flow.packets_in += 1
                flow.bytes_in += pkt.wirelen
                outbound = False
                if not flow.established and proto == PROTO_TCP and self._accepted(pkt):
                    flow.established = True
                    if self.wants("flow_established"):
                        self.emit(flow_established_event(flow, ts), flow.device_mac)
        if proto == PROTO_TCP and pkt.tcp_flags & (TCP_FIN | TCP_RST) and not flow.closed_at:
            if pkt.tcp_flags & TCP_RST:
                flow.closed_at, flow.end_reason = ts, "rst"
            else:
                flow.fins |= 1 if outbound else 2
                if flow.fins == 3:
                    flow.closed_at, flow.end_reason = ts, "fin"
        return flow

    def _fragment(self, ts: float, pkt: Packet) -> None:
        """Count a fragment into its flow; decode the datagram once it is whole."""
        if pkt.fragment_offset:
            ports = self.fragments.ports_of(pkt)
            if ports is not None:  # a later fragment before its first is not counted
                pkt.sport, pkt.dport = ports
                self._track_flow(ts, pkt)
        else:
            self._track_flow(ts, pkt)
        whole = self.fragments.add(pkt, ts)
        if whole is not None:
            self._application(ts, whole, None)

    def _reopened(self, flow: Flow) -> bool:
        """A new SYN on the ports of a flow that ended or already carried data is a new
        connection (a retransmitted SYN comes before any data)."""
        if not (flow.closed_at or flow.session is not None):
            return False
        del self.flows.flows[flow.key]
        if not flow.end_reason:
            flow.end_reason = "reopened"
        self._end_flow(flow)
        return True

    def _start_flow(
        self, ts: float, pkt: Packet, key: tuple[int, bytes, int, bytes, int], answer: bool = False
    ) -> Flow:
        """A new flow; `answer` when the packet that opened it came from the responder."""
        src_mac, dst_mac = (pkt.dst_mac, pkt.src_mac) if answer else (pkt.src_mac, pkt.dst_mac)
        flow, evicted = self.flows.start(key, ts, src_mac, dst_mac, pkt.wirelen)
        flow.handshake = answer or pkt.tcp_flags & (TCP_SYN | TCP_ACK) == TCP_SYN
        if answer:
            flow.packets_out, flow.bytes_out, flow.packets_in, flow.bytes_in = 0, 0, 1, pkt.wirelen
        for old in evicted:
            self._end_flow(old)
        if src_mac not in self.metadata_only:
            self._name_by_dns(flow, key)
        if src_mac is not None and is_local_ip(key[1]):
            self.devices.observe_ip(src_mac, key[1], ts)
        if dst_mac is not None and is_local_ip(key[3]):
            self.devices.observe_ip(dst_mac, key[3], ts)
        infrastructure = self.infrastructure  # where the flow goes, and whose it is: once per flow
        flow.direction = builders.flow_direction(key[1], key[3], infrastructure.is_home)
        flow.device_mac = infrastructure.household_mac(key[1], key[3], src_mac, dst_mac)
        self.visibility.flow_started(src_mac, dst_mac, key[1], key[3])
        if self.wants("flow_start"):
            self.emit(flow_start_event(flow), flow.device_mac)
        if answer:  # the capture began with the server's SYN-ACK: accepted already (TCP only)
            flow.established = True
            if self.wants("flow_established"):
                self.emit(flow_established_event(flow, ts), flow.device_mac)
        return flow

    @staticmethod
    def _accepted(pkt: Packet) -> bool:
        """The responder's TCP packet accepts the connection: a SYN-ACK, or data (a capture
        that missed the handshake), never a reset. (UDP has no flow_established: an event
        for every answered DNS lookup would cost more than any rule gains; flow_end's
        packets_in says whether it was answered.)"""
        flags = pkt.tcp_flags
        if flags & TCP_RST:
            return False
        return flags & (TCP_SYN | TCP_ACK) == TCP_SYN | TCP_ACK or pkt.payload_end > pkt.payload_at

    def _name_by_dns(self, flow: Flow, key: tuple[int, bytes, int, bytes, int]) -> None:
        """The name the device looked up for the server's address, and its CNAMEs."""
        names = self.server_names
        for ip in (key[3], key[1]):
            name = names.name_of(ip)
            if name is not None:
                flow.server_name, flow.name_source, flow.cnames = name, "dns", names.cnames_of(ip)
                return

    def _name_by_client(self, flow: Flow, emitted: Emitted) -> None:
        """The name the client itself gave (TLS SNI, HTTP Host): better evidence than DNS."""
        if flow.src_mac in self.metadata_only:
            return
        for event_type, fields in emitted:
            if event_type == "tls_client_hello":
                name, source = fields.get("tls.sni"), "tls"
            elif event_type == "http" and flow.name_source != "tls":
                name, source = fields.get("http.host"), "http"
            else:
                continue
            if isinstance(name, str) and name and not name[-1].isdigit():  # a name, not an address
                flow.server_name, flow.name_source = name.lower().split(":", 1)[0], source

    def _application(self, ts: float, pkt: Packet, flow: Flow | None) -> None:
        if pkt.fragment:
            return
        if pkt.proto == PROTO_TCP and flow is not None and flow.session is not False:
            emitted = self.sessions.tcp(pkt, flow)
            if emitted:
                self._name_by_client(flow, emitted)
            self.session_events(ts, pkt, emitted)
        if pkt.payload_end <= pkt.payload_at:
            return
        if pkt.proto == PROTO_UDP:
            if flow is not None and flow.session is not False:
                emitted = self.sessions.udp(pkt, flow)  # a DTLS or QUIC client's hello
                if emitted:
                    self._name_by_client(flow, emitted)
                    self.session_events(ts, pkt, emitted)
            handler = self.protocols.udp_handler(pkt.sport, pkt.dport)
        elif pkt.proto == PROTO_ICMPV6:
            handler = self.protocols.icmpv6.get(pkt.sport)  # the decoder puts the ICMP type there
        else:
            return
        if handler is not None:
            handler(self, ts, pkt)

    def session_events(self, ts: float, pkt: Packet, emitted: Emitted) -> None:
        """Events a stream analyzer or a datagram's protocol found, dressed with the
        packet's fields and sent for the household device of the conversation."""
        for event_type, fields in emitted:
            on_message = self.protocols.messages.get(event_type)
            if on_message is not None:  # not an event: its protocol's (DNS over TCP)
                on_message(self, ts, pkt, fields["message"])
                continue
            if not self.wants(event_type):
                continue
            event = builders.packet_event(event_type, ts, pkt)
            event.update(fields)
            if event_type == "tls_certificate":
                builders.certificate_dates(event, ts)
            assert pkt.src_ip is not None and pkt.dst_ip is not None
            self.emit(
                event, self.infrastructure.household_mac(pkt.src_ip, pkt.dst_ip, pkt.src_mac, pkt.dst_mac)
            )

    # -- flows measured elsewhere -------------------------------------------

    def exported_flow(self, flow: Flow) -> None:
        """A flow the router measured and exported (pipeline/flow_export.py): named by the
        household's DNS answers, put with its device, and reported as one seen here
        would be, from start to end. It is not counted as seen by this interface."""
        key = flow.key
        flow.src_mac = flow.src_mac or self.mac_of(key[1])
        flow.dst_mac = flow.dst_mac or self.mac_of(key[3])
        if flow.src_mac not in self.metadata_only:
            self._name_by_dns(flow, key)
        infrastructure = self.infrastructure
        flow.direction = builders.flow_direction(key[1], key[3], infrastructure.is_home)
        flow.device_mac = infrastructure.household_mac(key[1], key[3], flow.src_mac, flow.dst_mac)
        flow.closed_at = flow.last
        self.emit(flow_start_event(flow), flow.device_mac)
        if key[0] == PROTO_TCP and flow.packets_in:
            flow.established = True
            self.emit(flow_established_event(flow, flow.start), flow.device_mac)
        event = flow_end_event(flow)
        self.emit(event, flow.device_mac)
        for sink in self.flow_end_sinks:
            sink(event)
        if self.writer is not None:
            self.writer.insert("flows", flow_row(flow))

    def logged_lookup(self, ts: float, lookup: Lookup) -> int:
        """A lookup from the household resolver's log (pipeline/resolver_log.py) or from
        Suricata (pipeline/eve.py), as the DNS event of the device that asked; its answers
        name that device's flows."""
        try:
            client = ipaddress.ip_address(lookup.client)
        except ValueError:
            return 0
        mac = self.mac_of(client.packed)
        resolver = lookup.resolver or min(self.infrastructure.resolvers, default="0.0.0.0")
        event: Event = {
            "ts": ts,
            "type": "dns",
            "dns.id": 0,
            "dns.transport": "log",
            "dns.query": lookup.name,
        }
        answering = lookup.rcode is not None
        event["dns.is_response"] = answering
        ends = (resolver, str(client)) if answering else (str(client), resolver)
        event["src.ip"], event["dst.ip"] = ends
        if mac is not None:
            event["dst.mac" if answering else "src.mac"] = mac_text(mac)
        if lookup.qtype:
            event["dns.qtype"] = lookup.qtype
        if answering:
            event["dns.rcode"] = lookup.rcode
            event["dns.answers"] = list(lookup.answers)
            event["dns.answer_ips"] = self._learn_answers(lookup, mac)
        self.emit(event, mac)
        if self.writer is not None and mac not in self.metadata_only:
            for row in self.dns_log.record(event):
                self.writer.insert("dns_log", row)
        return 1

    def _learn_answers(self, lookup: Lookup, mac: bytes | None) -> list[str]:
        """The answers that are addresses; each names the flows to it."""
        found = []
        for answer in lookup.answers:
            try:
                address = ipaddress.ip_address(answer)
            except ValueError:
                continue
            if mac not in self.metadata_only:
                self.server_names.learn(address.packed, lookup.name.lower())
            found.append(str(address))
        return found

    def mac_of(self, ip: bytes) -> bytes | None:
        """The household device that uses an address: from ARP, else from its flows."""
        binding = self.infrastructure.bindings.get(ip)
        if binding is not None:
            return binding.mac
        text = ip_text(ip)
        for mac, dev in self.devices.by_mac.items():
            if text in dev.ips:
                return mac
        return None

    # -- devices arriving ---------------------------------------------------

    def _admit_device(self, ts: float, pkt: Packet, mac: bytes) -> bool:
        """A MAC not seen before becomes a device, unless a flood of made-up ones is on:
        then its packet is counted and skipped (state/flood.py)."""
        admitted, report = self.flood.admit(ts)
        if report is not None:
            self._flood_event(ts, report)
        if admitted:
            self._new_device(ts, pkt, mac)
        else:
            self.stats.flood_skipped += 1
        return admitted

    def _flood_event(self, ts: float, report: FloodReport) -> None:
        if report.state == "started":
            log.warning(
                "%d new MAC addresses within %.0f s: a flood of made-up devices; packets from "
                "unknown MACs are skipped until it is over",
                report.new_macs,
                FLOOD_WINDOW,
            )
        else:
            log.warning(
                "the MAC flood is over after %.0f s: %d packets from unknown MACs were skipped",
                report.seconds,
                report.skipped_packets,
            )
        event: Event = {
            "ts": ts,
            "type": "mac_flood",
            "flood.state": report.state,
            "flood.new_macs": report.new_macs,
            "flood.window": int(FLOOD_WINDOW),
            "flood.skipped_packets": report.skipped_packets,
            "flood.seconds": int(report.seconds),
        }
        self.emit(event, None)

    def _new_device(self, ts: float, pkt: Packet, mac: bytes) -> None:
        """Held until the device names itself (see state/arrivals.py)."""
        self.devices.add(mac, ts)
        if self.devices.evicted:
            self._write_evicted()
        event = builders.packet_event("device_new", ts, pkt)
        for name in ("dst.mac", "dst.ip", "dst.port", "src.port", "proto"):
            event.pop(name, None)
        self.arrivals.hold(mac, event)

    def _announce(self, mac: bytes, event: Event) -> None:
        dev = self.devices.by_mac.get(mac)
        if dev is not None:
            event["device.identity"] = dev.identity
            event["device.recognisable"] = dev.recognisable
        self.emit(event, mac)

    def announce_held(self, mac: bytes | None) -> None:
        """A held new device named itself (DHCP, mDNS): announce it now."""
        held = self.arrivals.take(mac)
        if held is not None and mac is not None:
            self._announce(mac, held)

    def emit(self, event: Event, device_mac: bytes | None) -> None:
        """Enrich an event with its device and hand it to every sink; an event nobody
        wants (a handler that built it for its own use) goes no further."""
        wanted = self.wanted
        if wanted is not None and event["type"] not in wanted:
            return
        dev = self.devices.by_mac.get(device_mac) if device_mac is not None else None
        if dev is not None:
            event["device.mac"] = dev.mac
            if dev.vendor:
                event["device.vendor"] = dev.vendor
            if dev.name:
                event["device.name"] = dev.name
            event["device.randomized"] = dev.randomized
        for enrich in self.enrichers:
            enrich(event)
        if self.capture_file is not None:
            event["capture.file"] = self.capture_file
            event["capture.frame"] = self.frame_no
        self.stats.events += 1
        by_type = self.stats.events_by_type
        by_type[event["type"]] = by_type.get(event["type"], 0) + 1
        for sink in self.sinks:
            sink(event)

    # -- housekeeping -------------------------------------------------------

    def _end_flow(self, flow: Flow) -> None:
        self.stats.flows_ended += 1
        key = flow.key
        self.visibility.flow_ended(
            flow.src_mac, flow.dst_mac, key[1], key[3], bool(flow.packets_in and flow.packets_out)
        )
        self.sessions.release(flow)
        if self.wants("flow_end"):
            event = flow_end_event(flow)
            self.emit(event, flow.device_mac)
            for sink in self.flow_end_sinks:  # after the others: it sees the event enriched
                sink(event)
        if self.writer is not None:
            self.writer.insert("flows", flow_row(flow))

    def keep_time(self, ts: float) -> None:
        """The capture's time is now `ts`: sweep when due. A household fed by replay
        workers keeps its time here, from where the files are (workers/merge.py)."""
        if ts < self._now - CLOCK_JUMP:  # the clock went back: count the sweeps from the new time
            self._next_sweep = ts + SWEEP_INTERVAL
        self._now = ts
        if ts >= self._next_sweep:
            self.maintain(ts)

    def maintain(self, now: float) -> None:
        """Expire flows and DNS lookups, and write what is due. Cheap; call often."""
        if now < self._next_sweep:
            return
        self._next_sweep = now + SWEEP_INTERVAL
        for flow in self.flows.expire(now):
            self._end_flow(flow)
        for mac, held in self.arrivals.due(now):
            self._announce(mac, held)
        self.fragments.expire(now)
        flood_over = self.flood.advance(now)
        if flood_over is not None:
            self._flood_event(now, flood_over)
        writer = self.writer
        if writer is None:
            return
        for row in self.dns_log.expire(now):
            writer.insert("dns_log", row)
        if writer.full or self.clock.monotonic() >= self._next_flush:
            self.flush()

    def flush(self) -> None:
        """Write devices and everything buffered, in one transaction."""
        writer = self.writer
        if writer is None:
            return
        self._write_evicted()
        for dev in self.devices:
            if dev.changed or dev.last_seen != dev.stored_last_seen:
                self._write_device(writer, dev)
        for kind, value in self.infrastructure.learned:
            learn_infrastructure(writer, kind, value, self._now)
        self.infrastructure.learned.clear()
        writer.flush()
        self._next_flush = self.clock.monotonic() + self.config.values["flush_interval"]

    def _write_device(self, writer: BatchWriter, dev: Device) -> None:
        writer.upsert("devices", dev.row(), ("mac",))
        for ip, (first, last) in dev.ips.items():
            writer.upsert(
                "device_ips",
                {"mac": dev.mac, "ip": ip, "first_seen": first, "last_seen": last},
                ("mac", "ip"),
            )
        dev.changed = False
        dev.stored_last_seen = dev.last_seen

    def _write_evicted(self) -> None:
        """Devices the inventory dropped from memory: written before they are forgotten."""
        evicted = self.devices.evicted
        if self.writer is not None:
            for dev in evicted:
                if dev.changed or dev.last_seen != dev.stored_last_seen:
                    self._write_device(self.writer, dev)
        evicted.clear()

    def capture_stats(self, source: CountedSource, now: float, final: bool = False) -> None:
        """Counters since start into the capture_stats table (health and doctor read it),
        and, since the last call, as a capture_stats event (the capture-loss rule)."""
        counters = source.counters
        packets = counters.packets - self._stats_mark[0]
        drops = counters.kernel_drops - self._stats_mark[1]
        self._stats_mark = (counters.packets, counters.kernel_drops)
        event: Event = {
            "ts": now,
            "type": "capture_stats",
            "capture.source": source.name,
            "capture.packets": packets,
            "capture.drops": drops,
            "capture.drop_ratio": round(drops / (packets + drops), 4) if packets + drops else 0.0,
            "capture.visibility": self.visibility.verdict(),
            "capture.source_problem": "; ".join(self.source_problems(now)),
            **self._store_fields(now),
        }
        self.emit(event, None)
        if self.writer is None:
            return
        self.writer.insert(
            "capture_stats",
            {
                "ts": now,
                "source": source.name,
                "packets": counters.packets,
                "bytes": counters.bytes,
                "kernel_drops": counters.kernel_drops,
                "malformed": self.stats.malformed,
                "events": self.stats.events,
                "stopped": now if final else None,
                "flows_between_others": self.visibility.between_others,
                "flows_answered": self.visibility.answered,
                "flows_group": self.visibility.group,
                "flows_own": self.visibility.own,
                **self.health(),
            },
        )

    def _store_fields(self, now: float) -> Event:
        outage = self.writer.outage if self.writer is not None else None
        if outage is None or not outage.announced:
            return {"store.problem": "", "store.down_for": 0, "store.held": 0}
        return {
            "store.problem": outage.problem,
            "store.down_for": int(now - outage.since),
            "store.held": self.writer.pending if self.writer is not None else 0,
        }

    def close(self) -> None:
        """Announce waiting devices, end every flow and lookup, and write it all out."""
        for mac, held in self.arrivals.drain():
            self._announce(mac, held)
        for flow in list(self.flows.drain()):
            self._end_flow(flow)
        if self.writer is not None:
            for row in self.dns_log.drain():
                self.writer.insert("dns_log", row)
            self.flush()
