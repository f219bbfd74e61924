"""The dashboard in a real headless Chromium (selenium), on a replayed household with a
hostile device in it: log in, rename a device and see the name in the findings, mute a
rule, acknowledge a finding; nothing the hostile device chose executes or forges a line;
axe-core finds no serious or critical violation on any page, in English or Dutch, at
desktop or phone width. Screenshots go to $HOMEGUARD_SCREENSHOTS when it is set."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlite_utils import Database

from homeguard.clock import ManualClock
from homeguard.settings import load_config
from tests.conftest import homeguard
from tests.receivers import Webhook
from tests.test_hostile_names import forged_lines, hostile_capture
from tests.test_report import TS0, TV, replay_household
from tests.test_report_browser import AXE, chromium  # noqa: F401 - the browser fixture
from tests.test_web import PASSWORD, Site, serving

PAGES = ("/", "/devices", f"/devices/{TV[0]}", "/findings", "/alerts", "/settings", "/report")
WIDTHS = {"desktop": 1280, "phone": 360}


@pytest.fixture
def hostile_site(tmp_path: Path) -> Iterator[Site]:
    db, config_path = replay_household(tmp_path)
    homeguard("replay", str(hostile_capture(tmp_path)), "--db", str(db), "--config", str(config_path))
    config = load_config(str(config_path), {"db_path": str(db)})
    with serving(db, config, ManualClock(TS0 + 3600)) as site:
        yield site


def log_in(driver: Any, site: Site) -> None:
    driver.delete_all_cookies()
    driver.get(site.url + "/login")
    driver.find_element("id", "user").send_keys("admin")
    driver.find_element("id", "password").send_keys(PASSWORD)
    click_and_wait(driver, driver.find_element("css selector", "form.stacked button"))
    assert driver.current_url.rstrip("/") == site.url


def choose_language(driver: Any, site: Site, language: str) -> None:
    from selenium.webdriver.support.ui import Select

    driver.get(site.url + "/devices")
    Select(driver.find_element("id", "language")).select_by_value(language)
    click_and_wait(driver, driver.find_element("css selector", "form.language button"))


def click_and_wait(driver: Any, element: Any) -> None:
    """Click, then wait until the page the click led to has replaced this one and loaded
    (while it is replaced, Chromium answers for the old element with one error or another)."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.support.ui import WebDriverWait

    def replaced(_driver: Any) -> bool:
        try:
            element.is_enabled()
            return False
        except WebDriverException:
            return driver.execute_script("return document.readyState") == "complete"  # type: ignore[no-any-return]

    element.click()
    WebDriverWait(driver, 10).until(replaced)


def status_after(driver: Any, click: Any) -> str:
    """Click a form's button, wait for the page it leads to, and return its status line."""
    click_and_wait(driver, click)
    return str(driver.find_element("css selector", "p[role=status]").text)


def serious_violations(driver: Any) -> list[tuple[str, str]]:
    driver.execute_script(AXE.read_text(encoding="utf-8"))
    found = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document).then(r => done(r.violations))"
        ".catch(e => done([{id: String(e), impact: 'critical'}]));"
    )
    return [(v["id"], v["impact"]) for v in found if v["impact"] in ("serious", "critical")]


