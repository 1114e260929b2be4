"""The mail's HTML part in a real headless Chromium at 600 px, light and dark: nothing runs, nothing is
wider than the window, every paper is there, and the dark palette applies where a client asks for it.

Needs the Debian packages chromium and chromium-driver, like tests/publish/test_browser.py.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from selenium.webdriver.remote.webdriver import WebDriver
from support.browser import chromium, needs_chromium
from support.shows import INTRO, OUTRO, PAPERS, SHOW, SUMMARIES, make_episode

from podcast.mail.edition import edition
from podcast.mail.html import WIDTH, render_html
from podcast.writing.newsletter import render_html as newsletter_html
from podcast.writing.newsletter import render_markdown

pytestmark = needs_chromium
LONG_URL = "https://example.org/papers/" + "a" * 300


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    with chromium() as driver:
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                               {"width": WIDTH, "height": 900, "deviceScaleFactor": 1, "mobile": False})
        yield driver


@pytest.fixture
def page(tmp_path: Path) -> str:
    """The sample edition's mail HTML as a file:// URL; one summary ends with a 300-character URL."""
    ep = make_episode(2, datetime(2024, 5, 17, tzinfo=UTC), 754.0)
    last = SUMMARIES[-1]
    summaries = (*SUMMARIES[:-1], dataclasses.replace(last, text=f"{last.text}\n\n{LONG_URL}"))
    letter = newsletter_html(render_markdown(ep.title, ep.published.date(), INTRO, summaries, OUTRO))
    path = tmp_path / "mail.html"
    path.write_text(render_html(edition(SHOW, ep, letter, "cover.png"), "https://example.org/leave"), "utf-8")
    return path.as_uri()


def dark(browser: WebDriver, on: bool) -> None:
    features = [{"name": "prefers-color-scheme", "value": "dark" if on else "light"}]
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": features})


CARD = "return getComputedStyle(document.querySelector('table.pc-card')).backgroundColor"


def test_the_mail_renders_at_600_px_with_no_script_and_every_paper(browser: WebDriver, page: str) -> None:
    dark(browser, False)
    browser.get(page)
    assert browser.execute_script("return window.innerWidth") == WIDTH
    assert browser.execute_script("return document.scripts.length") == 0
    assert browser.execute_script("return document.documentElement.scrollWidth") <= WIDTH
    card = browser.execute_script("return document.querySelector('table.pc-card').getBoundingClientRect().width")
    assert 0 < card <= WIDTH
    text = browser.execute_script("return document.body.innerText")
    for paper in PAPERS:
        assert paper.title in text
        assert browser.execute_script(f"return document.querySelectorAll('a[href=\"{paper.url}\"]').length") >= 1
    assert "Listen" in text and "Unsubscribe" in text
    assert browser.execute_script(CARD) == "rgb(255, 255, 255)"


def test_the_dark_palette_applies_where_the_client_asks(browser: WebDriver, page: str) -> None:
    dark(browser, True)
    try:
        browser.get(page)
        assert browser.execute_script(CARD) == "rgb(30, 30, 30)"
        assert browser.execute_script("return document.documentElement.scrollWidth") <= WIDTH
    finally:
        dark(browser, False)
