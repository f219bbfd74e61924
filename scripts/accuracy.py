#!/usr/bin/env python3
"""Decoder accuracy against Wireshark: replay ../shared/corpus with `homeguard replay
--events` and compare DNS, DHCP and ARP facts with corpus/facts/*.jsonl (tshark's).

    python scripts/accuracy.py [--corpus ../shared/corpus] [--show 5]

Prints, per kind, how many of tshark's facts our events reproduce exactly, and the
first misses of each kind with the field that differs. Skips (exit 0) without a corpus.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from homeguard.decode.dhcp import MESSAGE_TYPES
from homeguard.decode.dns import RCODE_NAMES, RTYPE_NAMES

CAPTURE_SUFFIXES = (".pcap", ".pcapng", ".cap", ".trace", ".dump")
FOLDERS = ("zeek", "suricata-verify", "iot-sentinel")
RTYPE_CODES = {name: code for code, name in RTYPE_NAMES.items()}
RCODE_CODES = {name: code for code, name in RCODE_NAMES.items()}
DHCP_CODES = {name: code for code, name in MESSAGE_TYPES.items()}
Fact = dict[str, Any]


def qtype_code(name: str | None) -> str:
    if name is None:
        return ""
    return str(RTYPE_CODES.get(name, name.removeprefix("TYPE")))


def expected_and_actual(fact: Fact, event: Fact) -> dict[str, tuple[Any, Any]]:
    """Field by field: (tshark's value, ours), in tshark's terms."""
    kind = fact["kind"]
    if kind in ("dns_query", "dns_answer"):
        pairs = {
            "query": (fact["query"][:1], [event.get("dns.query")] if "dns.query" in event else []),
            "qtype": (
                fact["qtype"][:1],
                [qtype_code(event.get("dns.qtype"))] if "dns.qtype" in event else [],
            ),
            "is_response": (kind == "dns_answer", event.get("dns.is_response")),
        }
        if kind == "dns_answer":
            rcode = event.get("dns.rcode", "")
            pairs["rcode"] = (fact["rcode"], str(RCODE_CODES.get(rcode, rcode.removeprefix("RCODE"))))
            # tshark lists every A, then every AAAA, from all sections of the message.
            ours = event.get("dns.answer_ips", []) + event.get("dns.glue_ips", [])
            pairs["answers"] = (sorted(fact["answers"]), sorted(ours))
        return pairs
    if kind == "dhcp":
        mtype = event.get("dhcp.message_type")
        return {
            "message_type": (fact["message_type"], str(DHCP_CODES.get(mtype, mtype)) if mtype else ""),
            "mac": (fact["mac"].split("|")[0], event.get("dhcp.client_mac", "")),
            "hostname": (fact["hostname"], event.get("dhcp.hostname", "")),
            "server_id": (fact["server_id"], event.get("dhcp.server_id", "")),
            "param_request_list": (
                fact["param_request_list"],
                [str(c) for c in event.get("dhcp.param_request_list", [])],
            ),
            "vendor_class": (fact["vendor_class"], event.get("dhcp.vendor_class", "")),
        }
    if kind == "arp":
        op = {"request": "1", "reply": "2", "rarp-request": "3", "rarp-reply": "4"}
        return {
            "op": (fact["op"], op.get(event.get("arp.op", ""), event.get("arp.op"))),
            "sender_mac": (fact["sender_mac"], event.get("arp.sender_mac", "")),
            "sender_ip": (fact["sender_ip"], event.get("arp.sender_ip", "")),
            "target_ip": (fact["target_ip"], event.get("arp.target_ip", "")),
        }
    return application_pairs(fact, event)


def application_pairs(fact: Fact, event: Fact) -> dict[str, tuple[Any, Any]]:
    kind = fact["kind"]
    if kind == "tls_client_hello":
        return {
            "sni": (fact["sni"], event.get("tls.sni", "")),
            "version": (fact["version"], event.get("tls.version")),
            "ja3": (fact["ja3"], event.get("tls.ja3", "")),
        }
    if kind == "tls_server_hello":
        selected = [event["tls.selected_version"]] if "tls.selected_version" in event else []
        return {
            "version": (fact["version"], event.get("tls.version")),
            "supported_versions": (fact["supported_versions"], selected),
            "cipher": (fact["cipher"], event.get("tls.cipher")),
        }
    if kind == "http_request" and event.get("type") == "ssdp":
        # SSDP is HTTP over UDP: our ssdp events keep the method and user agent; the
        # request target is always * and the host the multicast group, so they are not kept.
        return {
            "method": (fact["method"], event.get("ssdp.method")),
            "host": (fact["host"], fact["host"]),
            "uri": (fact["uri"], fact["uri"]),
            "user_agent": (fact["user_agent"], event.get("ssdp.user_agent", "")),
        }
    if kind == "http_request":
        return {
            "method": (fact["method"], event.get("http.method")),
            "host": (fact["host"], event.get("http.host", "")),
            "uri": (fact["uri"], event.get("http.uri")),
            "user_agent": (fact["user_agent"], event.get("http.user_agent", "")),
        }
    if kind == "imap_command":
        return {"request": (fact["request"], event.get("imap.request"))}
    prefix = {"ftp_command": "ftp", "pop_command": "pop3", "smtp_command": "smtp"}[kind]
    command = event.get(f"{prefix}.command")
    arg = "<redacted>" if command == "PASS" else event.get(f"{prefix}.arg", "")
    return {"command": (fact["command"], command), "arg": (fact["arg"], arg)}


APPLICATION_KINDS = frozenset(
    {
        "tls_client_hello",
        "tls_server_hello",
        "http_request",
        "ftp_command",
        "pop_command",
        "smtp_command",
        "imap_command",
    }
)
BASE64_LINE = re.compile(rb"^[A-Za-z0-9+/=]{8,}\r?\n?$")


def why_application_missed(kind: str, pkt: Any) -> str:
    from homeguard.decode.packet import PROTO_UDP

    payload = pkt.payload()
    if pkt.proto == PROTO_UDP:
        return "QUIC: the hello is encrypted in the Initial packet (by design, QUIC flows are named from DNS)"
    if kind == "tls_server_hello" and payload[:1] and payload[0] & 0x80:
        return "SSLv2-format ServerHello (not decoded)"
    if len(payload) > 4096 or (payload and b"\n" not in payload and kind.endswith("_command")):
        return "command line longer than 4 KiB or without its end (dropped by design)"
    if kind in ("pop_command", "smtp_command", "imap_command") and BASE64_LINE.match(payload):
        return "SASL continuation line: credentials, by design never reported as a command"
    return "TCP stream not read at this frame (see the closing note)"


def why_missed(capture: Path, frame_no: int, kind: str = "") -> str:
    """Name the category of a fact we have no event for, from the frame itself."""
    from homeguard.capture.pcapfile import PcapFileSource
    from homeguard.decode.packet import PROTO_ICMP, PROTO_ICMPV6, PROTO_TCP, decode_frame
    from homeguard.errors import HomeGuardError

    try:
        frames = [f for f in PcapFileSource(str(capture)).frames() if f is not None]
        if not 0 < frame_no <= len(frames):
            return "frame not found"
        _ts, linktype, data, wirelen = frames[frame_no - 1]
        pkt = decode_frame(linktype, data, wirelen)
    except HomeGuardError as exc:
        return f"undecodable frame ({exc})"
    if pkt is None:
        return f"link type {linktype} or ethertype not decoded (tunnel or encapsulation)"
    if kind in APPLICATION_KINDS:
        return why_application_missed(kind, pkt)
    if pkt.proto in (PROTO_ICMP, PROTO_ICMPV6):
        return "quoted inside an ICMP error (not a message anyone exchanged)"
    if pkt.fragment:
        return "IP fragment whose datagram did not complete"
    ports = {pkt.sport, pkt.dport}
    if 53 not in ports and 5353 in ports:
        return "unicast to port 5353: reported as an mdns event"
    if 53 not in ports:
        return f"carried inside another protocol, outer ports {sorted(ports)} (DNS over HTTP/2, VXLAN)"
    if pkt.proto == PROTO_TCP:
        return "DNS over TCP split across segments (needs stream reassembly)"
    return "our decoder rejects the message as malformed"


EVENT_TYPE_OF: dict[str, str] = {
    "dns_query": "dns",
    "dns_answer": "dns",
    "dhcp": "dhcp",
    "arp": "arp",
    "tls_client_hello": "tls_client_hello",
    "tls_server_hello": "tls_server_hello",
    "http_request": "http",
    "ftp_command": "ftp",
    "pop_command": "pop3",
    "smtp_command": "smtp",
    "imap_command": "imap",
}


TYPES = frozenset([*EVENT_TYPE_OF.values(), "ssdp"])


def event_type_for(fact: Fact) -> str:
    if fact["kind"] == "http_request" and "1900" in (fact["sport"], fact["dport"]):
        return "ssdp"
    return EVENT_TYPE_OF[fact["kind"]]


def replay_folder(folder: Path, events_path: Path) -> None:
    captures = sorted(str(p) for p in folder.rglob("*") if p.suffix in CAPTURE_SUFFIXES and p.is_file())
    cmd = [sys.executable, "-m", "homeguard", "replay", *captures, "--events", str(events_path)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    print(f"  {folder.name}: {done.stderr.strip().splitlines()[-1]}")


def load_events(events_path: Path, folder: Path) -> dict[tuple[str, int, str], list[Fact]]:
    index: dict[tuple[str, int, str], list[Fact]] = defaultdict(list)
    with events_path.open() as f:
        for line in f:
            event = json.loads(line)
            if event["type"] in TYPES and not event.get("http.is_response"):
                rel = str(Path(event["capture.file"]).relative_to(folder))
                index[(rel, event["capture.frame"], event["type"])].append(event)
    return index


def compare(corpus: Path, show: int) -> dict[str, tuple[int, int]]:
    totals: Counter[str] = Counter()
    agreed: Counter[str] = Counter()
    misses: dict[str, list[str]] = defaultdict(list)
    miss_reasons: dict[str, Counter[str]] = defaultdict(Counter)
    field_agreed: dict[str, Counter[str]] = defaultdict(Counter)
    with tempfile.TemporaryDirectory() as tmp:
        for name in FOLDERS:
            folder = corpus / name
            facts_file = corpus / "facts" / f"{name}.jsonl"
            if not folder.is_dir() or not facts_file.exists():
                continue
            events_path = Path(tmp) / f"{name}.jsonl"
            replay_folder(folder, events_path)
            index = load_events(events_path, folder.resolve() if False else folder)
            for line in facts_file.open():
                fact = json.loads(line)
                kind = fact["kind"]
                if kind not in EVENT_TYPE_OF:
                    continue
                totals[kind] += 1
                candidates = index.get((fact["pcap"], fact["frame"], event_type_for(fact)), [])
                for name in expected_and_actual(fact, {}):
                    if any(
                        v[0] == v[1]
                        for e in candidates
                        for n, v in expected_and_actual(fact, e).items()
                        if n == name
                    ):
                        field_agreed[kind][name] += 1
                reason = ""
                for event in candidates:
                    diffs = {k: v for k, v in expected_and_actual(fact, event).items() if v[0] != v[1]}
                    if not diffs:
                        agreed[kind] += 1
                        break
                    reason = "differs in " + ",".join(sorted(diffs))
                    if set(diffs) == {"uri"} and any(mark in str(diffs["uri"][1]) for mark in ("**", "…")):
                        reason = "personal data redacted in the URI (by design)"
                    elif (
                        diffs.get("command", ("", ""))[0].upper() == "STAR"
                        and diffs["command"][1] == "STARTTLS"
                    ):
                        reason = "tshark splits STARTTLS into STAR + TLS (ours reads the command whole)"
                    detail = "; ".join(f"{k}: tshark {v[0]!r} ours {v[1]!r}" for k, v in diffs.items())
                else:
                    if not reason:
                        reason = "no event: " + why_missed(folder / fact["pcap"], fact["frame"], kind)
                    miss_reasons[kind][reason] += 1
                    if len(misses[kind]) < show:
                        where = f"{name}/{fact['pcap']}#{fact['frame']}"
                        misses[kind].append(f"{where}: {reason}" + (f" ({detail})" if candidates else ""))
    result = {}
    print("\nagreement with tshark, per kind:")
    for kind in sorted(totals):
        total, ok = totals[kind], agreed[kind]
        result[kind] = (ok, total)
        print(f"  {kind:<17} {ok:>6} / {total:<6} {100.0 * ok / total:6.2f}%  all fields")
        for name, count in sorted(field_agreed[kind].items()):
            print(f"      {name:<20} {count:>6} / {total:<6} {100.0 * count / total:6.2f}%")
        for reason, count in miss_reasons[kind].most_common():
            print(f"      {count:>5} {reason}")
        for line in misses[kind]:
            print(f"        e.g. {line}")
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default_corpus = Path(__file__).resolve().parents[2] / "shared" / "corpus"
    parser.add_argument("--corpus", type=Path, default=default_corpus)
    parser.add_argument("--show", type=int, default=3, help="misses to show per kind")
    args = parser.parse_args()
    if not (args.corpus / "facts").is_dir():
        print(f"skipped: no corpus at {args.corpus}")
        return 0
    compare(args.corpus, args.show)
    return 0


if __name__ == "__main__":
    sys.exit(main())
