"""`podcast check` on a small real site (a sine tone, no TTS): it passes, and each broken rule is named."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import get_args

import numpy as np
import pytest
from lxml import etree
from mutagen.id3 import ID3
from PIL import Image
from support.shows import sample_show

from podcast.audio.encode import encode_chunk
from podcast.audio.master import SAMPLE_RATE, level
from podcast.audio.mp3 import count_frames
from podcast.cli import main
from podcast.episode import transcript
from podcast.episode.tag import UnlistedChapters, read_chapters, tag_mp3
from podcast.models import BuiltEpisode, Category, Chapter, Cue
from podcast.publish.check.media import measure_loudness
from podcast.publish.check.problems import Subject
from podcast.publish.check.site import Problem, check_site
from podcast.publish.feed import EPISODE_IMAGE, episode_path, render_feed
from podcast.publish.feed_ext import NAMESPACES
from podcast.publish.site import render_newsletter_feed

SHOW = sample_show(
    title="Check Weekly",
    description="<p>Papers, <b>read aloud</b>.</p>",
    base_url="https://example.org/show/",
    category=Category("Science", "Mathematics"),
)
SLUG = "2024-w19"
PUBLISHED = datetime(2024, 5, 10, 6, 0, tzinfo=UTC)  # a Friday
NOW = datetime(2024, 6, 1, tzinfo=UTC)
SECONDS = 6.0


@dataclass(frozen=True)
class Site:
    root: Path
    episode: BuiltEpisode

    @property
    def folder(self) -> Path:
        return self.root / episode_path(SLUG)

    @property
    def mp3(self) -> Path:
        return self.folder / f"{SLUG}.mp3"

    @property
    def feed(self) -> Path:
        return self.root / "feed.xml"

    @property
    def newsletter(self) -> Path:
        return self.root / "newsletter.xml"


def tone(seconds: float = SECONDS, lufs: float = -16.0) -> np.ndarray:
    t = np.arange(round(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    return level((0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), SAMPLE_RATE, lufs)


def write_audio(site: Site, audio: np.ndarray, bitrate: int = 96) -> Site:
    """Encode, tag and list `audio` as the episode's MP3, the way a build and a publish do."""
    frames = encode_chunk(audio, bitrate)
    duration = count_frames(frames) * 1152 / SAMPLE_RATE
    site.mp3.write_bytes(frames)
    third = duration / 3
    chapters = (
        Chapter("Introduction", 0.0, third),
        Chapter("A paper", third, 2 * third, "https://arxiv.org/abs/2405.04517"),
        Chapter("Outro", 2 * third, duration),
    )
    tag_mp3(site.mp3, show=SHOW, title="Week 19", published=PUBLISHED, description="One paper.",
            chapters=chapters, cover=(site.root / "cover.jpg").read_bytes(), cover_mime="image/jpeg",
            audio_ms=round(duration * 1000))
    cues = [Cue(c.start, c.end, "Host", f"This is {c.title}.") for c in chapters]
    (site.folder / "chapters.json").write_text(transcript.chapters_json(chapters), "utf-8")
    (site.folder / "transcript.vtt").write_text(transcript.to_vtt(cues), "utf-8")
    (site.folder / "transcript.srt").write_text(transcript.to_srt(cues), "utf-8")
    (site.folder / "transcript.json").write_text(transcript.to_json(cues), "utf-8")
    episode = replace(site.episode, audio_bytes=site.mp3.stat().st_size, duration=duration, chapters=chapters)
    return publish_feed(replace(site, episode=episode))


def publish_feed(site: Site, *episodes: BuiltEpisode) -> Site:
    site.feed.write_bytes(render_feed(SHOW, episodes or [site.episode]))
    site.newsletter.write_bytes(render_newsletter_feed(SHOW, episodes or [site.episode], {}))
    return site


def write_cover(path: Path, size: tuple[int, int] = (1400, 1400)) -> None:
    Image.new("RGB", size, (40, 90, 160)).save(path, "JPEG", quality=80)


def make_site(root: Path) -> Site:
    (root / episode_path(SLUG)).mkdir(parents=True)
    write_cover(root / "cover.jpg")
    write_cover(root / episode_path(SLUG, EPISODE_IMAGE))
    (root / "index.html").write_text("<!doctype html><title>Check Weekly</title>", "utf-8")
    (root / episode_path(SLUG, "index.html")).write_text("<!doctype html><title>Week 19</title>", "utf-8")
    episode = BuiltEpisode(
        slug=SLUG, title="Week 19", number=1, published=PUBLISHED, guid="check-weekly-2024-w19",
        description="One paper.", notes_html="<p>One <a href=\"https://arxiv.org\">paper</a>.</p>",
        audio=f"{SLUG}.mp3", audio_bytes=1, duration=SECONDS, chapters=(),
    )
    return write_audio(Site(root, episode), tone())


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory) -> Site:
    return make_site(tmp_path_factory.mktemp("check") / "public")


