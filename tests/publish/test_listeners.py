"""What listeners get besides the audio: the feed's hosts, AI disclosure, soundbites and episode art
(read back with feedparser, podcastparser and XPath), the [site] settings, and the pages' subscribe,
share, embed, search and previous/next parts (parsed; test_browser.py runs them in Chromium)."""

from __future__ import annotations

import io
import json
import re
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import lxml.html
import podcastparser
import pytest
from conftest import RunCli
from lxml import etree
from PIL import Image
from support.shows import COVER, FIRST_EPISODE, SHOW, cues_for, make_episode, make_publishable

from podcast.config import load_show
from podcast.errors import ConfigError
from podcast.models import BuiltEpisode, Chapter, Cue
from podcast.publish.feed import EMBED_PAGE, EPISODE_IMAGE, episode_url, render_feed
from podcast.publish.feed_ext import NAMESPACES
from podcast.publish.site import EpisodeSource, episode_page, render_site
from podcast.settings import SiteSettings

APPS = SiteSettings(
    apple_podcasts="https://podcasts.apple.com/us/podcast/papers-pods/id1234567890",
    spotify="https://open.spotify.com/show/4rOoJ6Egrf8K2IrywzwOMk",
    overcast="https://overcast.fm/itunes1234567890",
    newsletter_url="https://buttondown.com/paperspods?utm=site&x=1",
)
HOSTILE = "</script><script>document.title='pwned'</script> & \u2028 <!--"
WEEK_1 = datetime(2024, 5, 10, 6, 0, tzinfo=UTC)
WEEK_2 = datetime(2024, 5, 17, 6, 0, tzinfo=UTC)


def show(**changes: object) -> object:
    return replace(SHOW, hosts=("Ava", "Sam <b>"), site=APPS, **changes)


def episodes() -> tuple[BuiltEpisode, BuiltEpisode]:
    return make_episode(1, WEEK_1, 1834.0), make_episode(2, WEEK_2, 300.0)


def xpath(xml: bytes, path: str) -> list[etree._Element]:
    return etree.fromstring(xml).xpath(path, namespaces=NAMESPACES)


# --- the feed ------------------------------------------------------------------------------------


def test_the_feed_names_the_hosts_as_synthetic_voices_and_discloses_ai_content() -> None:
    xml = render_feed(show(), episodes())
    persons = xpath(xml, "/rss/channel/podcast:person")
    assert [(p.text, p.get("role"), p.get("group")) for p in persons] == [
        ("Ava (synthetic voice)", "host", "cast"), ("Sam <b> (synthetic voice)", "host", "cast")]
    for parent in ("/rss/channel", "/rss/channel/item[1]", "/rss/channel/item[2]"):
        txt = xpath(xml, f"{parent}/podcast:txt")
        assert [(t.get("purpose"), t.text) for t in txt] == [("ai-content", "true")], parent
    parsed = feedparser.parse(xml)
    assert parsed.bozo == 0
    assert parsed.feed.podcast_person["role"] == "host" and parsed.feed.podcast_txt == {"purpose": "ai-content"}
    assert xpath(render_feed(SHOW, episodes()), "//podcast:person") == []  # no voices known, none named


def test_each_episode_has_its_art_in_the_feed() -> None:
    xml = render_feed(show(), episodes())
    parsed = podcastparser.parse(SHOW.feed_url, io.BytesIO(xml))
    arts = {e["guid"]: e["episode_art_url"] for e in parsed["episodes"]}
    assert arts == {ep.guid: f"{SHOW.base_url}episodes/{ep.slug}/{EPISODE_IMAGE}" for ep in episodes()}
    entry = feedparser.parse(xml).entries[0]
    assert entry.image["href"] == episode_url(SHOW, episodes()[1], EPISODE_IMAGE)
    assert parsed["cover_url"] == f"{SHOW.base_url}cover.jpg"  # the channel keeps the show's cover


def test_a_soundbite_per_paper_from_the_start_of_its_chapter() -> None:
    ep = replace(episodes()[1], duration=200.0, chapters=(
        Chapter("Intro", 0.0, 20.0),
        Chapter("A long paper", 20.0, 134.123456, "https://arxiv.org/abs/2405.04517"),
        Chapter("A paper without a link", 134.123456, 164.0),
        Chapter("A three-second paper", 164.0, 167.0, "https://arxiv.org/abs/2405.04434"),
        Chapter("A paper running past the end", 167.0, 230.0, "https://arxiv.org/abs/2405.05254"),
        Chapter("Outro", 190.0, 200.0),
    ))
    papers = tuple(replace(ep.papers[0], title=t) for t in ("A paper without a link", "A" * 300))
    ep = replace(ep, papers=papers)
    bites = xpath(render_feed(show(), [ep]), "//item/podcast:soundbite")
    assert [(b.get("startTime"), b.get("duration"), b.text) for b in bites] == [
        ("20", "45", "A long paper"),
        ("134.123", "29.877", "A paper without a link"),  # a paper by its title; as long as its chapter
        ("167", "33", "A paper running past the end"),  # held to the audio's length
    ]
    entry = feedparser.parse(render_feed(show(), [ep])).entries[0]
    assert entry.podcast_soundbite == {"starttime": "167", "duration": "33"}  # feedparser keeps the last


