"""Registrable domains, companies and countries, from offline data."""

from __future__ import annotations

import pytest

from homeguard.state.enrichment import Enricher


@pytest.fixture(scope="module")
def enricher() -> Enricher:
    return Enricher()


@pytest.mark.parametrize(
    ("name", "domain", "company"),
    [
        ("www.youtube.com", "youtube.com", "Google"),
        ("r3---sn-4g5e6nz7.googlevideo.com.", "googlevideo.com", "Google"),
        ("news.bbc.co.uk", "bbc.co.uk", None),
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
    assert (event["flow.server_domain"], event["flow.company"], event["flow.country"]) == (
        "dns.google",
        "Google",
        "US",
    )
    private = {"type": "flow_end", "dst.ip": "192.168.1.1"}
    enricher(private)
    assert "flow.country" not in private