@pytest.fixture
def site(good: Site, tmp_path: Path) -> Site:
    """A private copy of the good site, to break."""
    return replace(good, root=Path(shutil.copytree(good.root, tmp_path / "public")))


def edit_feed(site: Site, old: str, new: str, count: int = 1, feed: str = "feed.xml") -> None:
    path = site.root / feed
    text = path.read_text("utf-8")
    assert old in text, f"{feed} should contain {old!r}"
    path.write_text(text.replace(old, new, count), "utf-8")


def edit_tags(site: Site, change: Callable[[ID3], None], version: int = 3) -> None:
    tags = ID3(site.mp3)
    change(tags)
    tags.save(site.mp3, v2_version=version)


def shift_second_chapter(tags: ID3) -> None:
    chap = next(f for f in tags.getall("CHAP") if f.element_id == "chp1")
    chap.start_time += 500


def duplicate_item(site: Site) -> None:
    tree = etree.parse(str(site.feed))
    channel = tree.getroot().find("channel")
    channel.append(etree.fromstring(etree.tostring(channel.find("item"))))
    tree.write(str(site.feed), xml_declaration=True, encoding="UTF-8")


def long_vtt_line(site: Site) -> None:
    vtt = site.folder / "transcript.vtt"
    vtt.write_text(vtt.read_text("utf-8").replace("This is Outro.", "This is " + "very " * 14 + "long."), "utf-8")


def bad_vtt_timing(site: Site) -> None:
    vtt = site.folder / "transcript.vtt"
    vtt.write_text(vtt.read_text("utf-8").replace("00:00:00.000 -->", "00:00:00,000 -->", 1), "utf-8")


def drop_second_chapter_frame(tags: ID3) -> None:
    del tags["CHAP:chp1"]  # the CTOC still lists it


def cue_past_the_end(site: Site) -> None:
    srt = site.folder / "transcript.srt"
    text = srt.read_text("utf-8")
    last_end = re.findall(r"--> (\S+)", text)[-1]
    srt.write_text(text.replace(f"--> {last_end}", "--> 00:00:09,000"), "utf-8")


ITEM_ANCHOR = "<itunes:episodeType>full</itunes:episodeType>"
"""Text that occurs once in feed.xml, inside the item."""