# --- [site] --------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [
    "javascript:alert(1)", "http://open.spotify.com/show/x", "https://a.b/\"onmouseover=alert(1)",
    "https://a.b/<script>", "https://a.b/ x", "//open.spotify.com/show/x", "https://", "data:text/html,x",
])
def test_site_links_must_be_plain_https_urls(url: str) -> None:
    with pytest.raises(ConfigError, match=r"spotify must be an https:// URL"):
        SiteSettings(spotify=url)
    with pytest.raises(ConfigError, match=r"newsletter_url must be an https:// URL"):
        SiteSettings(newsletter_url=url)


def test_the_site_table_is_read_from_podcast_toml(run_cli: RunCli, tmp_path: Path) -> None:
    assert run_cli(tmp_path, "init", "show").returncode == 0
    root = make_publishable(tmp_path / "show")
    toml = root / "podcast.toml"
    text = toml.read_text("utf-8")
    assert text.count("\n[site]\n") == 1  # init lists the table, its keys commented out
    good = text.replace("\n[site]\n", f'\n[site]\nspotify = "{APPS.spotify}"\nnewsletter_url = "{APPS.newsletter_url}"\n')
    toml.write_text(good, "utf-8")
    cfg = load_show(root)
    assert cfg.show.site.apps() == (("Spotify", APPS.spotify),)
    assert cfg.show.site.newsletter_url == APPS.newsletter_url
    assert cfg.show.hosts == tuple(cfg.profiles[p].name for p in cfg.speakers())
    toml.write_text(good.replace(APPS.spotify, "javascript:alert(1)"), "utf-8")
    result = run_cli(root, "check")
    assert result.returncode == 1 and result.stderr.count("\n") == 1
    assert re.fullmatch(r"error: .*podcast\.toml \[site\]: spotify must be an https:// URL.*\n", result.stderr)


# --- the pages -----------------------------------------------------------------------------------


def site(the_show: object, eps: tuple[BuiltEpisode, ...], cues: dict[str, tuple[Cue, ...]] | None = None
         ) -> dict[str, bytes]:
    sources = [EpisodeSource(ep, "<h2>Notes</h2><p>Newsletter words: gradients.</p>",
                             (cues or {}).get(ep.slug, cues_for(ep.chapters))) for ep in eps]
    return render_site(the_show, sources, COVER)  # type: ignore[arg-type]


def page(files: dict[str, bytes], rel: str) -> lxml.html.HtmlElement:
    return lxml.html.fromstring(files[rel])


def test_subscribe_links_and_the_newsletter_signup_on_every_page() -> None:
    eps = episodes()
    files = site(show(), eps)
    for rel in ("index.html", *(episode_page(ep.slug) for ep in eps)):
        doc = page(files, rel)
        apps = [(a.text, a.get("href")) for a in doc.xpath("//section[@class='subscribe card']//a[@data-app]")]
        assert apps == [("Apple Podcasts", APPS.apple_podcasts), ("Spotify", APPS.spotify),
                        ("Overcast", APPS.overcast)], rel
        assert [a.get("href") for a in doc.xpath("//section[@class='subscribe card']//a[@data-newsletter]")] == [APPS.newsletter_url]
        assert doc.get_element_by_id("feed-url").get("value") == SHOW.feed_url
    assert page(files, episode_page(eps[0].slug)).xpath("//p[@class='meta voices']/text()") == [
        "Read by Ava and Sam <b>: synthetic voices, from the newsletter below"]
    assert page(files, "index.html").xpath("//p[@class='by']/text()") == [
        "by Ada Lovelace, read by Ava and Sam <b> (synthetic voices)"]
    bare = page(site(replace(SHOW), eps), "index.html")
    assert bare.xpath("//a[@data-app or @data-newsletter]") == []


def test_episode_pages_link_to_the_previous_and_next_episode() -> None:
    first, second = episodes()
    third = make_episode(3, datetime(2024, 5, 24, 6, 0, tzinfo=UTC), 60.0)
    files = site(show(), (second, third, first))  # any order in, date order out
    links = {ep.slug: {a.get("rel"): (a.get("href"), a.text_content()) for a in
                       page(files, episode_page(ep.slug)).xpath("//nav[@class='pager']/a")} for ep in (first, second, third)}
    to = lambda ep: (f"../{ep.slug}/index.html", ep.title)  # noqa: E731
    assert links[first.slug] == {"next": (to(second)[0], "Next episode →" + second.title)}
    assert links[second.slug] == {"prev": (to(first)[0], "← Previous episode" + first.title),
                                  "next": (to(third)[0], "Next episode →" + third.title)}
    assert links[third.slug] == {"prev": (to(second)[0], "← Previous episode" + second.title)}


