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
    if pkt.proto == PROTO_UDP and kind == "tls_server_hello":
        return "QUIC: the server's Initial is not opened (only the client's hello is read)"
    if pkt.proto == PROTO_UDP:
        return "QUIC: the client's Initial could not be opened or its hello was not whole"
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
    # --separate: each capture is its own network. Test suites hold the same capture in
    # several folders; replayed as one network, a UDP flow (QUIC) of the second copy would
    # continue the first's, whose hello was already read.
    cmd = [sys.executable, "-m", "homeguard", "replay", *captures, "--separate", "--events", str(events_path)]
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
            index = load_events(events_path, folder)
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
    quic_agreement(args.corpus, args.show)
    return 0


TSHARK_HELLO_FIELDS = (
    "frame.number",
    "tls.handshake.extensions_server_name",
    "tls.handshake.ciphersuite",
    "tls.handshake.extension.type",
    "tls.handshake.sig_hash_alg",
    "tls.handshake.extensions.supported_version",
    "tls.handshake.extensions_alpn_str",
)
JA4_VERSION = {0x0304: "13", 0x0303: "12", 0x0302: "11", 0x0301: "10", 0x0300: "s3", 0x0002: "s2"}


def ja4_from_tshark(row: list[str]) -> str:
    """JA4 computed here, from the spec, out of tshark's own decoding of a QUIC hello."""

    def numbers(text: str) -> list[int]:
        return [int(v, 0) for v in text.split(",") if v]

    def grease(v: int) -> bool:
        return v & 0x0F0F == 0x0A0A and v >> 8 == v & 0xFF

    _frame, sni, ciphers_text, extensions_text, sigs_text, versions_text, alpn_text = row
    ciphers = [c for c in numbers(ciphers_text) if not grease(c)]
    extensions = [e for e in numbers(extensions_text) if not grease(e)]
    versions = [v for v in numbers(versions_text) if not grease(v)]
    version = JA4_VERSION.get(max(versions) if versions else 0x0303, "00")
    alpn = alpn_text.split(",")[0]
    ends = (alpn[0] + alpn[-1]) if alpn and alpn[0].isalnum() and alpn[-1].isalnum() else "00"
    a = f"q{version}{'d' if sni else 'i'}{min(len(ciphers), 99):02d}{min(len(extensions), 99):02d}{ends}"

    def sha12(text: str) -> str:
        import hashlib

        return hashlib.sha256(text.encode()).hexdigest()[:12]

    b = sha12(",".join(f"{c:04x}" for c in sorted(ciphers))) if ciphers else "000000000000"
    hashed = sorted(e for e in extensions if e not in (0x0000, 0x0010))
    sigs = ",".join(f"{x:04x}" for x in numbers(sigs_text))
    text = ",".join(f"{e:04x}" for e in hashed) + (f"_{sigs}" if sigs else "")
    return f"{a}_{b}_{sha12(text) if hashed else '000000000000'}"


def quic_agreement(corpus: Path, show: int) -> None:
    """QUIC hellos: tshark opens the Initials itself; its SNI, and a JA4 computed from its
    fields, against our events. Needs tshark; skips without it."""
    import shutil

    if shutil.which("tshark") is None:
        print("\nQUIC: skipped (no tshark)")
        return
    captures = sorted(
        p for p in corpus.rglob("*") if p.suffix in CAPTURE_SUFFIXES and "quic" in str(p).lower()
    )
    total = sni_ok = ja4_ok = 0
    misses: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        for capture in captures:
            rows = _tshark_quic_hellos(capture)
            if not rows:
                continue
            events_path = Path(tmp) / "quic.jsonl"
            cmd = [sys.executable, "-m", "homeguard", "replay", str(capture), "--events", str(events_path)]
            subprocess.run(cmd, capture_output=True, text=True, check=False)
            ours = {}
            for line in events_path.read_text().splitlines() if events_path.exists() else []:
                event = json.loads(line)
                if event["type"] == "tls_client_hello" and event.get("tls.quic"):
                    ours[event["capture.frame"]] = event
            for row in rows:
                total += 1
                event = ours.get(int(row[0]))
                expected = ja4_from_tshark(row)
                sni_ok += event is not None and event.get("tls.sni", "") == row[1]
                ja4_ok += event is not None and event.get("tls.ja4") == expected
                if (event is None or event.get("tls.ja4") != expected) and len(misses) < show:
                    got = event.get("tls.ja4") if event else "no event"
                    misses.append(f"{capture.relative_to(corpus)}#{row[0]}: tshark {expected} ours {got}")
    print(f"\nQUIC client hellos (tshark opens the Initials itself): {total}")
    if total:
        print(f"  sni   {sni_ok:>5} / {total:<5} {100.0 * sni_ok / total:6.2f}%")
        print(f"  ja4   {ja4_ok:>5} / {total:<5} {100.0 * ja4_ok / total:6.2f}%")
    for line in misses:
        print(f"    e.g. {line}")


def _tshark_quic_hellos(capture: Path) -> list[list[str]]:
    cmd = ["tshark", "-r", str(capture), "-Y", "quic && tls.handshake.type == 1", "-T", "fields"]
    cmd += ["-E", "separator=|", "-E", "aggregator=,"]
    for name in TSHARK_HELLO_FIELDS:
        cmd += ["-e", name]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    width = len(TSHARK_HELLO_FIELDS) - 1
    rows = [line.split("|") for line in done.stdout.splitlines() if line.count("|") == width]
    signature_algorithms = _signature_algorithms_by_frame(capture) if rows else {}
    for row in rows:
        row[4] = signature_algorithms.get(row[0], row[4])
    return rows


def _signature_algorithms_by_frame(capture: Path) -> dict[str, str]:
    """The signature_algorithms extension's list per frame, from tshark's JSON tree: its
    flat field also holds the delegated_credentials extension's list, which JA4 leaves out."""
    cmd = ["tshark", "-r", str(capture), "-Y", "quic && tls.handshake.type == 1", "-T", "json"]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    try:
        packets = json.loads(done.stdout or "[]", object_pairs_hook=list)
    except ValueError:
        return {}
    out: dict[str, str] = {}
    for packet in packets:
        frame = _tree_values(packet, "frame.number")
        sigs = [
            v for ext in _tree_extensions(packet) for v in _tree_values(ext, "tls.handshake.sig_hash_alg")
        ]
        if frame:
            out[frame[0]] = ",".join(sigs)
    return out


def _tree_values(node: Any, name: str) -> list[str]:
    """Every value of `name` below a node of tshark's JSON (read keeping repeated keys)."""
    found: list[str] = []
    for item in node if isinstance(node, list) else []:
        if isinstance(item, tuple) and len(item) == 2:
            key, value = item
            found += [value] if key == name and isinstance(value, str) else _tree_values(value, name)
        else:
            found += _tree_values(item, name)
    return found


def _tree_extensions(node: Any) -> list[Any]:
    """The signature_algorithms extensions below a node."""
    found: list[Any] = []
    for item in node if isinstance(node, list) else []:
        if isinstance(item, tuple) and len(item) == 2:
            if item[0].startswith("Extension: signature_algorithms"):
                found.append(item[1])
            else:
                found += _tree_extensions(item[1])
        else:
            found += _tree_extensions(item)
    return found


if __name__ == "__main__":
    sys.exit(main())
