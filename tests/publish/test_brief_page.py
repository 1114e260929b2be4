"""The brief's link on an episode page, in a real headless Chromium at a desktop and a phone width:
shown under the player, not covered by it, and it plays the brief's MP3 the site serves."""

from __future__ import annotations

import urllib.request
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from publish.test_browser import browser, needs_chromium, sized  # noqa: F401 (fixtures)
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from support.shows import COVER, INTRO, OUTRO, SHOW, SUMMARIES, cues_for, make_mp3, write_site

from podcast.episode.files import brief_name
from podcast.models import Brief
from podcast.publish.site import EpisodeSource, episode_page, render_site
from podcast.writing.newsletter import render_html, render_markdown

BRIEF_SECONDS = 70.0

COVERED = """
const r = arguments[0].getBoundingClientRect();
const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
return arguments[0].contains(hit);
"""


def site_with_brief(root: Path) -> tuple[Path, str]:
    """The sample site with a brief for its newest episode; its page and the brief's file name."""
    site = write_site(root, duration=30.0, real_audio=True)
    old, new = site.episodes
    folder = site.page(new).parent
    name = brief_name(new.slug)
    make_mp3(folder / name, BRIEF_SECONDS)
    new = replace(new, brief=Brief(name, (folder / name).stat().st_size, BRIEF_SECONDS, 96000))
    letter = render_html(render_markdown(new.title, new.published.date(), INTRO, SUMMARIES, OUTRO))
    sources = [EpisodeSource(ep, letter, cues_for(ep.chapters)) for ep in (old, new)]
    for rel, data in render_site(SHOW, sources, COVER).items():
        (root / rel).write_bytes(data)
    return site.page(new), name


@needs_chromium
def test_the_brief_link_shows_and_serves_the_brief(
    sized: WebDriver, tmp_path: Path, http_files: Callable[[Path], str]  # noqa: F811
) -> None:
    page, name = site_with_brief(tmp_path / "public")
    base = http_files(tmp_path / "public")
    url = base + episode_page(page.parent.name)
    sized.get(url)
    link = sized.find_element(By.PARTIAL_LINK_TEXT, "brief")
    assert link.text == "Listen to the 1-minute brief" and link.is_displayed()
    assert sized.execute_script(COVERED, link), "the sticky player covers the brief's link"
    href = link.get_attribute("href") or ""
    assert href == url.removesuffix("index.html") + name
    with urllib.request.urlopen(urllib.request.Request(href, method="HEAD")) as r:
        assert (r.status, r.headers["Content-Type"]) == (200, "audio/mpeg")
        assert r.headers["Content-Length"] == str((page.parent / name).stat().st_size)
    files = [a.get_attribute("href") for a in sized.find_elements(By.CSS_SELECTOR, ".files a[download]")]
    assert href in files  # among the episode's files, for downloading


def test_a_page_without_a_brief_has_no_brief_link(tmp_path: Path) -> None:
    site = write_site(tmp_path / "public")
    html = site.page(site.episodes[1]).read_text("utf-8")
    assert "brief" not in html.lower()