def test_a_household_renames_a_device_mutes_a_rule_and_acknowledges_a_finding(
    chromium: Any,  # noqa: F811
    hostile_site: Site,
    webhook: Webhook,
) -> None:
    driver, site = chromium, hostile_site
    log_in(driver, site)
    driver.get(site.url + "/devices")
    driver.find_element("link text", "LG Electronics a8:23:fe:00:00:10").click()
    name = driver.find_element("id", "name")
    name.clear()
    name.send_keys("Living room TV")
    driver.find_element("css selector", "input[name=known]").click()
    assert status_after(driver, driver.find_element("css selector", "form.stacked button")) == "Saved."
    driver.get(site.url + "/findings")
    assert "Device: Living room TV" in driver.find_element("tag name", "main").text
    first = driver.find_element("css selector", ".cards > li.open")
    acknowledge = first.find_element("xpath", ".//form[contains(@action, 'acknowledge')]//button")
    assert status_after(driver, acknowledge) == "Acknowledged"
    mute = driver.find_element("xpath", "//form[.//input[@name='kind' and @value='rule']]")
    from selenium.webdriver.support.ui import Select

    Select(mute.find_element("tag name", "select")).select_by_value("week")
    assert status_after(driver, mute.find_element("css selector", "button")) == "Muted."
    assert Database(site.db).execute("SELECT count(*) FROM mutes").fetchone()[0] == 1
    # a webhook for alerts, and a test that arrives at the real receiver
    driver.get(site.url + "/alerts")
    driver.find_element("xpath", "//summary[normalize-space()='Webhook (JSON)']").click()
    driver.find_element("id", "webhook-name").send_keys("phone")
    driver.find_element("id", "webhook-address").send_keys(webhook.url.replace("json://", "http://"))
    add = driver.find_element("xpath", "//form[.//input[@value='webhook']]//button")
    assert status_after(driver, add).startswith("Target added.")
    test = driver.find_element("xpath", "//form[contains(@action, '/alerts/targets/phone/test')]//button")
    assert status_after(driver, test).startswith("The test was accepted")
    assert [m["title"] for m in webhook.received] == ["HomeGuard test"]
    assert (
        Database(site.db)
        .execute("SELECT count(*) FROM findings WHERE acknowledged IS NOT NULL")
        .fetchone()[0]
        == 1
    )


def test_the_hostile_device_is_inert_and_every_page_is_accessible(
    chromium: Any,  # noqa: F811
    hostile_site: Site,
) -> None:
    driver, site = chromium, hostile_site
    log_in(driver, site)
    shots = (
        Path(os.environ.get("HOMEGUARD_SCREENSHOTS", "")) if os.environ.get("HOMEGUARD_SCREENSHOTS") else None
    )
    for language in ("en", "nl"):
        choose_language(driver, site, language)
        for path in PAGES:
            for width_name, width in WIDTHS.items():
                driver.set_window_size(width, 900)
                driver.get(site.url + path)
                main = driver.find_element("tag name", "main")
                assert driver.execute_script("return document.documentElement.lang") == language
                assert driver.find_elements("css selector", "main b") == []  # the <b> it sent stays text
                assert forged_lines(main.text) == [], path
                assert driver.execute_script("return document.scripts.length") == 0
                scroll = driver.execute_script("return document.documentElement.scrollWidth")
                assert scroll <= width + 1, f"{path} scrolls sideways at {width} px"
                assert serious_violations(driver) == [], (language, path, width_name)
                if shots is not None and path in ("/", "/findings"):
                    shots.mkdir(parents=True, exist_ok=True)
                    name = f"web-{language}-{width_name}-{path.strip('/') or 'overview'}.png"
                    driver.set_window_size(width, 1600)
                    driver.save_screenshot(str(shots / name))
    driver.get(site.url + "/devices")
    assert "PWNED" in driver.find_element("tag name", "main").text  # shown, as text


def test_large_text_at_phone_width_still_fits(
    chromium: Any,  # noqa: F811
    hostile_site: Site,
) -> None:
    """WCAG 1.4.4: text at twice its size, on a 360 px phone, without scrolling sideways."""
    driver, site = chromium, hostile_site
    log_in(driver, site)
    driver.set_window_size(WIDTHS["phone"], 900)
    for path in PAGES:
        driver.get(site.url + path)
        driver.execute_script("document.documentElement.style.fontSize = '200%'")  # CSSOM: the CSP allows it
        assert driver.execute_script("return getComputedStyle(document.body).fontSize") == "32px"
        scroll = driver.execute_script("return document.documentElement.scrollWidth")
        assert scroll <= WIDTHS["phone"] + 1, f"{path} scrolls sideways with large text"