def test_episode_page_meta_share_and_embed() -> None:
    ep = replace(episodes()[1], title=f'Q&A "quoted" {HOSTILE}')
    files = site(show(), (ep,))
    url = episode_url(SHOW, ep)
    doc = page(files, episode_page(ep.slug))
    meta = {m.get("property") or m.get("name"): m.get("content") for m in doc.iter("meta")}
    assert meta["og:title"] == ep.title and meta["og:description"] == ep.description
    assert meta["og:image"] == meta["twitter:image"] == url + EPISODE_IMAGE
    assert meta["og:audio"] == url + ep.audio
    assert (meta["twitter:card"], meta["twitter:player"]) == ("player", url + EMBED_PAGE)
    assert doc.get_element_by_id("share-url").get("value") == url
    snippet = lxml.html.fragment_fromstring(doc.get_element_by_id("embed-code").text)
    assert (snippet.tag, snippet.get("src"), snippet.get("title")) == ("iframe", url + EMBED_PAGE, " ".join(ep.title.split()))
    embed = page(files, f"episodes/{ep.slug}/{EMBED_PAGE}")
    assert embed.find(".//audio").get("src") == ep.audio and embed.find(".//a").text == ep.title
    assert embed.findall(".//script") == [] and embed.find(".//img").get("src") == EPISODE_IMAGE
    assert files[f"episodes/{ep.slug}/{EPISODE_IMAGE}"].startswith(b"\xff\xd8\xff")
    http = page(site(show(base_url="http://example.org/papers/"), (ep,)), episode_page(ep.slug))
    assert [m.get("content") for m in http.iter("meta") if m.get("name") == "twitter:card"] == ["summary"]
    assert not [m for m in http.iter("meta") if m.get("name") == "twitter:player"]


def test_the_search_index_holds_each_episodes_words_and_cannot_break_out_of_its_script() -> None:
    first, second = episodes()
    first = replace(first, title=f"Week 1 {HOSTILE}")
    cues = {first.slug: (Cue(0, 1, "Ava", f"Only spoken: Schmidhuber. {HOSTILE}"),), second.slug: ()}
    files = site(show(), (first, second), cues)
    doc = page(files, "index.html")
    scripts = doc.findall(".//script")
    assert [s.get("type") for s in scripts].count("application/json") == 1
    text = files["index.html"].decode()
    assert text.count("</script>") == len(scripts) and "pwned" not in "".join(
        s.text or "" for s in scripts if s.get("type") != "application/json")
    index = {e["slug"]: e for e in json.loads(doc.get_element_by_id("search-index").text)}
    assert set(index) == {first.slug, second.slug}
    assert "schmidhuber" in index[first.slug]["transcript"].split()
    assert "schmidhuber" not in index[first.slug]["newsletter"] + index[first.slug]["title"]
    assert "gradients" in index[second.slug]["newsletter"].split() and index[second.slug]["transcript"] == ""
    assert "pwned" in index[first.slug]["title"].split()  # the hostile title is data, found like any word


# --- an episode's own art ---------------------------------------------------------------------------


def test_an_episode_image_named_in_episode_toml_is_its_art(show: Path, run_cli: RunCli, tmp_path: Path) -> None:
    folder = show / "episodes" / FIRST_EPISODE
    toml = folder / "episode.toml"
    toml.write_text(toml.read_text("utf-8").replace("\n[[papers]]", '\nimage = "art.png"\n\n[[papers]]', 1), "utf-8")
    Image.new("RGB", (1400, 1400), (20, 140, 60)).save(folder / "art.png")
    site = tmp_path / "site"
    assert run_cli(show, "publish", "--site", site).returncode == 0  # publish checks the site first
    with Image.open(site / "episodes" / FIRST_EPISODE / EPISODE_IMAGE) as art:
        assert (art.format, art.size) == ("JPEG", (1400, 1400))
        assert max(abs(a - b) for a, b in zip(art.getpixel((700, 700)), (20, 140, 60), strict=True)) <= 3
    assert run_cli(show, "check", site).returncode == 0

    Image.new("RGB", (600, 600)).save(folder / "art.png")
    result = run_cli(show, "publish", "--site", site)
    assert result.returncode == 1 and result.stderr.count("\n") == 1
    assert "art.png: is 600x600 px; use a square image of 1400-3000 px" in result.stderr
    outside = tmp_path / "outside.png"
    Image.new("RGB", (1400, 1400)).save(outside)
    toml.write_text(toml.read_text("utf-8").replace('image = "art.png"', f'image = "{outside}"'), "utf-8")
    result = run_cli(show, "publish", "--site", site)
    assert result.returncode == 1 and "image" in result.stderr and "leads outside the show folder" in result.stderr
