"""Lines of a household resolver's query log read into lookups and answers: dnsmasq's
`log-queries`, unbound's `log-queries` and `log-replies`, and AdGuard Home's
querylog.json (pipeline/resolver_log.py follows the files). A line is the network's
words as the resolver wrote them: nothing here trusts it beyond the patterns. Names are
made safe as every name from the network is (decode/text.py), and the addresses are
checked where they are used."""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass

from homeguard.bounded import make_room
from homeguard.decode.dns import RTYPE_A, RTYPE_AAAA, parse_dns, rcode_name
from homeguard.decode.text import network_name
from homeguard.errors import DecodeError

MAX_PENDING = 4096  # dnsmasq names whose asker waits for the reply line
DNSMASQ_QUERY = re.compile(r"query\[(\w+)\] (\S+) from (\S+)")
DNSMASQ_REPLY = re.compile(r"(?:reply|cached|config) (\S+) is (\S+)")
UNBOUND = re.compile(r"info: (\S+) (\S+)\. (\w+) IN(?: (\w+) [\d.]+ \d+ \d+)?\s*$")
RCODES = {"NXDOMAIN": "NXDOMAIN", "NODATA": "NOERROR", "SERVFAIL": "SERVFAIL", "REFUSED": "REFUSED"}


@dataclass(slots=True)
class Lookup:
    client: str
    name: str
    qtype: str = ""
    rcode: str | None = None  # set on an answer
    answers: tuple[str, ...] = ()  # addresses, on an answer
    resolver: str | None = None  # when the source says which (EVE does; the logs do not)


def parse_line(line: str, askers: dict[str, str]) -> Lookup | None:
    """A lookup or an answer from one log line; `askers` pairs dnsmasq's reply lines
    (which do not name the client) with the query before them."""
    if line.startswith("{"):
        return adguard_entry(line)
    found = DNSMASQ_QUERY.search(line)
    if found:
        qtype, raw_name, client = found.groups()
        name = network_name(raw_name)
        make_room(askers, MAX_PENDING)
        askers[name.lower()] = client
        return Lookup(client, name, qtype)
    found = DNSMASQ_REPLY.search(line)
    if found:
        raw_name, value = found.groups()
        name = network_name(raw_name)
        client = askers.get(name.lower())
        if client is None:
            return None
        if value in RCODES or value.startswith("<"):  # NXDOMAIN, NODATA, <CNAME>
            return Lookup(client, name, rcode=RCODES.get(value, "NOERROR"))
        return Lookup(client, name, rcode="NOERROR", answers=(network_name(value),))  # an address or a name
    found = UNBOUND.search(line)
    if found:
        client, raw_name, qtype, rcode = found.groups()
        return Lookup(client, network_name(raw_name), qtype, rcode=rcode)
    return None


def adguard_entry(line: str) -> Lookup | None:
    """One entry of AdGuard Home's querylog.json: the client (IP), the name (QH) and type
    (QT), and the whole DNS answer it gave (Answer, base64), read with HomeGuard's own DNS
    decoder for its code and addresses."""
    try:
        entry = json.loads(line)
    except (ValueError, RecursionError):
        return None
    if not isinstance(entry, dict):
        return None
    client, name, qtype = entry.get("IP"), entry.get("QH"), entry.get("QT")
    if not (isinstance(client, str) and isinstance(name, str) and name):
        return None
    rcode, addresses = "NOERROR", tuple[str, ...]()
    answer = entry.get("Answer")
    if isinstance(answer, str):
        try:
            message = parse_dns(base64.b64decode(answer, validate=True))
        except (ValueError, DecodeError):
            message = None
        if message is not None and message.is_response:
            rcode = rcode_name(message.rcode)
            addresses = tuple(
                r.value for r in message.answers if r.rtype in (RTYPE_A, RTYPE_AAAA) and r.value
            )
    kind = network_name(qtype) if isinstance(qtype, str) else ""
    return Lookup(client, network_name(name), kind, rcode, addresses)
