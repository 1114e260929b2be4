"""The site in a real headless Chromium: the player loads the MP3 over HTTP and chapter links seek it.

Needs the Debian packages chromium and chromium-driver (/usr/bin/chromium, /usr/bin/chromedriver);
Selenium is pointed at that driver so it never downloads one.
"""

from __future__ import annotations

import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fakes.http_files import serve
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait
from support.browser import chromium, needs_chromium
from support.shows import (
    COVER,
    SampleSite,
    cues_for,
    make_cover,
    make_episode,
    make_mp3,
    sample_show,
    write_site,
)

from podcast.models import BuiltEpisode, Cue, Show
from podcast.publish.site import EpisodeSource, episode_page, render_site
from podcast.settings import SiteSettings

PLAYER = "return document.getElementById('player')"


@pytest.fixture
def served(tmp_path: Path, http_files: Callable[[Path], str]) -> tuple[SampleSite, str]:
    site = write_site(tmp_path / "public", duration=30.0, real_audio=True)
    return site, http_files(site.root)


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    with chromium("--window-size=1200,900", log_browser=True) as driver:
        yield driver


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


# --- What listeners get besides the player (issue 14): at a desktop and a phone width -----------------

APPS = SiteSettings(
    apple_podcasts="https://podcasts.apple.com/us/podcast/papers-pods/id1234567890",
    spotify="https://open.spotify.com/show/4rOoJ6Egrf8K2IrywzwOMk",
    pocket_casts="https://pca.st/itunes/1234567890",
    newsletter_url="https://buttondown.com/paperspods",
)
SPOKEN_ONLY = "Hochreiterish"
"""A word said in the first episode's transcript only: not in any title or newsletter."""
HOSTILE = "<script>window.pwned = 1; document.title = 'pwned'</script><img src=x onerror=\"window.pwned = 2\">"
WIDTHS = (1280, 390)


@dataclass(frozen=True)
class ListenerSite:
    base: str
    show: Show
    episodes: tuple[BuiltEpisode, ...]
    """Oldest first; the newest has a real MP3."""

    def url(self, ep: BuiltEpisode) -> str:
        return self.base + episode_page(ep.slug)


@pytest.fixture(scope="module")
def listener_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ListenerSite]:
    """A three-episode site with [site] links, a hostile title and a word spoken only in a transcript,
    made by render_site as `podcast publish` makes it, served over HTTP for the module."""
    root = tmp_path_factory.mktemp("listeners") / "public"
    show = sample_show(site=APPS, hosts=("Ava", "Sam"))
    eps = (
        make_episode(1, datetime(2024, 5, 10, 6, 0, tzinfo=UTC), 1834.0),
        replace(make_episode(2, datetime(2024, 5, 17, 6, 0, tzinfo=UTC), 40.0), title=f"Week 2 {HOSTILE}"),
        make_episode(3, datetime(2024, 5, 24, 6, 0, tzinfo=UTC), 40.0),
    )
    sources = []
    for ep in eps:
        cues = list(cues_for(ep.chapters))
        if ep.number == 1:
            cues.append(Cue(1800.0, 1830.0, "Sam", f"And that is what {SPOKEN_ONLY} would say."))
        sources.append(EpisodeSource(ep, "<p>The newsletter of the week.</p>", tuple(cues)))
    root.mkdir(parents=True)
    make_cover(root / COVER)
    for rel, data in render_site(show, sources, COVER).items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    for ep in eps:
        make_mp3((root / episode_page(ep.slug)).parent / ep.audio, min(ep.duration, 40.0))
    with serve(root) as base:
        yield ListenerSite(base, show, eps)


@pytest.fixture(params=WIDTHS, ids=lambda w: f"{w}px")
def sized(request: pytest.FixtureRequest, browser: WebDriver) -> Iterator[WebDriver]:
    browser.set_window_size(request.param, 900)
    try:
        yield browser
    finally:
        browser.set_window_size(1200, 900)


def clipboard(browser: WebDriver) -> str:
    script = "const done = arguments[0]; navigator.clipboard.readText().then(done, e => done('error: ' + e))"
    return str(browser.execute_async_script(script))


