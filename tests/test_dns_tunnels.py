"""DNS tunnels as they really look: dnscat-style names under a top-level domain nobody
registered (each random label would otherwise be its own "domain"), and iodine-style
names that carry many characters in fewer lookups, in TXT, MX, CNAME and NULL queries."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from scapy.all import DNS, DNSQR, IP, UDP, Ether, wrpcap  # type: ignore[attr-defined]

from tests.conftest import TS0, homeguard
from tests.household import PI, ROUTER

QTYPES = ("TXT", "MX", "CNAME", "NULL")


def queries(names: list[str]) -> list[Any]:
    packets = []
    for n, name in enumerate(names):
        packet = (
            Ether(src=PI[0], dst=ROUTER[0])
            / IP(src=PI[1], dst=ROUTER[1])
            / UDP(sport=40000 + n, dport=53)
            / DNS(id=n, rd=1, qd=DNSQR(qname=name, qtype=QTYPES[n % len(QTYPES)]))
        )
        packet.time = TS0 + n * 5
        packets.append(packet)
    return packets


def random_hex(rng: random.Random, length: int) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(length))


def findings_of(tmp_path: Path, names: list[str]) -> list[dict[str, Any]]:
    capture = tmp_path / "tunnel.pcap"
    wrpcap(str(capture), queries(names))
    homeguard("replay", str(capture), "--db", str(tmp_path / "hg.db"))
    rows = json.loads(homeguard("findings", "--db", str(tmp_path / "hg.db"), "--json").stdout)
    return [row for row in rows if row["category"] == "network.dns-tunnel"]


def test_a_tunnel_under_a_made_up_top_level_domain_is_one_zone(tmp_path: Path) -> None:
    rng = random.Random(2)
    # dnscat2 without a domain: <data>.<session>.dnscat, the session label random too
    names = [f"{random_hex(rng, 60)}.{random_hex(rng, 16)}.dnscat" for _ in range(40)]
    found = findings_of(tmp_path, names)
    assert [row["rule"] for row in found] == ["dns-tunnel"]
    assert "under “dnscat” within ten minutes" in found[0]["message"]


def test_full_names_add_up_even_below_the_lookup_count(tmp_path: Path) -> None:
    rng = random.Random(3)
    # iodine: 28 lookups (the count rule wants 30), each name filled with encoded data
    names = [".".join(random_hex(rng, 63) for _ in range(3)) + ".t.tunnel-example.net" for _ in range(28)]
    found = findings_of(tmp_path, names)
    assert [row["rule"] for row in found] == ["dns-tunnel-volume"]
    assert "under “tunnel-example.net” within ten minutes" in found[0]["message"]
