"""The static site's pages and the readers' feed, read back with lxml and feedparser."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import feedparser
import lxml.html
import pytest
from support.shows import COVER, INTRO, SHOW, SampleSite, make_episode, write_site

from podcast.errors import ConfigError
from podcast.publish.site import NEWSLETTER_FEED, render_episode_page, render_index, render_newsletter_feed


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> SampleSite:
    return write_site(tmp_path_factory.mktemp("site") / "public")


def parse(path: Path) -> lxml.html.HtmlElement:
    return lxml.html.fromstring(path.read_bytes())


def local_links(page: lxml.html.HtmlElement) -> set[str]:
    """Every href/src that points into the site (not to another host, not a same-page #anchor)."""
    links = set()
    for el, _attr, link, _pos in page.iterlinks():
        if el.tag == "meta" or (el.tag == "link" and el.get("rel") == "canonical"):
            continue  # absolute URLs for crawlers and link previews, checked separately
        if not urlsplit(link).scheme and not link.startswith("#"):
            links.add(link)
    return links


def test_every_local_link_resolves_to_a_published_file(site: SampleSite) -> None:
    pages = [site.root / "index.html", *(site.page(ep) for ep in site.episodes)]
    for page in pages:
        base = "file:///" + page.relative_to(site.root).as_posix()
        for link in local_links(parse(page)):
            target = urlsplit(urljoin(base, link)).path.lstrip("/")
            assert (site.root / target).is_file(), f"{page.name}: {link} -> {target} is missing"


def test_pages_declare_language_and_inline_their_only_style_and_script(site: SampleSite) -> None:
    for path in (site.root / "index.html", site.page(site.episodes[0])):
        page = parse(path)
        assert page.get("lang") == "en"
        assert len(page.findall(".//style")) == 1 and page.findall(".//link[@rel='stylesheet']") == []
        assert all(s.get("src") is None for s in page.iter("script")), "no external scripts"
        assert "http" not in page.find(".//style").text, "no web fonts or remote images"
        assert page.find(".//meta[@name='viewport']") is not None


def test_index_lists_episodes_newest_first_with_subscribe_links(site: SampleSite) -> None:
    page = parse(site.root / "index.html")
    titles = [h.text_content() for h in page.findall(".//li[@class='episode']/h3")]
    assert titles == [ep.title for ep in sorted(site.episodes, key=lambda e: e.published, reverse=True)]
    assert page.find(".//img[@class='cover']").get("src") == COVER
    assert page.find(".//input[@id='feed-url']").get("value") == "https://example.org/papers/feed.xml"
    assert page.find(".//label[@for='feed-url']") is not None
    hrefs = {a.get("href") for a in page.iter("a")}
    newest = "episodes/2024-w20/"
    assert {"feed.xml", NEWSLETTER_FEED, newest + "index.html", newest + "2024-w20.mp3"} <= hrefs
    first = page.find(".//li[@class='episode']")
    assert first.find(".//time").get("datetime") == "2024-05-17"
    assert "17 May 2024" in first.text_content() and "1 min" in first.text_content()
    assert "31 min" in page.findall(".//li[@class='episode']")[1].text_content()


def test_episode_page_has_player_chapters_transcript_and_files(site: SampleSite) -> None:
    ep = site.episodes[1]
    page = parse(site.page(ep))
    audio = page.find(".//audio")
    assert audio.get("src") == ep.audio and audio.get("preload") == "metadata" and "controls" in audio.attrib
    links = page.findall(".//ol[@class='chapters card']/li/a[@data-start]")
    assert [float(a.get("data-start")) for a in links] == [c.start for c in ep.chapters]
    stamps = [a.find("span").text for a in links]
    assert stamps == ["0:00", "0:10", "0:20"]
    cues = page.findall(".//span[@class='cue']")
    assert [c.text for c in cues] == [c.text for c in site.cues]  # "<b>& more</b>" stays text
    assert [float(c.get("data-start")) for c in cues] == [c.start for c in site.cues]
    speakers = [s.text for s in page.findall(".//p[@class='turn']/span[@class='speaker']")]
    assert speakers == ["Host", "Sam", "Host", "Sam"]  # consecutive cues by one speaker share a paragraph
    hrefs = {a.get("href") for a in page.iter("a")}
    files = {ep.audio, "chapters.json", "transcript.vtt", "transcript.srt", "transcript.json"}
    assert {*files, "../../feed.xml", "../../index.html"} <= hrefs
    article = page.find(".//article")
    assert [h.text for h in article.findall("h2")] == [p.title for p in ep.papers]
    assert article.findall(".//script") == [] and INTRO in article.text_content()


def test_episode_page_escapes_titles() -> None:
    ep = make_episode(3, datetime(2024, 5, 24, tzinfo=UTC), 60.0)
    ep = replace(ep, title="<script>alert(1)</script> & co")
    page = lxml.html.fromstring(render_episode_page(SHOW, ep, "<p>ok</p>", [], COVER))
    assert page.findall(".//script[@src]") == [] and len(page.findall(".//script")) == 2  # copy, player
    assert page.find(".//h1").text == "<script>alert(1)</script> & co"
    assert page.find(".//title").text.startswith("<script>")
    assert page.find(".//details") is None, "no transcript section without cues"


def test_episode_page_runs_nothing_from_a_hand_edited_newsletter() -> None:
    ep = make_episode(3, datetime(2024, 5, 24, tzinfo=UTC), 60.0)
    edited = ('<h2 onclick="x()">Papers</h2><script>alert(1)</script><p><img src=x onerror=alert(2)>'
              '<a href="javascript:alert(3)">link</a> <a href="https://arxiv.org">paper</a></p>')
    article = lxml.html.fromstring(render_episode_page(SHOW, ep, edited, [], COVER)).find(".//article")
    assert article.findall(".//script") == [] and article.find(".//h2").text == "Papers"
    assert not [name for el in article.iter() for name in el.attrib if name.startswith("on")]
    assert [a.get("href") for a in article.iter("a")] == [None, "https://arxiv.org"]


def test_a_show_template_overrides_the_package_one(tmp_path: Path) -> None:
    (tmp_path / "base.html").write_text(
        "<!doctype html><html lang='{{ show.language }}'><body class='mine'>{% block body %}{% endblock %}"
        "</body></html>"
    )
    ep = make_episode(1, datetime(2024, 5, 10, tzinfo=UTC), 60.0)
    index = lxml.html.fromstring(render_index(SHOW, [ep], COVER, template_dirs=[tmp_path]))
    assert index.find("body").get("class") == "mine"
    assert index.find(".//li[@class='episode']/h3").text_content() == ep.title  # package index.html, our base
    assert "class='mine'" not in render_index(SHOW, [ep], COVER)  # no leak into the default environment
    (tmp_path / "index.html").write_text("{% extends 'base.html' %}{% block body %}{{ nope }}{% endblock %}")
    with pytest.raises(ConfigError, match=r"index\.html"):
        render_index(SHOW, [ep], COVER, template_dirs=[tmp_path])
    (tmp_path / "episode.html").write_text("{% block body %}")
    with pytest.raises(ConfigError, match=r"episode\.html:1"):
        render_episode_page(SHOW, ep, "", [], COVER, template_dirs=[tmp_path])


def test_index_without_episodes() -> None:
    page = lxml.html.fromstring(render_index(SHOW, [], COVER))
    assert page.find(".//ol[@class='episodes']") is None and "No episodes yet" in page.text_content()


def test_newsletter_feed_parses_and_is_deterministic(site: SampleSite) -> None:
    eps = site.episodes
    letters = {eps[0].slug: "<p>First &amp; <b>one</b></p>", eps[1].slug: "<h2>Second</h2><p>]]> tricky</p>"}
    xml = render_newsletter_feed(SHOW, eps, letters)
    assert xml == render_newsletter_feed(SHOW, list(reversed(eps)), letters)
    feed = feedparser.parse(xml)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.feed.language == "en" and feed.feed.link == SHOW.base_url
    assert parsedate_to_datetime(feed.feed.updated) == eps[1].published  # lastBuildDate: newest episode
    assert [e.title for e in feed.entries] == [eps[1].title, eps[0].title]
    newest = feed.entries[0]
    assert newest.link == newest.id == "https://example.org/papers/episodes/2024-w20/"
    # "]]>" could not sit in the CDATA section: "&gt;" says the same in HTML.
    assert "]]&gt; tricky" in newest.content[0].value and "<h2>Second</h2>" in newest.content[0].value
    assert "Listen to the episode" in newest.content[0].value
    assert "First &amp; <b>one</b>" in feed.entries[1].content[0].value


def test_newsletter_feed_falls_back_to_show_notes_and_handles_no_episodes(site: SampleSite) -> None:
    feed = feedparser.parse(render_newsletter_feed(SHOW, site.episodes, {}))
    assert "<b>Chapters</b>" in feed.entries[0].content[0].value
    empty = feedparser.parse(render_newsletter_feed(SHOW, [], {}))
    assert not empty.bozo and empty.entries == []
