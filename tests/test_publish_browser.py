"""The published site in a real browser: Debian's headless Chromium, driven by Selenium through
Debian's chromedriver, opening the pages from file:// as a reader would. Pages load with no
console error, the filters change what is shown and work from the keyboard, and the charts
render. Without the browser these tests are skipped, except in CI (CI=true), where they fail:
.ci/run installs chromium and chromium-driver."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.wait import WebDriverWait

from test_publish import (  # noqa: F401  (the sites, as fixtures)
    Published,
    main_job_site,
    pages,
    published_site,
)

from conftest import IN_CI

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    if not (CHROMIUM and DRIVER):
        message = ("no headless browser: install Debian's chromium and chromium-driver "
                   "(.ci/run does)")
        if IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    options = Options()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-dev-shm-usage", "--window-size=1280,1000", "--lang=en-GB"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(DRIVER))
    try:
        yield driver
    finally:
        driver.quit()


def open_page(driver: webdriver.Chrome, path: Path) -> list[dict[str, Any]]:
    """Opens the page; returns what it wrote to the console while loading."""
    driver.get(path.as_uri())
    assert driver.execute_script("return document.readyState") == "complete"
    return list(driver.get_log("browser"))


def visible_rows(driver: webdriver.Chrome, table: str) -> list[str]:
    return [row.find_element(By.TAG_NAME, "td").text
            for row in driver.find_elements(By.CSS_SELECTOR, f"#{table} tbody tr")
            if row.is_displayed()]


def after_reset(driver: webdriver.Chrome, table: str, expected: list[str]) -> list[str]:
    """The visible rows once they are ``expected``, or as they are after 3 s: the page filters
    again on the tick after a form's reset (when the controls hold their defaults), so a read
    straight after the key press can still see the rows before it."""
    with contextlib.suppress(TimeoutException):
        WebDriverWait(driver, 3).until(lambda d: visible_rows(d, table) == expected)
    return visible_rows(driver, table)


def tab_to(driver: webdriver.Chrome, selector: str, most: int = 80) -> None:
    """Presses Tab from where the focus is until ``selector`` has it, as a keyboard user."""
    for _ in range(most):
        if driver.execute_script(f"return document.activeElement.matches({selector!r})"):
            return
        ActionChains(driver).send_keys(Keys.TAB).perform()
    raise AssertionError(f"Tab never reached {selector}")


def press(driver: webdriver.Chrome, *keys: str) -> None:
    ActionChains(driver).send_keys(*keys).perform()


def status(driver: webdriver.Chrome, table: str) -> str:
    return str(driver.find_element(By.ID, f"{table}-status").text)


# ---------------------------------------------------------------------------- loading


def test_the_console_is_read(browser: webdriver.Chrome, published: Published) -> None:
    """The check below can fail: an error a page writes is seen."""
    open_page(browser, published.site / "index.html")
    browser.execute_script("console.error('probe from the test')")
    assert any("probe from the test" in entry["message"] for entry in browser.get_log("browser"))


@pytest.mark.parametrize("which", ["published", "main_site"])
def test_every_page_loads_with_no_console_error(
    which: str, request: pytest.FixtureRequest, browser: webdriver.Chrome,
) -> None:
    """The test history's site, and the main job's: decision log, plan progress, grants
    register, transition timeline and every other page open from file:// with nothing on the
    console (a missing file, a script error and a blocked load all show there)."""
    site: Path = request.getfixturevalue(which).site
    seen = pages(site)
    assert len(seen) >= 10
    for page in seen:
        logged = open_page(browser, page)
        assert [e for e in logged if e["level"] in ("SEVERE", "WARNING")] == [], page
        assert browser.find_element(By.TAG_NAME, "h1").text, page
        assert browser.find_element(By.CSS_SELECTOR, "footer").text.count("events") >= 1


# ---------------------------------------------------------------------------- filters


def test_decision_filters_change_what_is_shown_from_the_keyboard(
    browser: webdriver.Chrome, published: Published,
) -> None:
    open_page(browser, published.site / "decisions/index.html")
    assert visible_rows(browser, "decision-table") == ["kpcc-001", "kpcc-002", "kpcc-003"]
    assert status(browser, "decision-table") == "3 of 3 shown"
    browser.find_element(By.TAG_NAME, "body").click()
    tab_to(browser, "select[name=topic]")
    press(browser, Keys.ARROW_DOWN)  # the first topic: 'Cutting crime' (priority-1)
    assert visible_rows(browser, "decision-table") == ["kpcc-001"]
    assert status(browser, "decision-table") == "1 of 3 shown"
    tab_to(browser, "button[type=reset]")
    press(browser, Keys.ENTER)
    every = ["kpcc-001", "kpcc-002", "kpcc-003"]
    assert after_reset(browser, "decision-table", every) == every
    tab_to(browser, "input[data-mode=text]")
    press(browser, "estates")
    assert visible_rows(browser, "decision-table") == ["kpcc-003"]
    press(browser, Keys.BACKSPACE * 7, "grants")
    assert visible_rows(browser, "decision-table") == ["kpcc-001"]
    press(browser, Keys.BACKSPACE * 6)
    tab_to(browser, "select[name=holder]")
    press(browser, Keys.ARROW_DOWN)
    assert browser.execute_script("return document.activeElement.value") == "Ann Example"
    assert visible_rows(browser, "decision-table") == ["kpcc-001", "kpcc-002", "kpcc-003"]
    browser.execute_script(  # a date as a date picker leaves it
        "var i = document.querySelector('input[name=from]'); i.value = '2014-01-01';"
        "i.dispatchEvent(new Event('input', {bubbles: true}));")
    assert visible_rows(browser, "decision-table") == ["kpcc-003"]
    assert status(browser, "decision-table") == "1 of 3 shown"


def test_grant_filters_change_what_is_shown_from_the_keyboard(
    browser: webdriver.Chrome, published: Published,
) -> None:
    open_page(browser, published.site / "grants.html")
    keys = ["pcc/grant/alpha", "pcc/grant/beta", "pcc/grant/gamma"]
    assert visible_rows(browser, "grant-table") == keys
    browser.find_element(By.TAG_NAME, "body").click()
    tab_to(browser, "select[name=year]")
    press(browser, Keys.ARROW_DOWN, Keys.ARROW_DOWN)  # 2013-14, then 2014-15
    assert visible_rows(browser, "grant-table") == ["pcc/grant/beta"]
    assert status(browser, "grant-table") == "1 of 3 shown"
    press(browser, Keys.ARROW_UP)
    assert visible_rows(browser, "grant-table") == ["pcc/grant/alpha", "pcc/grant/gamma"]
    tab_to(browser, "select[name=status]")
    press(browser, Keys.ARROW_DOWN, Keys.ARROW_DOWN)  # awarded, then withdrawn
    assert visible_rows(browser, "grant-table") == ["pcc/grant/gamma"]
    tab_to(browser, "button[type=reset]")
    press(browser, " ")
    assert after_reset(browser, "grant-table", keys) == keys
    tab_to(browser, "input[data-mode=text]")
    press(browser, "diversion")
    assert visible_rows(browser, "grant-table") == ["pcc/grant/alpha"]


def test_the_skip_link_comes_first_and_leads_to_the_content(
    browser: webdriver.Chrome, published: Published,
) -> None:
    open_page(browser, published.site / "grants.html")
    press(browser, Keys.TAB)
    assert browser.execute_script("return document.activeElement.className") == "skip"
    press(browser, Keys.ENTER)
    assert browser.execute_script("return document.activeElement.id") == "main"


# ---------------------------------------------------------------------------- charts


CHARTS = {
    "grants.html": ["chart-grants-recipient", "chart-grants-year"],
    "transitions.html": ["chart-timeline"],
    "plans/kpa-plan.html": ["chart-status-kpa-plan"],
    "plans/pcc-plan.html": ["chart-target-pcc-plan~svictim-crime"],
}


@pytest.mark.parametrize("page", sorted(CHARTS))
def test_charts_render_with_a_text_alternative(
    page: str, browser: webdriver.Chrome, published: Published,
) -> None:
    open_page(browser, published.site / page)
    found = browser.find_elements(By.CSS_SELECTOR, "svg.chart")
    assert sorted(svg.get_attribute("id") for svg in found) == sorted(CHARTS[page])
    for svg in found:
        box = browser.execute_script("return arguments[0].getBoundingClientRect()", svg)
        assert box["width"] > 300 and box["height"] > 20, page
        marks = browser.execute_script(
            "return Array.from(arguments[0].querySelectorAll('rect, circle, polygon'))"
            ".map(function (m) { var b = m.getBBox(); return [b.width, b.height]; })", svg)
        assert marks and all(w > 0 and h > 0 for w, h in marks), page
        named = browser.execute_script(
            "return arguments[0].getAttribute('aria-labelledby').split(' ')"
            ".map(function (i) { var e = document.getElementById(i); return e && e.textContent; })",
            svg)
        assert len(named) == 2 and all(named), page
        assert svg.get_attribute("role") == "img"
        figure = svg.find_element(By.XPATH, "./ancestor::figure")
        assert figure.find_elements(By.CSS_SELECTOR, "details table tbody tr")
    if page == "grants.html":  # a bar per recipient, its length in proportion to the amount
        widths = browser.execute_script(
            "return Array.from(document.querySelectorAll('#chart-grants-recipient rect'))"
            ".map(function (r) { return r.getBBox().width; })")
        assert len(widths) == 2  # Beta 2,500.50 and Alpha 1,000 (Gamma was withdrawn)
        assert abs(widths[1] / widths[0] - 1000 / 2500.5) < 0.01