BREAKS: dict[str, tuple[Callable[[Site], object], str, Subject, str]] = {
    # name: (how to break the site, the file the problem is reported in, its subject, what the message says)
    "wrong enclosure length": (
        lambda s: edit_feed(s, f'length="{s.episode.audio_bytes}"', f'length="{s.episode.audio_bytes + 1}"'),
        "feed.xml", "feed", r"enclosure length=.* but .* is \d+ bytes"),
    "duration off by 5 s": (
        lambda s: edit_feed(s, f"<itunes:duration>{round(s.episode.duration)}<",
                            f"<itunes:duration>{round(s.episode.duration) + 5}<"),
        "feed.xml", "feed", r"itunes:duration> is 11 s, but the audio is 6\.0 s"),
    "missing transcript": (
        lambda s: (s.folder / "transcript.vtt").unlink(),
        "feed.xml", "feed", r"transcript.vtt, which is not in the site"),
    "future pubDate": (
        lambda s: publish_feed(s, replace(s.episode, published=datetime(2024, 7, 5, tzinfo=UTC))),
        "feed.xml", "feed", r"pubDate> 'Fri, 05 Jul 2024 .*' is in the future"),
    "duplicate guid": (duplicate_item, "feed.xml", "feed", r"item 2 .* has the guid 'check-weekly-2024-w19' of item 1"),
    "non-square cover": (
        lambda s: write_cover(s.root / "cover.jpg", (1400, 1500)),
        "cover.jpg", "cover", r"is 1400x1500 px; use a square image"),
    "chapter gap": (
        lambda s: edit_tags(s, shift_second_chapter),
        f"episodes/{SLUG}/{SLUG}.mp3", "chapters", r"chapter 2 .* starts at 2\.5\d\d s, but chapter 1 ends at 2\.0\d\d s"),
    "explicit yes": (
        lambda s: edit_feed(s, "<itunes:explicit>false<", "<itunes:explicit>yes<"),
        "feed.xml", "feed", r"channel <itunes:explicit> is 'yes'; it must be 'true' or 'false'"),
    "enclosure outside the base URL": (
        lambda s: edit_feed(s, f'url="https://example.org/show/episodes/{SLUG}/{SLUG}.mp3"',
                            f'url="https://cdn.example.net/{SLUG}.mp3"'),
        "feed.xml", "feed", r"enclosure> 'https://cdn.example.net/.*' is outside the site's base URL"),
    "wrong weekday": (
        lambda s: edit_feed(s, "<pubDate>Fri, 10 May 2024", "<pubDate>Thu, 10 May 2024"),
        "feed.xml", "feed", r"item 1 .* <pubDate> 'Thu, 10 May 2024 .*' says Thu, but that day is a Fri"),
    "guid without isPermaLink": (
        lambda s: edit_feed(s, ' isPermaLink="false"', ""),
        "feed.xml", "feed", r"is not a URL, so it needs isPermaLink=\"false\""),
    "unknown category": (
        lambda s: edit_feed(s, 'text="Mathematics"', 'text="Maths"'),
        "feed.xml", "feed", r"'Maths'> is not a subcategory of 'Science'"),
    "wrong podcast namespace": (
        lambda s: edit_feed(s, NAMESPACES["podcast"], "https://podcastindex.org/namespace/2.0"),
        "feed.xml", "feed", r"prefix 'podcast' is bound to .*/2\.0; it must be https://podcastindex.org/namespace/1\.0"),
    "64 kbps audio": (
        lambda s: write_audio(s, tone(), bitrate=64),
        f"episodes/{SLUG}/{SLUG}.mp3", "audio", r"bitrate is 64 kbps; it must be a constant 96-128 kbps"),
    "ID3 v2.4": (
        lambda s: edit_tags(s, lambda tags: None, version=4),
        f"episodes/{SLUG}/{SLUG}.mp3", "id3", r"ID3 tag is v2\.4; save it as v2\.3"),
    "no CTOC": (
        lambda s: edit_tags(s, lambda tags: tags.delall("CTOC")),
        f"episodes/{SLUG}/{SLUG}.mp3", "chapters", r"has 0 CTOC frames"),
    "transcript line too long": (
        long_vtt_line, f"episodes/{SLUG}/transcript.vtt", "transcript", r"longer than 65 characters"),
    "VTT cue timing with a comma": (
        bad_vtt_timing, f"episodes/{SLUG}/transcript.vtt", "transcript", r"^line 3: bad cue timing '00:00:00,000 -->"),
    "cue past the audio's end": (
        cue_past_the_end, f"episodes/{SLUG}/transcript.srt", "transcript", r"cues run to 9\.000 s, past the audio's end"),
    "psc chapter title differs": (
        lambda s: edit_feed(s, 'title="A paper"', 'title="Another paper"'),
        "feed.xml", "chapters", r"<psc:chapters>: chapter 2 \('Another paper' .*\) differs from the MP3's \('A paper'"),
    "chapters.json out of order": (
        lambda s: (s.folder / "chapters.json").write_text(
            transcript.chapters_json([Chapter("a", 0, 1), Chapter("b", 3, 4), Chapter("c", 2, 6)]), "utf-8"),
        f"episodes/{SLUG}/chapters.json", "chapters", r"chapter 3 starts at 2 s, not after the one before \(3 s\)"),
    "no feed": (lambda s: s.feed.unlink(), "feed.xml", "feed", r"missing; run 'podcast publish'"),
    "script in the show notes": (
        lambda s: edit_feed(s, "<p>One <a", "<p>One <script>alert(1)</script><a"),
        "feed.xml", "markup", r"^item 1 \('Week 19'\) <content:encoded> holds a <script> tag: a feed reader would run"),
    "handler in the newsletter's description": (
        lambda s: edit_feed(s, "<description>One paper.", "<description>&lt;img src=x onerror=alert(2)&gt;One paper.",
                            feed="newsletter.xml"),
        "newsletter.xml", "markup", r"^item 1 \('Week 19'\) <description> holds an onerror= attribute"),
    "soundbite past the end": (
        lambda s: edit_feed(s, ITEM_ANCHOR, ITEM_ANCHOR + '<podcast:soundbite startTime="4" duration="5">A</podcast:soundbite>'),
        "feed.xml", "feed", r"item 1 .* <podcast:soundbite> 1 runs from 4 s for 5 s, past the audio's end \(6\.0\d\d s\)"),
    "soundbite without a duration": (
        lambda s: edit_feed(s, ITEM_ANCHOR, ITEM_ANCHOR + '<podcast:soundbite startTime="1:00">A</podcast:soundbite>'),
        "feed.xml", "feed", r"<podcast:soundbite> 1 needs startTime and duration in seconds .* not '1:00' and ''"),
    "nameless person with a made-up role": (
        lambda s: edit_feed(s, "</podcast:medium>", '</podcast:medium><podcast:person role="Star!"> </podcast:person>'),
        "feed.xml", "feed", r"channel <podcast:person role='Star!'> is not a Podcast Taxonomy role"),
    "empty podcast:txt": (
        lambda s: edit_feed(s, ">true</podcast:txt>", "></podcast:txt>"),
        "feed.xml", "feed", r"channel <podcast:txt> must hold 1-4000 characters, not 0"),
    "episode art missing": (
        lambda s: (s.folder / EPISODE_IMAGE).unlink(),
        "feed.xml", "feed", rf"item 1 .* <itunes:image> .* names episodes/{SLUG}/{EPISODE_IMAGE}, which is not in the site"),
    "episode art too small": (
        lambda s: write_cover(s.folder / EPISODE_IMAGE, (600, 600)),
        f"episodes/{SLUG}/{EPISODE_IMAGE}", "cover", r"is 600x600 px"),
    "page previews a missing image": (
        lambda s: (s.folder / "index.html").write_text(
            '<meta property="og:image" content="https://example.org/show/episodes/x/gone.jpg">', "utf-8"),
        f"episodes/{SLUG}/index.html", "page", r"<meta og:image> .*gone\.jpg names episodes/x/gone\.jpg, which is not"),
    "page links to a missing file": (
        lambda s: (s.folder / "index.html").write_text(
            '<a href="../2024-w18/index.html#top">previous</a><img src="episode.jpg">'
            '<article><a href="figure-1.html">the newsletter\'s own link</a></article>', "utf-8"),
        f"episodes/{SLUG}/index.html", "page", r"links to '\.\./2024-w18/index\.html#top' \(episodes/2024-w18/index\.html\), which is not"),
    "embed page links out of the site": (
        lambda s: (s.folder / "embed.html").write_text('<audio src="../../../x.mp3"></audio>', "utf-8"),
        f"episodes/{SLUG}/embed.html", "page", r"links to '\.\./\.\./\.\./x\.mp3', outside the site's folder"),
    "home page links from the server's root": (
        lambda s: (s.root / "index.html").write_text('<link rel="icon" href="/cover.jpg">', "utf-8"),
        "index.html", "page", r"links to '/cover\.jpg' from the server's root"),
    "torn search index": (
        lambda s: (s.root / "index.html").write_text(
            '<script type="application/json" id="search-index">[{"slug": </script>', "utf-8"),
        "index.html", "page", r"<script id='search-index'> is not valid JSON"),
    "search index names a missing episode": (
        lambda s: (s.root / "index.html").write_text(
            '<script type="application/json">[{"slug": "../../etc"}]</script>', "utf-8"),
        "index.html", "page", r"the search index lists '\.\./\.\./etc', which has no page"),
    "torn newsletter feed": (
        lambda s: s.newsletter.write_text("<rss><channel>", "utf-8"),
        "newsletter.xml", "page", r"is not well-formed XML"),
}


