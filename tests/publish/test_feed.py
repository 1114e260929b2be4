"""The RSS feed, read back the way real clients read it: feedparser, gPodder's podcastparser, XPath."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path

import feedparser
import lxml.html
import podcastparser
import pytest
from lxml import etree
from support.shows import sample_show

from podcast.errors import ConfigError, InputError
from podcast.models import BuiltEpisode, Category, Chapter, Show, Transcripts
from podcast.publish.feed import cover_name, episode_url, podcast_guid, render_feed

NS = {
    "itunes": "http://www.itunes.com/dtds/podcast-1.0.dtd",
    "podcast": "https://podcastindex.org/namespace/1.0",
    "content": "http://purl.org/rss/1.0/modules/content/",
    "atom": "http://www.w3.org/2005/Atom",
    "psc": "http://podlove.org/simple-chapters",
}
BASE = "https://example.org/papers/"
NASTY_TITLE = 'Q&A: "Attention" <isn\'t> all you need 🤖 & more'
NASTY_NOTES = '<p>Tom &amp; Jerry say <b>hi</b> — <a href="https://x.org/?a=1&amp;b=2">link</a> ]]> done</p>'
SAFE_NASTY_NOTES = NASTY_NOTES.replace("]]>", "]]&gt;")
"""What the feed carries: the same HTML, with "]]>" (which cannot sit in CDATA) escaped."""
NASTY_DESCRIPTION = "Plain text with <angle> brackets, & ampersands, 'quotes' and emoji 🎧"
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MAY_10 = datetime(2024, 5, 10, tzinfo=UTC)


def make_show(**changes: object) -> Show:
    return sample_show(
        **{
            "description": "<p>A weekly tour of <b>AI papers</b> &amp; what they mean.</p>",
            "base_url": BASE,
            "copyright": "© 2024 Ada",
            **changes,
        }
    )


def make_episode(n: int, published: datetime, **changes: object) -> BuiltEpisode:
    slug = f"2024-w{18 + n}"
    ep = BuiltEpisode(
        slug=slug,
        title=f"Week {n}: transformers",
        number=n,
        published=published,
        guid=f"papercast-{slug}",
        description=f"Three papers about week {n}.",
        notes_html=f"<p>Notes for week {n}.</p>",
        audio=f"{slug}.mp3",
        audio_bytes=1_000_000 + n,
        duration=1800.4 + n,
        chapters=(
            Chapter("Intro", 0.0, 30.25),
            Chapter("Paper one", 30.25, 95.5, "https://arxiv.org/abs/2405.04517"),
            Chapter("Outro", 95.5, 1800.4 + n),
        ),
    )
    return replace(ep, **changes)  # type: ignore[arg-type]


@pytest.fixture
def show() -> Show:
    return make_show()


@pytest.fixture
def episodes() -> list[BuiltEpisode]:
    cest = timezone(timedelta(hours=2))
    return [
        make_episode(1, datetime(2024, 5, 10, 7, 0, tzinfo=UTC)),
        make_episode(
            2,
            datetime(2024, 5, 18, 0, 30, tzinfo=cest),  # Saturday in Berlin, still Friday in UTC
            title=NASTY_TITLE,
            description=NASTY_DESCRIPTION,
            notes_html=NASTY_NOTES,
        ),
        make_episode(3, datetime(2024, 5, 24, 7, 0, tzinfo=UTC), duration=2700.5),
    ]


@pytest.fixture
def xml(show: Show, episodes: list[BuiltEpisode]) -> bytes:
    return render_feed(show, episodes)


@pytest.fixture
def root(xml: bytes) -> etree._Element:
    return etree.fromstring(xml)


def one(root: etree._Element, path: str) -> etree._Element:
    found = root.xpath(path, namespaces=NS)
    assert len(found) == 1, f"{path}: {len(found)} matches"
    return found[0]


def item_of(root: etree._Element, ep: BuiltEpisode) -> etree._Element:
    return one(root, f"/rss/channel/item[guid='{ep.guid}']")


# --- real clients ---------------------------------------------------------------------------------


def test_feedparser_reads_channel_and_items(xml: bytes, episodes: list[BuiltEpisode]) -> None:
    parsed = feedparser.parse(xml)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.feed.title == "Papers & Pods"
    assert parsed.feed.link == BASE
    assert [e.title for e in parsed.entries] == [ep.title for ep in reversed(episodes)]
    nasty = parsed.entries[1]
    assert nasty.title == NASTY_TITLE
    assert nasty.id == episodes[1].guid
    assert nasty.link == f"{BASE}episodes/2024-w20/"
    assert nasty.content[0].value.count("Tom &amp; Jerry") == 1
    [enclosure] = nasty.enclosures
    assert enclosure.href == f"{BASE}episodes/2024-w20/2024-w20.mp3"
    assert int(enclosure.length) == episodes[1].audio_bytes
    assert enclosure.type == "audio/mpeg"
    assert nasty.itunes_duration == "1802"
    assert parsed.entries[0].itunes_duration == "2700"  # 2700.5 rounds half to even, still within 1 s


def test_podcastparser_reads_episodes_and_psc_chapters(xml: bytes, episodes: list[BuiltEpisode]) -> None:
    parsed = podcastparser.parse(f"{BASE}feed.xml", io.BytesIO(xml))
    assert parsed["title"] == "Papers & Pods"
    got = {e["guid"]: e for e in parsed["episodes"]}
    assert set(got) == {ep.guid for ep in episodes}  # none dropped, guids not turned into URLs
    nasty = got[episodes[1].guid]
    assert nasty["title"] == NASTY_TITLE
    assert nasty["enclosures"] == [
        {"url": f"{BASE}episodes/2024-w20/2024-w20.mp3", "file_size": 1_000_002, "mime_type": "audio/mpeg"}
    ]
    assert nasty["total_time"] == 1802
    assert nasty["published"] == int(episodes[1].published.timestamp())
    assert nasty["description_html"] == SAFE_NASTY_NOTES
    assert nasty["chapters"] == [
        {"start": 0, "title": "Intro"},
        {"start": 30, "title": "Paper one", "href": "https://arxiv.org/abs/2405.04517"},
        {"start": 95, "title": "Outro"},
    ]


# --- every tag, by XPath --------------------------------------------------------------------------


def test_namespaces_are_the_standard_ones(root: etree._Element) -> None:
    assert root.tag == "rss" and root.get("version") == "2.0"
    for prefix, uri in NS.items():
        assert root.nsmap[prefix] == uri


def test_channel_tags(root: etree._Element, show: Show) -> None:
    ch = one(root, "/rss/channel")
    assert one(ch, "title").text == "Papers & Pods"
    assert one(ch, "link").text == BASE
    assert one(ch, "description").text == show.description
    self_link = one(ch, "atom:link[@rel='self']")
    assert self_link.get("href") == f"{BASE}feed.xml"
    assert self_link.get("type") == "application/rss+xml"
    assert one(ch, "language").text == "en"
    assert one(ch, "copyright").text == "© 2024 Ada"
    assert one(ch, "generator").text == "papercast"
    assert one(ch, "lastBuildDate").text == "Fri, 24 May 2024 07:00:00 +0000"  # the newest episode
    assert one(ch, "itunes:image").get("href") == f"{BASE}cover.jpg"
    assert one(ch, "itunes:category").get("text") == "Technology"
    assert one(ch, "itunes:explicit").text == "false"
    assert one(ch, "itunes:author").text == "Ada Lovelace"
    assert one(ch, "itunes:owner/itunes:name").text == "Ada Lovelace"
    assert one(ch, "itunes:owner/itunes:email").text == "ada@example.org"
    assert one(ch, "itunes:type").text == "episodic"
    assert one(ch, "podcast:guid").text == podcast_guid(f"{BASE}feed.xml")
    locked = one(ch, "podcast:locked")
    assert (locked.text, locked.get("owner")) == ("no", "ada@example.org")
    assert one(ch, "podcast:medium").text == "podcast"


def test_html_text_is_cdata(xml: bytes) -> None:
    assert b"<description><![CDATA[<p>A weekly tour of <b>AI papers</b>" in xml
    assert b"<content:encoded><![CDATA[<p>Notes for week 1.</p>]]></content:encoded>" in xml


def test_subcategory_locked_and_png_cover(tmp_path: Path) -> None:
    cover = tmp_path / "art.jpg"  # named .jpg, but a PNG: the type wins
    cover.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 32)
    show = make_show(category=Category("Science", "Mathematics"), locked=True, cover=cover)
    root = etree.fromstring(render_feed(show, [make_episode(1, MAY_10)]))
    assert one(root, "//itunes:category[@text='Science']/itunes:category").get("text") == "Mathematics"
    assert one(root, "//podcast:locked").text == "yes"
    assert one(root, "/rss/channel/itunes:image").get("href") == f"{BASE}cover.png"
    assert one(root, "/rss/channel/image/url").text == f"{BASE}cover.png"


def test_item_tags(root: etree._Element, episodes: list[BuiltEpisode]) -> None:
    ep = episodes[0]
    item = item_of(root, ep)
    page = f"{BASE}episodes/2024-w19/"
    assert one(item, "title").text == ep.title
    guid = one(item, "guid")
    assert (guid.text, guid.get("isPermaLink")) == (ep.guid, "false")
    assert one(item, "link").text == page
    assert one(item, "pubDate").text == "Fri, 10 May 2024 07:00:00 +0000"
    [enclosure] = item.findall("enclosure")
    assert dict(enclosure.attrib) == {"url": f"{page}2024-w19.mp3", "length": "1000001", "type": "audio/mpeg"}
    assert one(item, "itunes:duration").text == "1801"
    assert one(item, "itunes:episode").text == "1"
    assert one(item, "itunes:episodeType").text == "full"
    assert one(item, "itunes:explicit").text == "false"
    assert one(item, "description").text == ep.description
    assert one(item, "content:encoded").text == ep.notes_html
    chapters = one(item, "podcast:chapters")
    assert dict(chapters.attrib) == {"url": f"{page}chapters.json", "type": "application/json+chapters"}
    transcripts = {t.get("type"): t for t in item.xpath("podcast:transcript", namespaces=NS)}
    assert len(transcripts) == 3 == len(item.xpath("podcast:transcript", namespaces=NS))
    assert transcripts["text/vtt"].get("url") == f"{page}transcript.vtt"
    assert transcripts["application/x-subrip"].get("url") == f"{page}transcript.srt"
    assert transcripts["application/json"].get("url") == f"{page}transcript.json"
    assert {t.get("language") for t in transcripts.values()} == {"en"}
    psc = one(item, "psc:chapters")
    assert psc.get("version") == "1.2"
    assert [dict(c.attrib) for c in psc] == [
        {"start": "00:00:00.000", "title": "Intro"},
        {"start": "00:00:30.250", "title": "Paper one", "href": "https://arxiv.org/abs/2405.04517"},
        {"start": "00:01:35.500", "title": "Outro"},
    ]


def test_transcripts_not_written_are_not_linked(show: Show) -> None:
    ep = make_episode(1, MAY_10, transcripts=Transcripts(json=""))
    root = etree.fromstring(render_feed(show, [ep]))
    types = [t.get("type") for t in root.xpath("//podcast:transcript", namespaces=NS)]
    assert types == ["text/vtt", "application/x-subrip"]


def test_items_newest_first(root: etree._Element, episodes: list[BuiltEpisode]) -> None:
    assert root.xpath("/rss/channel/item/itunes:episode/text()", namespaces=NS) == ["3", "2", "1"]


# --- escaping -------------------------------------------------------------------------------------


def html_text(html: str) -> str:
    """The text a reader shows for an HTML field."""
    return str(lxml.html.fragment_fromstring(html, create_parent="div").text_content())


def test_nasty_text_survives_exactly(root: etree._Element, episodes: list[BuiltEpisode]) -> None:
    item = item_of(root, episodes[1])
    assert one(item, "title").text == NASTY_TITLE  # plain text: XML escaping is all it needs
    # A description is HTML to readers: the text comes back from it exactly, as text.
    description = one(item, "description").text
    assert html_text(description) == NASTY_DESCRIPTION and "<angle>" not in description
    assert one(item, "content:encoded").text == SAFE_NASTY_NOTES


def test_cdata_terminator_keeps_the_xml_well_formed(show: Show) -> None:
    ep = make_episode(1, MAY_10, notes_html="<p>a]]>b</p><![CDATA[x]]>", description="plain ]]> text")
    xml = render_feed(replace(show, description="<p>x]]>y</p>"), [ep])
    root = etree.fromstring(xml)
    # In HTML, "]]&gt;" reads as "]]>"; a CDATA section in HTML is a bogus comment, dropped.
    assert one(root, "//content:encoded").text == "<p>a]]&gt;b</p>"
    assert one(root, "/rss/channel/description").text == "<p>x]]&gt;y</p>"
    assert one(root, "//item/description").text == "plain ]]> text"  # plain text stays escaped XML text
    assert b"plain ]]&gt; text" in xml
    assert not feedparser.parse(xml).bozo


def test_xml_invalid_control_characters_are_dropped(show: Show) -> None:
    ep = make_episode(1, MAY_10, title="Spec\x0btral\x00 methods")
    assert one(etree.fromstring(render_feed(show, [ep])), "//item/title").text == "Spectral methods"


def test_long_title_is_clipped_to_255(show: Show) -> None:
    ep = make_episode(1, MAY_10, title="  word " * 100)
    title = one(etree.fromstring(render_feed(show, [ep])), "//item/title").text
    assert len(title) <= 255 and title.endswith("…") and title.startswith("word word")


def test_long_show_description_fits_4000_bytes(episodes: list[BuiltEpisode]) -> None:
    description = "<p>" + "Ünïcödé 🎧 papers &amp; <b>bold</b> words " * 400 + "</p>"
    root = etree.fromstring(render_feed(make_show(description=description), episodes))
    text = one(root, "/rss/channel/description").text
    assert 3900 < len(text.encode("utf-8")) <= 4000
    assert text.endswith("…</p>") and text.count("<b>") == text.count("</b>")
    assert description.startswith(text[: -len("…</p>")])  # cut on a whole character, tag or entity


# --- determinism, guids, dates --------------------------------------------------------------------


def test_byte_identical_and_independent_of_input_order(
    show: Show, episodes: list[BuiltEpisode], xml: bytes
) -> None:
    assert render_feed(show, episodes) == xml
    assert render_feed(show, list(reversed(episodes))) == xml


def test_podcast_guid_matches_podnews_and_show_guid_overrides() -> None:
    assert podcast_guid("https://podnews.net/rss") == "9b024349-ccf0-5f69-a609-6b82873eab3c"
    assert podcast_guid("podnews.net/rss//") == "9b024349-ccf0-5f69-a609-6b82873eab3c"
    root = etree.fromstring(render_feed(make_show(guid="my-own-guid"), []))
    assert one(root, "//podcast:guid").text == "my-own-guid"


def test_explicit_is_literally_true(episodes: list[BuiltEpisode]) -> None:
    root = etree.fromstring(render_feed(make_show(explicit=True), episodes))
    assert root.xpath("//itunes:explicit/text()", namespaces=NS) == ["true"] * 4


def test_pubdate_has_the_right_weekday(root: etree._Element, episodes: list[BuiltEpisode]) -> None:
    for ep in episodes:
        text = one(item_of(root, ep), "pubDate").text
        when = parsedate_to_datetime(text)
        assert when == ep.published
        assert text[:3] == WEEKDAYS[when.weekday()]


def test_empty_catalog_has_no_clock_time(show: Show) -> None:
    xml = render_feed(show, [])
    root = etree.fromstring(xml)
    assert root.find("channel/lastBuildDate") is None
    assert root.find("channel/item") is None
    assert render_feed(show, []) == xml


# --- URL layout and bad input ---------------------------------------------------------------------


def test_episode_urls_are_ascii(show: Show) -> None:
    ep = make_episode(1, MAY_10, slug="été 2024", audio="été 2024.mp3")
    assert episode_url(show, ep, ep.audio) == f"{BASE}episodes/%C3%A9t%C3%A9%202024/%C3%A9t%C3%A9%202024.mp3"
    assert episode_url(show, "x") == f"{BASE}episodes/x/"
    url = one(etree.fromstring(render_feed(show, [ep])), "//enclosure").get("url")
    assert url.isascii()


def test_cover_name_follows_the_file_type(tmp_path: Path) -> None:
    jpeg, webp = tmp_path / "c.png", tmp_path / "c.webp"
    jpeg.write_bytes(b"\xff\xd8\xff\xe0" + b"\0" * 16)
    webp.write_bytes(b"RIFF\0\0\0\0WEBPVP8 ")
    assert cover_name(make_show()) == "cover.jpg"
    assert cover_name(make_show(cover=jpeg)) == "cover.jpg"
    assert cover_name(make_show(cover=tmp_path / "missing.PNG")) == "cover.png"
    with pytest.raises(ConfigError, match="JPEG or PNG"):
        cover_name(make_show(cover=webp))


def test_bad_episodes_are_refused(show: Show) -> None:
    ep = make_episode(1, MAY_10)
    with pytest.raises(InputError, match="share the guid"):
        render_feed(show, [ep, replace(ep, slug="other", number=2)])
    with pytest.raises(InputError, match="time zone"):
        render_feed(show, [replace(ep, published=datetime(2024, 5, 10))])
    with pytest.raises(InputError, match="no guid"):
        render_feed(show, [replace(ep, guid="")])
    with pytest.raises(ConfigError, match="base_url"):
        render_feed(make_show(base_url="example.org/"), [ep])
