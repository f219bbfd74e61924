"""The HTML report in a real headless Chromium (Debian's chromium and chromium-driver,
driven by selenium), in English and Dutch: it renders, fetches nothing, shows each chart
with its table, and axe-core (npm, injected by the test) finds no serious or critical
accessibility violation. Screenshots are kept beside the report for a person to look at.

CI installs the browser and axe-core (README's test command); elsewhere the test skips
and says why, unless HOMEGUARD_REQUIRE_BROWSER is set.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.test_report import TS0, TV, replay_household, report

AXE = Path(__file__).resolve().parent.parent / ".cache" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = os.environ.get("HOMEGUARD_SCREENSHOTS")  # keep them here too, to look at


def browser_missing() -> str | None:
    if shutil.which("chromedriver") is None or shutil.which("chromium") is None:
        return "chromium and chromium-driver are not installed (apt-get install chromium chromium-driver)"
    if not AXE.exists():
        return f"axe-core is not installed at {AXE} (npm install --prefix .cache/axe axe-core@4)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[test]')"
    return None


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    missing = browser_missing()
    if missing:
        if os.environ.get("HOMEGUARD_REQUIRE_BROWSER"):
            pytest.fail(f"the browser tests are required here but {missing}")
        pytest.skip(missing)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,2400"):
        options.add_argument(argument)
    options.binary_location = shutil.which("chromium") or "chromium"
    driver = webdriver.Chrome(options=options, service=Service(shutil.which("chromedriver")))
    driver.set_script_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.mark.parametrize("language", ["en", "nl"])
def test_the_html_report_in_a_real_browser_is_readable_and_accessible(
    chromium: Any, tmp_path: Path, language: str
) -> None:
    db, _config = replay_household(tmp_path)
    page = tmp_path / f"report-{language}.html"
    report(db, "--format", "html", "--language", language, "--output", str(page), now=TS0 + 3600)
    chromium.get(page.as_uri())
    assert chromium.execute_script("return document.documentElement.lang") == language
    # nothing fetched: the page is one file
    assert chromium.execute_script("return performance.getEntriesByType('resource').length") == 0
    text = chromium.find_element("tag name", "main").text
    assert ("Samsung" in text) and ("Eulerian" in text)
    assert ("South Korea" in text) if language == "en" else ("Zuid-Korea" in text)
    charts = chromium.find_elements("css selector", "svg[role=img]")
    tables = chromium.find_elements("css selector", "table")
    assert len(charts) == len(tables) == 4  # every device with organisations: a chart and its table
    for chart in charts:
        assert chart.find_element("tag name", "title").get_attribute("textContent")
    shot = tmp_path / f"report-{language}.png"
    assert chromium.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(SCREENSHOTS) / shot.name)
    chromium.execute_script(AXE.read_text(encoding="utf-8"))
    result = chromium.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']}).then(r => done(r.violations))"
        ".catch(e => done([{id: 'axe-error', impact: 'critical', description: String(e)}]));"
    )
    serious = [
        (v["id"], v["impact"], v.get("description")) for v in result if v["impact"] in ("serious", "critical")
    ]
    assert serious == []


def test_the_tv_device_page_names_both_countries(chromium: Any, tmp_path: Path) -> None:
    db, _config = replay_household(tmp_path)
    page = tmp_path / "tv.html"
    report(db, "--format", "html", "--device", TV[0], "--output", str(page), now=TS0 + 3600)
    chromium.get(page.as_uri())
    row = chromium.find_element("xpath", "//tr[th[contains(., 'Samsung')]]")
    cells = [td.text for td in row.find_elements("tag name", "td")]
    assert cells[0] == "South Korea" and cells[1] == "the United States"
    assert "via Akamai" in row.find_element("tag name", "th").text
