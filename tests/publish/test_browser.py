"""The site in a real headless Chromium: the player loads the MP3 over HTTP and chapter links seek it.

Needs the Debian packages chromium and chromium-driver (/usr/bin/chromium, /usr/bin/chromedriver);
Selenium is pointed at that driver so it never downloads one.
"""

from __future__ import annotations

import tempfile
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait
from support.shows import SampleSite, write_site

from podcast.publish.site import episode_page

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="no /usr/bin/chromium: apt-get install chromium chromium-driver"
)
PLAYER = "return document.getElementById('player')"


@pytest.fixture
def served(tmp_path: Path, http_files: Callable[[Path], str]) -> tuple[SampleSite, str]:
    site = write_site(tmp_path / "public", duration=30.0, real_audio=True)
    return site, http_files(site.root)


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    opts = webdriver.ChromeOptions()
    opts.binary_location = str(CHROMIUM)
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--mute-audio", "--window-size=1200,900", f"--user-data-dir={profile}"):
            opts.add_argument(arg)
        opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=opts)
        try:
            yield driver
        finally:
            driver.quit()


def open_episode(browser: WebDriver, base: str, site: SampleSite) -> float:
    """Load the newest episode's page; returns the audio duration once the browser knows it."""
    browser.get(base + episode_page(site.episodes[1].slug))
    script = f"const a = ({PLAYER[7:]}); return a.readyState >= 1 && isFinite(a.duration) ? a.duration : null"
    return float(WebDriverWait(browser, 20).until(lambda d: d.execute_script(script)))


def current_time(browser: WebDriver) -> float:
    return float(browser.execute_script(PLAYER + ".currentTime"))


def test_server_answers_range_requests(served: tuple[SampleSite, str]) -> None:
    site, base = served
    ep = site.episodes[1]
    url = base + episode_page(ep.slug).replace("index.html", ep.audio)
    data = (site.page(ep).parent / ep.audio).read_bytes()
    size = len(data)
    end = size - 1
    for asked, first, last in (("0-1", 0, 1), ("-3", size - 3, end), (f"{size - 5}-", size - 5, end)):
        with urllib.request.urlopen(urllib.request.Request(url, headers={"Range": f"bytes={asked}"})) as r:
            assert (r.status, r.headers["Content-Range"]) == (206, f"bytes {first}-{last}/{size}")
            assert r.headers["Content-Type"] == "audio/mpeg" and r.read() == data[first : last + 1]
    with urllib.request.urlopen(urllib.request.Request(url, method="HEAD")) as r:
        assert (r.status, r.headers["Content-Length"]) == (200, str(size))
        assert r.headers["Accept-Ranges"] == "bytes"


@needs_chromium
def test_chapter_link_seeks_the_player(browser: WebDriver, served: tuple[SampleSite, str]) -> None:
    site, base = served
    assert open_episode(browser, base, site) == pytest.approx(30.0, abs=0.5)
    page_url = browser.current_url
    chapter = site.episodes[1].chapters[1]
    browser.find_elements(By.CSS_SELECTOR, ".chapters a[data-start]")[1].click()
    assert current_time(browser) == pytest.approx(chapter.start, abs=0.5)
    assert browser.current_url == page_url, "the click seeks; it does not open the MP3"
    second = browser.find_elements(By.CSS_SELECTOR, ".chapters li")[1]
    WebDriverWait(browser, 5).until(lambda d: "now" in (second.get_attribute("class") or ""))
    severe = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert severe == [], severe  # no script errors, no missing files


@needs_chromium
def test_transcript_cue_seeks_the_player(browser: WebDriver, served: tuple[SampleSite, str]) -> None:
    site, base = served
    open_episode(browser, base, site)
    browser.find_element(By.CSS_SELECTOR, ".transcript summary").click()
    cue = site.cues[-1]
    browser.find_elements(By.CSS_SELECTOR, ".cue")[-1].click()
    assert current_time(browser) == pytest.approx(cue.start, abs=0.5)


@needs_chromium
def test_index_links_to_the_episode_page(browser: WebDriver, served: tuple[SampleSite, str]) -> None:
    site, base = served
    browser.get(base)
    browser.find_element(By.LINK_TEXT, site.episodes[1].title).click()
    assert browser.find_element(By.TAG_NAME, "h1").text == site.episodes[1].title
    assert browser.execute_script("return document.documentElement.lang") == "en"