def test_a_good_site_has_no_problems(good: Site) -> None:
    assert check_site(good.root, now=NOW) == []


def test_links_the_newsletter_writer_wrote_are_not_the_sites_problem(site: Site) -> None:
    (site.folder / "index.html").write_text('<article><a href="figure-1.html">fig</a></article>', "utf-8")
    assert check_site(site.root, now=NOW) == []


@pytest.mark.parametrize("name", BREAKS)
def test_each_broken_rule_is_reported(site: Site, name: str) -> None:
    breaker, file, subject, pattern = BREAKS[name]
    breaker(site)
    problems = check_site(site.root, now=NOW)
    assert any(p.file == file and p.subject == subject and re.search(pattern, p.message) for p in problems), (
        f"{name}: no {file} ({subject}): /{pattern}/ among:\n"
        + "\n".join(f"{p} ({p.subject})" for p in problems)
    )
    assert {p.subject for p in problems} <= set(get_args(Subject))


HOSTILE_HTML = {
    "description": '<p>Hi<script>alert(1)</script></p>',
    "content:encoded": '<p><img src="x" onerror="alert(2)"></p>',
    "itunes:summary": '<a href=" java&#x09;script:alert(3)">x</a>',
}


def add_hostile_fields(feed: Path) -> None:
    """Put active markup in every HTML field of the channel and of its first item, as CDATA."""
    tree = etree.parse(str(feed))
    channel = tree.getroot().find("channel")
    for parent in (channel, channel.find("item")):
        for tag, markup in HOSTILE_HTML.items():
            name = tag.split(":")[-1]
            qname = f"{{{NAMESPACES[tag.split(':')[0]]}}}{name}" if ":" in tag else tag
            el = parent.find(qname)
            if el is None:
                el = etree.SubElement(parent, qname)
            el.text = etree.CDATA(markup)
    tree.write(str(feed), xml_declaration=True, encoding="UTF-8")


