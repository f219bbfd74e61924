"""Malware that generates its domain names (DGA), measured with names from published
algorithms (tests/dga_families.py) against real names the model never trained on, and
then end to end: captures replayed through the CLI, findings read back."""

from __future__ import annotations

import json
from itertools import islice
from pathlib import Path
from typing import Any

import pytest
from scapy.all import DNS, wrpcap  # type: ignore[attr-defined]

from homeguard.state.domain_model import looks_generated, surprise
from homeguard.state.enrichment import Enricher
from scripts.train_domain_model import shipped_domains, split_domains
from tests.conftest import TS0, homeguard
from tests.dga_families import FAMILIES, necurs, ramnit, simda
from tests.household import CAMERA, LAPTOP, browse, dhcp_join, lookup


def _flagged(enricher: Enricher, name: str) -> bool:
    return looks_generated(enricher.name_facts(name).domain_surprise)


@pytest.mark.parametrize("family", [f for f in FAMILIES if f != "simda"])
def test_the_model_flags_most_names_of_each_family_long_enough_to_judge(family: str) -> None:
    enricher = Enricher()
    judged = [n for n in FAMILIES[family]() if enricher.name_facts(n).domain_surprise is not None]
    assert len(judged) >= 200
    assert sum(_flagged(enricher, n) for n in judged) / len(judged) >= 0.9


def test_real_names_the_model_never_trained_on_are_seldom_flagged() -> None:
    """The model alone, on the labels of the shipped domains the training kept back (the
    daemon would not judge most of them at all: they are known organisations')."""
    _, kept_back = split_domains(shipped_domains())
    flagged = [d for d in kept_back if looks_generated(surprise(d.split(".", 1)[0]))]
    assert len(kept_back) > 300 and len(flagged) / len(kept_back) < 0.04, flagged


def test_a_known_organisations_machine_made_names_are_not_judged() -> None:
    enricher = Enricher()
    assert looks_generated(surprise("d3gjecg2uu2eaq"))
    assert enricher.name_facts("d3gjecg2uu2eaq.cloudfront.net").domain_surprise is None


def test_word_like_generated_names_are_left_to_the_failure_share() -> None:
    enricher = Enricher()
    assert not any(_flagged(enricher, n) for n in islice(simda(), 100))  # 7 letters: not judged


def test_names_under_a_made_up_top_level_domain_are_a_tunnel_not_a_dga() -> None:
    facts = Enricher().name_facts("f3a9c1e07b2d44aa.dnscat")
    assert facts.zone == "dnscat" and facts.domain_surprise is None


def replay_findings(tmp_path: Path, packets: list[Any]) -> list[dict[str, Any]]:
    for n, packet in enumerate(packets):
        packet.time = TS0 + n * 2
    capture = tmp_path / "dga.pcap"
    wrpcap(str(capture), packets)
    db = str(tmp_path / "hg.db")
    homeguard("replay", str(capture), "--db", db)
    rows: list[dict[str, Any]] = json.loads(homeguard("findings", "--db", db, "--json").stdout)
    return rows


def rules_for(rows: list[dict[str, Any]], mac: str) -> set[str]:
    return {row["rule"] for row in rows if row["device_mac"] == mac}


def test_a_device_looking_up_necurs_names_that_fail_raises_both_dga_findings(tmp_path: Path) -> None:
    names = list(islice(necurs(), 15))
    packets = [*dhcp_join(CAMERA)]
    for i, name in enumerate(names * 2):  # malware retries: 30 answers, all NXDOMAIN
        packets += lookup(CAMERA, name, None, qid=100 + i)
    found = rules_for(replay_findings(tmp_path, packets), CAMERA[0])
    assert {"dga-lookups", "nxdomain-burst"} <= found


def test_word_like_names_that_fail_are_caught_by_the_failure_share_alone(tmp_path: Path) -> None:
    packets = [*dhcp_join(CAMERA)]
    for i, name in enumerate(islice(simda(), 25)):
        packets += lookup(CAMERA, name, None, qid=100 + i)
    found = rules_for(replay_findings(tmp_path, packets), CAMERA[0])
    assert "nxdomain-burst" in found and "dga-lookups" not in found


def test_generated_names_in_tls_hellos_count_without_any_dns(tmp_path: Path) -> None:
    """A device with its own resolver (DNS over HTTPS) still names each server in TLS."""
    packets = [*dhcp_join(LAPTOP)]
    for i, name in enumerate(islice(ramnit(), 12)):
        packets += [
            p for p in browse(LAPTOP, name, f"198.51.100.{i + 1}", 41000 + i, 300 + i) if not p.haslayer(DNS)
        ]
    found = rules_for(replay_findings(tmp_path, packets), LAPTOP[0])
    assert "dga-lookups" in found


def test_a_laptop_browsing_forty_real_sites_raises_no_dga_finding(tmp_path: Path) -> None:
    _, kept_back = split_domains(shipped_domains())
    packets = [*dhcp_join(LAPTOP)]
    for i, name in enumerate(kept_back[:40]):
        packets += lookup(LAPTOP, f"www.{name}", "198.51.100.7", qid=400 + i)
    for i in range(4):  # and a few typos that fail
        packets += lookup(LAPTOP, f"www.exmaple{i}.com", None, qid=500 + i)
    found = rules_for(replay_findings(tmp_path, packets), LAPTOP[0])
    assert not found & {"dga-lookups", "nxdomain-burst"}
