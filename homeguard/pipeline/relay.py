"""Events and rows from capture workers (homeguard/workers/), into the household's own
pipeline, as if it had made them itself.

Each worker sees only its share of the flows, so three things are put together here:
- a device is new once: the first worker to announce a MAC wins, the others' announcements
  of it (and every announcement of a device the household knows) are dropped;
- a flow is named from every worker's DNS answers, since the lookup and the connection
  may have gone to different workers (the kernel spreads flows, not devices);
- the devices table has one writer: the workers' device rows are merged into the
  household's inventory (names only added, first and last seen widened), which writes it.
The household's settings win over a worker's: a device made metadata-only in the
dashboard loses its lookup log and its names here, whatever a worker still thinks.
"""

from __future__ import annotations

from homeguard.bounded import make_room
from homeguard.decode.addresses import ip_bytes, is_local_ip, mac_bytes
from homeguard.events import Event
from homeguard.pipeline.core import Pipeline
from homeguard.state.devices import MAX_IPS_PER_DEVICE, Device
from homeguard.store.writer import Row, Statement, Upserted

FLOW_EVENTS = frozenset({"flow_start", "flow_established", "flow_end"})
# What the relay learns from (below): a worker builds these whether or not a rule wants them.
RELAY_READS = frozenset({"device_new", "dns", "arp", "dhcp", "flow_start", "flow_end"})
SERVER_MESSAGES = frozenset({"offer", "ack", "nak"})  # a DHCP server's, not a client's
NAME_FIELDS = ("flow.server_name", "flow.name_source", "flow.cnames")
DEVICE_FACTS = ("hostname", "mdns_name", "vendor_class", "dhcp_fingerprint", "ssdp_server")


