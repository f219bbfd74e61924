"""The household scenario: `homeguard replay` on a learning week and then a day with one
instance of every detection must produce exactly the expected findings, by rule and
device, and no others (precision as well as recall)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from scapy.all import wrpcap

from tests import household
from tests.conftest import homeguard


@pytest.fixture(scope="module", params=["1", "3"], ids=["one-process", "three-workers"])
def household_db(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> tuple[Path, list[dict[str, object]], list[dict[str, object]]]:
    """Replays the learning week, then today, into one database, as a fresh install would;
    in one process, and in three workers (`--workers 3`), which must find the same.
    Returns the database and the findings after each replay."""
    workers = str(request.param)
    folder = tmp_path_factory.mktemp("household")
    rules_dir = folder / "rules.d"
    (rules_dir / "lists").mkdir(parents=True)
    (rules_dir / "lists" / "threats.txt").write_text("\n".join(household.THREATS) + "\n")
    db = folder / "homeguard.db"
    week, day = folder / "week.pcap", folder / "today.pcap"
    wrpcap(str(week), household.learning_week())
    wrpcap(str(day), household.today())
    homeguard("replay", str(week), "--db", str(db), "--rules-dir", str(rules_dir), "--workers", workers)
    after_week = json.loads(homeguard("findings", "--db", str(db), "--json").stdout)
    homeguard("replay", str(day), "--db", str(db), "--rules-dir", str(rules_dir), "--workers", workers)
    after_day = json.loads(homeguard("findings", "--db", str(db), "--json").stdout)
    return db, after_week, after_day


def test_the_learning_week_raises_nothing(household_db: tuple[Path, list[Any], list[Any]]) -> None:
    _db, after_week, _ = household_db
    assert after_week == []


def test_today_gives_exactly_the_expected_findings(household_db: tuple[Path, list[Any], list[Any]]) -> None:
    _db, _, after_day = household_db
    found = Counter((row["rule"], row["device_mac"]) for row in after_day)
    expected = Counter(household.EXPECTED_FINDINGS)
    assert (expected - found, found - expected) == (Counter(), Counter()), "(missing, unexpected)"


def test_the_new_device_alert_names_it_and_the_phone_is_recognised(
    household_db: tuple[Path, list[Any], list[Any]],
) -> None:
    _db, _, after_day = household_db
    new = [row for row in after_day if row["category"] == "network.new-device"]
    assert [row["device_mac"] for row in new] == [household.PI[0]]  # not the phone's new private MAC
    assert new[0]["message"] == (
        "A new device joined your network: “raspberrypi” "
        "(dc:a6:32:00:00:66, maker: Raspberry Pi Trading Ltd)."
    )


def test_every_taxonomy_category_but_health_is_covered(
    household_db: tuple[Path, list[Any], list[Any]],
) -> None:
    from homeguard.rules.taxonomy import CATEGORIES

    _db, _, after_day = household_db
    covered = {row["category"] for row in after_day}
    # Neither capture loss, a database fault nor a silent source can be in a capture file,
    # and a MAC flood has no place in a household's day: test_capture_loss_becomes_a_finding,
    # test_storage_faults.py, test_flood.py and the source-down rule's own tests (with
    # test_resolver_log.py and test_flow_export.py) cover them.
    expected = {"health.capture-loss", "health.storage", "health.source", "network.mac-flood"}
    assert set(CATEGORIES) - covered == expected