def test_active_markup_in_either_feed_is_a_problem(site: Site) -> None:
    add_hostile_fields(site.feed)
    add_hostile_fields(site.newsletter)
    problems = [p for p in check_site(site.root, now=NOW) if p.subject == "markup"]
    for feed in ("feed.xml", "newsletter.xml"):
        messages = [p.message for p in problems if p.file == feed]
        for where in ("channel", "item 1 ('Week 19')"):
            assert f"{where} <description> holds a <script> tag: a feed reader would run" in "\n".join(messages)
            assert f"{where} <content:encoded> holds an onerror= attribute" in "\n".join(messages)
            assert f"{where} <itunes:summary> holds a javascript: URL (href=)" in "\n".join(messages)
        assert len(messages) == 6, messages


def test_escaped_markup_is_text_and_no_problem(site: Site) -> None:
    edit_feed(site, "<p>One <a", "<p>&lt;script&gt;alert(1)&lt;/script&gt; One <a")
    edit_feed(site, "<description>One paper.", "<description>&lt;p&gt;&amp;lt;img onerror=x&amp;gt;&lt;/p&gt;",
              feed="newsletter.xml")
    assert check_site(site.root, now=NOW) == []


def test_a_problem_reads_as_file_then_message() -> None:
    assert str(Problem("feed.xml", "feed", "lists no episodes")) == "feed.xml: lists no episodes"


def test_a_chapter_table_that_names_a_missing_frame_reaches_check_as_data(site: Site) -> None:
    edit_tags(site, drop_second_chapter_frame)
    with pytest.raises(UnlistedChapters) as raised:
        read_chapters(site.mp3)
    assert raised.value.missing == ("chp1",)
    assert str(raised.value) == f"{site.mp3}: CTOC lists chapters with no CHAP frame: chp1"
    problems = check_site(site.root, now=NOW)
    # The file's path is the Problem's, not repeated in its message.
    assert Problem(f"episodes/{SLUG}/{SLUG}.mp3", "chapters", "CTOC lists chapters with no CHAP frame: chp1") in problems


def test_loudness_is_measured_as_heard_and_checked(site: Site) -> None:
    assert check_site(site.root, now=NOW, loudness=True) == []
    measured = measure_loudness(site.mp3)
    assert measured.integrated == pytest.approx(-16.0, abs=0.5)
    assert measured.true_peak < -1.0 and measured.decode_errors == ()

    write_audio(site, tone(lufs=-24.0))
    problems = check_site(site.root, now=NOW, loudness=True)
    assert len(problems) == 1 and problems[0].subject == "loudness"
    assert re.fullmatch(r"integrated loudness is -2[34]\.\d LUFS \(dual mono\); it must be -16 \+-1 LU",
                        problems[0].message)


def test_cli_prints_problems_and_a_summary_and_exits_1(
    site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # no podcast.toml here: the defaults apply
    assert main(["check", str(site.root)]) == 0
    assert capsys.readouterr().out.startswith("ok: 1 episode, 0 problems")

    edit_feed(site, "<itunes:explicit>false<", "<itunes:explicit>yes<", count=2)
    assert main(["check", str(site.root)]) == 1
    out, err = capsys.readouterr()
    assert out.splitlines() == [
        "feed.xml: channel <itunes:explicit> is 'yes'; it must be 'true' or 'false'",
        "feed.xml: item 1 ('Week 19') <itunes:explicit> is 'yes'; it must be 'true' or 'false'",
    ]
    assert err == f"error: 2 problems in {site.root} (1 episode)\n"


def test_a_missing_site_folder_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(tmp_path / "nowhere")]) == 1
    assert "no such folder; run 'podcast publish' first" in capsys.readouterr().err