class EventRelay:
    """The household's end of the workers' batches."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline
        # MACs announced, or known at start. Not the inventory: a worker's device rows
        # may reach it before that worker announces the device.
        self._announced: dict[bytes, None] = dict.fromkeys(pipeline.devices.by_mac)

    def event(self, event: Event) -> None:
        pipeline = self.pipeline
        kind = event["type"]
        mac = mac_bytes(event.get("device.mac"))
        self._heard(event)
        if kind == "device_new":
            if mac is None or mac in self._announced:  # another worker announced it first
                return
            make_room(self._announced, pipeline.config.values["max_devices"])
            self._announced[mac] = None
            if mac not in pipeline.devices.by_mac:
                pipeline.devices.add(mac, float(event["ts"]))
        elif kind == "dns":
            self._learn_names(event, mac)
        elif kind == "arp":
            self._judge_claim(event)
        elif kind == "dhcp":
            self._learn_lease(event)
        if kind in FLOW_EVENTS:
            if kind == "flow_start":
                self._learn_addresses(event)
            if mac_bytes(event.get("src.mac")) in pipeline.metadata_only:
                for name in NAME_FIELDS:  # what the worker named before the household said no
                    event.pop(name, None)
            elif "flow.server_name" not in event:
                self._name_flow(event)
        pipeline.emit(event, mac)
        if kind == "flow_end":
            pipeline.stats.flows_ended += 1
            for sink in pipeline.flow_end_sinks:
                sink(event)

    def _judge_claim(self, event: Event) -> None:
        """Who owns an address is judged here, not in the worker: the lease that gave the
        address, or the owner's earlier ARP, may have gone to another worker. The
        bindings also answer the household's own sources (flow export, resolver logs,
        interception), which ask with mac_of."""
        for verdict in ("arp.owner_mac", "arp.gateway"):
            event.pop(verdict, None)
        mac, ip = mac_bytes(event.get("arp.sender_mac")), ip_bytes(event.get("arp.sender_ip"))
        pipeline = self.pipeline
        pipeline.infrastructure.claim(ip, mac, event, float(event["ts"]), pipeline.devices.last_heard)

    def _learn_lease(self, event: Event) -> None:
        """A DHCP server's answer, whichever worker read it: the household's gateways,
        resolvers and leases (which the ARP judgement above needs)."""
        kind = event.get("dhcp.message_type")
        if kind not in SERVER_MESSAGES:
            return
        client, offered = mac_bytes(event.get("dhcp.client_mac")), ip_bytes(event.get("dhcp.offered_ip"))
        lease = (client, offered) if client is not None and offered is not None and any(offered) else None
        self.pipeline.infrastructure.server_reply(
            kind == "ack",
            lease,
            list(event.get("dhcp.dns_servers") or ()),
            list(event.get("dhcp.routers") or ()),
            event,
            float(event["ts"]),
        )

    def _heard(self, event: Event) -> None:
        """The sender was active (ARP asks whether an address's owner still is); the
        worker's device rows say so only at its next write."""
        dev = self.pipeline.devices.by_mac.get(mac_bytes(event.get("src.mac")) or b"")
        if dev is not None:
            dev.last_seen = max(dev.last_seen, float(event["ts"]))

    def _learn_addresses(self, event: Event) -> None:
        """The household ends of a new flow, with their addresses (mac_of asks these too)."""
        devices = self.pipeline.devices
        ts = float(event["ts"])
        for end in ("src", "dst"):
            mac, ip = mac_bytes(event.get(f"{end}.mac")), ip_bytes(event.get(f"{end}.ip"))
            if mac is not None and ip is not None and is_local_ip(ip):
                devices.observe_ip(mac, ip, ts)

    def _learn_names(self, event: Event, mac: bytes | None) -> None:
        query = event.get("dns.query")
        if not event.get("dns.is_response") or not query or mac in self.pipeline.metadata_only:
            return
        answers = event.get("dns.answer_ips") or []
        cnames = tuple(str(a).lower() for a in event.get("dns.answers") or [] if ip_bytes(a) is None)
        for answer in answers:
            ip = ip_bytes(answer)
            if ip is not None:
                self.pipeline.server_names.learn(ip, str(query).lower(), cnames)

    def _server_name(self, src: object, dst: object, src_mac: object) -> tuple[str, tuple[str, ...]] | None:
        pipeline = self.pipeline
        if mac_bytes(src_mac) in pipeline.metadata_only:
            return None
        names = pipeline.server_names
        for ip in (ip_bytes(dst), ip_bytes(src)):
            if ip is not None:
                name = names.name_of(ip)
                if name is not None:
                    return name, names.cnames_of(ip)
        return None

    def _name_flow(self, event: Event) -> None:
        found = self._server_name(event.get("src.ip"), event.get("dst.ip"), event.get("src.mac"))
        if found is None:
            return
        event["flow.server_name"] = found[0]
        if event["type"] == "flow_end":
            event["flow.name_source"] = "dns"
            if found[1]:
                event["flow.cnames"] = list(found[1])

    # -- rows ----------------------------------------------------------------

    def rows(
        self,
        inserts: dict[str, list[Row]],
        upserts: list[Upserted],
        statements: list[Statement],
    ) -> None:
        pipeline = self.pipeline
        for table, _key, keyed in upserts:
            for row in keyed:
                if table == "devices":
                    self._merge_device(row)
                elif table == "device_ips":
                    self._merge_ip(row)
        writer = pipeline.writer
        if writer is None:
            return
        for table, rows in inserts.items():
            for row in rows:
                if table == "dns_log" and mac_bytes(row.get("device_mac")) in pipeline.metadata_only:
                    continue
                if table == "flows":
                    self._name_row(row)
                writer.insert(table, row)
        for sql, params in statements:
            writer.statement(sql, params)

    def _name_row(self, row: Row) -> None:
        """A flow row as the household names it: from any worker's lookups, and never
        for a metadata-only device (whatever the worker named before it heard)."""
        if mac_bytes(row.get("src_mac")) in self.pipeline.metadata_only:
            row["server_name"] = None
        elif row.get("server_name") is None:
            found = self._server_name(row.get("src_ip"), row.get("dst_ip"), row.get("src_mac"))
            if found is not None:
                row["server_name"] = found[0]

    def _device(self, mac_text: object, first_seen: float) -> Device | None:
        mac = mac_bytes(mac_text)
        if mac is None:
            return None
        devices = self.pipeline.devices
        return devices.by_mac.get(mac) or devices.add(mac, first_seen)

    def _merge_device(self, row: Row) -> None:
        dev = self._device(row["mac"], row["first_seen"])
        if dev is None:
            return
        if row["first_seen"] < dev.first_seen:
            dev.first_seen, dev.changed = row["first_seen"], True
        dev.last_seen = max(dev.last_seen, row["last_seen"])
        for fact in DEVICE_FACTS:
            value = row.get(fact)
            if value and getattr(dev, fact) != value:
                setattr(dev, fact, value)
                dev.changed = True

    def _merge_ip(self, row: Row) -> None:
        dev = self._device(row["mac"], row["first_seen"])
        if dev is None:
            return
        seen = dev.ips.get(row["ip"])
        if seen is None:
            if len(dev.ips) >= MAX_IPS_PER_DEVICE:
                return
            dev.ips[row["ip"]] = [row["first_seen"], row["last_seen"]]
            dev.changed = True
        else:
            seen[0], seen[1] = min(seen[0], row["first_seen"]), max(seen[1], row["last_seen"])
