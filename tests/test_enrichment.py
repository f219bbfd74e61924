"""Registrable domains, companies and countries, from offline data."""

from __future__ import annotations

from pathlib import Path

import pytest

from homeguard.events import Event
from homeguard.state.enrichment import Enricher


@pytest.fixture(scope="module")
def enricher() -> Enricher:
    return Enricher()


@pytest.mark.parametrize(
    ("name", "domain", "company"),
    [
        ("www.youtube.com", "youtube.com", "Google"),
        ("r3---sn-4g5e6nz7.googlevideo.com.", "googlevideo.com", "Google"),
        ("news.bbc.co.uk", "bbc.co.uk", "BBC"),  # under a public suffix of two labels
        ("api.samsungcloud.com", "samsungcloud.com", "Samsung"),
        ("notgoogle.com", "notgoogle.com", None),
        ("printer.local", "printer.local", None),
        ("localhost", None, None),
    ],
)
def test_domain_and_company(enricher: Enricher, name: str, domain: str | None, company: str | None) -> None:
    assert enricher.domain_and_company(name) == (domain, company)


def test_flow_events_get_domain_company_and_country(enricher: Enricher) -> None:
    event = {"type": "flow_start", "dst.ip": "8.8.8.8", "flow.server_name": "dns.google"}
    enricher(event)
    assert (event["server.domain"], event["server.company"], event["server.country"]) == (
        "dns.google",
        "Google",
        "US",
    )
    private = {"type": "flow_end", "dst.ip": "192.168.1.1"}
    enricher(private)
    assert "server.country" not in private


@pytest.mark.parametrize(
    ("name", "length", "random_looking"),
    [
        ("www.google.com", 3, False),
        ("google.com", 0, False),
        # what iodine and dnscat2 send: data encoded into long labels
        ("aGVsbG8gd29ybGQgdGhpcyBpcyBleGZpbHRyYXRlZA0x9kq.t.tunnel.example.net", 56, True),
    ],
)
def test_dns_names_get_subdomain_length_and_entropy(
    enricher: Enricher, name: str, length: int, random_looking: bool
) -> None:
    event: Event = {"type": "dns", "dns.query": name}
    enricher(event)
    assert event["dns.subdomain_length"] == length
    assert (event["dns.subdomain_entropy"] > 4.0) is random_looking


def test_every_tracker_host_belongs_to_the_company_its_section_names(enricher: Enricher) -> None:
    """rules/lists/trackers.txt groups hosts under '# company:' lines; entities.yaml must
    name the same company for each, so alerts and reports say who is behind a tracker."""
    import re
    from pathlib import Path

    company, wrong, hosts = None, [], 0
    for line in (Path(__file__).parent.parent / "rules" / "lists" / "trackers.txt").read_text().splitlines():
        header = re.match(r"# company: (.+)", line)
        if header:
            company = header[1]
        elif line and not line.startswith("#"):
            hosts += 1
            found = enricher.domain_and_company(line)[1]
            if found != company:
                wrong.append((line, company, found))
    assert wrong == []
    assert hosts >= 300


def test_the_organisations_file_is_sound() -> None:
    """At least 500 organisations, each with a country code and a known purpose, and no
    domain claimed by two of them (the loader would silently keep the last)."""
    import yaml

    from homeguard.state.organisations import PURPOSES

    raw = yaml.safe_load((Path(__file__).parent.parent / "homeguard" / "data" / "entities.yaml").read_text())
    assert len(raw) >= 500
    owners: dict[str, list[str]] = {}
    for name, entry in raw.items():
        assert len(entry["country"]) == 2 and entry["country"].isupper(), name
        assert entry.get("purpose") in (None, *PURPOSES), name
        for domain in entry["domains"]:
            owners.setdefault(domain.lower(), []).append(name)
    assert {d: o for d, o in owners.items() if len(o) > 1} == {}