def allow_clipboard(browser: WebDriver, base: str) -> None:
    browser.execute_cdp_cmd("Browser.grantPermissions", {
        "origin": base.rstrip("/"), "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]})


def visible(browser: WebDriver, css: str) -> list[str]:
    return [el.text for el in browser.find_elements(By.CSS_SELECTOR, css) if el.is_displayed()]


def no_overflow(browser: WebDriver) -> None:
    width = browser.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"the page is wider than the window: {width}"


@needs_chromium
def test_subscribe_buttons_and_copying_the_feed_address(sized: WebDriver, listener_site: ListenerSite) -> None:
    site, browser = listener_site, sized
    allow_clipboard(browser, site.base)
    for url in (site.base, site.url(site.episodes[0])):
        browser.get(url)
        apps = browser.find_elements(By.CSS_SELECTOR, ".subscribe a[data-app]")
        assert [(a.text, a.get_attribute("href"), a.is_displayed()) for a in apps] == [
            (name, link, True) for name, link in APPS.apps()], url
        signup = browser.find_element(By.CSS_SELECTOR, ".subscribe a[data-newsletter]")
        assert signup.is_displayed() and signup.get_attribute("href") == APPS.newsletter_url
        no_overflow(browser)
    copy = browser.find_element(By.CSS_SELECTOR, "[data-copy='feed-url']")
    copy.click()
    WebDriverWait(browser, 5).until(lambda d: copy.text == "Copied")
    assert clipboard(browser) == site.show.feed_url


@needs_chromium
def test_share_the_link_at_the_current_time_and_open_it(sized: WebDriver, listener_site: ListenerSite) -> None:
    site, browser = listener_site, sized
    allow_clipboard(browser, site.base)
    newest = site.episodes[-1]
    browser.get(site.url(newest))
    WebDriverWait(browser, 20).until(lambda d: d.execute_script(PLAYER + ".readyState >= 1"))
    browser.execute_script(PLAYER + ".currentTime = 23.6")
    at = browser.find_element(By.ID, "share-at")
    WebDriverWait(browser, 5).until(lambda d: at.text == "Copy at 0:23")
    at.click()
    link = browser.find_element(By.ID, "share-url").get_attribute("value")
    assert link == f"{site.show.base_url}episodes/{newest.slug}/#t=23"
    WebDriverWait(browser, 5).until(lambda d: clipboard(d) == link)
    # The link, served from here: the page starts the player at 0:23.
    browser.get(site.url(newest) + "#t=23")
    WebDriverWait(browser, 20).until(lambda d: d.execute_script(PLAYER + ".readyState >= 1"))
    assert current_time(browser) == pytest.approx(23.0, abs=0.3)
    embed = browser.find_element(By.ID, "embed-code").get_attribute("value")
    assert embed.startswith(f'<iframe src="{site.show.base_url}episodes/{newest.slug}/embed.html"')


@needs_chromium
def test_the_embed_page_plays_the_episode(sized: WebDriver, listener_site: ListenerSite) -> None:
    site, browser = listener_site, sized
    newest = site.episodes[-1]
    browser.get(site.url(newest).replace("index.html", "embed.html"))
    script = "const a = document.querySelector('audio'); a.preload = 'metadata'; a.load(); return true"
    browser.execute_script(script)
    duration = "const a = document.querySelector('audio'); return a.readyState >= 1 ? a.duration : null"
    assert WebDriverWait(browser, 20).until(lambda d: d.execute_script(duration)) == pytest.approx(40.0, abs=0.5)
    assert browser.find_element(By.CSS_SELECTOR, ".embed a").text == newest.title
    assert browser.execute_script("return document.querySelector('img').naturalWidth") == 1400
    no_overflow(browser)


@needs_chromium
def test_search_finds_a_word_spoken_only_in_a_transcript(sized: WebDriver, listener_site: ListenerSite) -> None:
    site, browser = listener_site, sized
    browser.get(site.base)
    search = browser.find_element(By.ID, "search")
    search.send_keys(SPOKEN_ONLY[:9].lower())  # the start of a word is enough
    first = site.episodes[0]
    WebDriverWait(browser, 5).until(lambda d: visible(d, ".episode h3") == [first.title])
    assert visible(browser, ".episode .found") == ["Found in the transcript"]
    assert browser.find_element(By.ID, "search-status").text == "1 episode matches"
    search.clear()
    search.send_keys("Newsletter WEEK")  # every newsletter has both words
    WebDriverWait(browser, 5).until(lambda d: len(visible(d, ".episode h3")) == 3)
    search.send_keys(" zebra")
    WebDriverWait(browser, 5).until(lambda d: visible(d, ".episode h3") == [])
    assert browser.find_element(By.ID, "search-status").text == "0 episodes match"


@needs_chromium
def test_find_in_the_transcript_scrolls_below_the_sticky_player(
    sized: WebDriver, listener_site: ListenerSite
) -> None:
    site, browser = listener_site, sized
    browser.get(site.url(site.episodes[0]))
    browser.find_element(By.CSS_SELECTOR, ".transcript summary").click()
    find = browser.find_element(By.ID, "find")
    find.send_keys(SPOKEN_ONLY)
    WebDriverWait(browser, 5).until(lambda d: d.find_element(By.ID, "find-status").text == "1 found")
    find.send_keys(Keys.ENTER)
    hit = browser.find_element(By.CSS_SELECTOR, ".cue.hit.current")
    assert SPOKEN_ONLY in hit.text
    assert_below_player(browser, hit)
    # A heading reached by its link stays clear of the player too (scroll-margin-top).
    browser.execute_script("window.scrollTo(0, document.body.scrollHeight); location.hash = '#chapters-h'")
    assert_below_player(browser, browser.find_element(By.ID, "chapters-h"))


def assert_below_player(browser: WebDriver, el: WebElement) -> None:
    top = browser.execute_script("return arguments[0].getBoundingClientRect().top", el)
    player = browser.execute_script("return document.querySelector('.player').getBoundingClientRect().bottom")
    assert top >= player, f"{el.text!r} at {top}px is under the player (its bottom is at {player}px)"


@needs_chromium
def test_previous_and_next_episode(sized: WebDriver, listener_site: ListenerSite) -> None:
    site, browser = listener_site, sized
    first, second, third = site.episodes
    browser.get(site.url(second))
    browser.find_element(By.CSS_SELECTOR, ".pager a[rel=prev]").click()
    assert browser.find_element(By.TAG_NAME, "h1").text == first.title
    assert browser.find_elements(By.CSS_SELECTOR, ".pager a[rel=prev]") == []
    browser.find_element(By.CSS_SELECTOR, ".pager a[rel=next]").click()
    assert browser.find_element(By.TAG_NAME, "h1").text == second.title
    browser.find_element(By.CSS_SELECTOR, ".pager a[rel=next]").click()
    assert browser.find_element(By.TAG_NAME, "h1").text == third.title
    assert browser.find_elements(By.CSS_SELECTOR, ".pager a[rel=next]") == []
    no_overflow(browser)


@needs_chromium
def test_hostile_titles_are_text_and_never_run(sized: WebDriver, listener_site: ListenerSite) -> None:
    site, browser = listener_site, sized
    browser.get_log("browser")  # drop what earlier tests logged
    hostile = site.episodes[1]
    for url, heading in ((site.base, ".episode h3"), (site.url(hostile), "h1"),
                         (site.url(hostile).replace("index.html", "embed.html"), ".embed a")):
        browser.get(url)
        assert hostile.title in [el.text for el in browser.find_elements(By.CSS_SELECTOR, heading)], url
        assert browser.execute_script("return window.pwned === undefined && document.title !== 'pwned'"), url
    browser.get(site.base)
    browser.find_element(By.ID, "search").send_keys("onerror")  # the title's words are searchable text
    WebDriverWait(browser, 5).until(lambda d: visible(d, ".episode h3") == [hostile.title])
    assert browser.execute_script("return window.pwned === undefined")
    severe = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert severe == [], severe  # no script errors, no missing files (the hostile <img> is text)
