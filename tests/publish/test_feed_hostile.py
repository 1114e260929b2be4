"""Markup in a paper's title, its authors and the intro, through a real build and publish: both feeds carry
it as text that readers show, never as markup they run, and `podcast check` passes the site.

Read back the way clients read them: feedparser (which also sanitizes), gPodder's podcastparser (which
does not: its description_html goes to an HTML view as it is), and libxml2's HTML parser over every field
that readers render as HTML.
"""

from __future__ import annotations

import io
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import feedparser
import lxml.html
import podcastparser
import pytest
from lxml import etree
from support.shows import ONE_PAPER_EPISODE

from podcast.publish.feed_ext import NAMESPACES

RunCli = Callable[..., subprocess.CompletedProcess[str]]

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(2)>"
TITLE = f"Week {SCRIPT} & {IMG}"
PAPER = f"xLSTM {SCRIPT} Extended"
AUTHOR = f"Maximilian {IMG} Beck"
INTRO = f"One paper {SCRIPT} from {IMG} this week."
HTML_FIELDS = ("channel/description", "channel/item/description", "channel/item/content:encoded",
               "channel/item/itunes:summary")


def hostile_episode() -> str:
    """conftest's one-paper episode.toml with markup in its title, intro, paper title and first author."""
    toml = ONE_PAPER_EPISODE
    for old, new in (("Our first episode: xLSTM", TITLE), ("One paper from the week of May 6, 2024.", INTRO),
                     ("xLSTM: Extended Long Short-Term Memory", PAPER), ("Maximilian Beck", AUTHOR)):
        assert toml.count(f'"{old}"') == 1, old
        toml = toml.replace(f'"{old}"', f'"{new}"')
    return toml


@pytest.fixture(scope="module")
def published(built_show: Path, tmp_path_factory: pytest.TempPathFactory, run_cli: RunCli) -> Path:
    """The session's show, its episode rewritten with markup everywhere, built, published and checked."""
    show = Path(shutil.copytree(built_show, tmp_path_factory.mktemp("hostile") / "show", symlinks=True))
    (show / "episodes" / "first-week" / "episode.toml").write_text(hostile_episode(), "utf-8")
    for args in (("build", "episodes/first-week"), ("publish",), ("check",)):
        result = run_cli(show, *args)
        assert result.returncode == 0, f"{args}: {result.stderr}"
    return show / "public"


def html_fields(feed: Path) -> list[str]:
    root = etree.parse(str(feed)).getroot()
    return [el.text or "" for path in HTML_FIELDS for el in root.findall(path, NAMESPACES)]


@pytest.mark.parametrize("feed", ["feed.xml", "newsletter.xml"])
def test_no_html_field_holds_active_markup(published: Path, feed: str) -> None:
    fields = html_fields(published / feed)
    assert len(fields) >= 3
    shown = ""
    for field in fields:
        page = lxml.html.fragment_fromstring(field, create_parent="div")
        assert page.findall(".//script") == [] and page.findall(".//img") == [], field
        assert not [name for el in page.iter() for name in el.attrib if name.startswith("on")], field
        shown += page.text_content()
    for text in (SCRIPT, IMG, PAPER, AUTHOR):  # each is there, as text a reader shows
        assert text in shown, f"{text!r} not shown in {feed}"


def test_feedparser_shows_the_text_escaped(published: Path) -> None:
    for feed in ("feed.xml", "newsletter.xml"):
        parsed = feedparser.parse(str(published / feed))
        assert not parsed.bozo, parsed.get("bozo_exception")
        [entry] = parsed.entries
        assert entry.title == TITLE
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in entry.summary
        html = entry.summary + "".join(c.value for c in entry.get("content", []))
        assert "<script" not in html and "<img" not in html
        assert "Maximilian &lt;img src=x onerror=alert(2)&gt; Beck" in html


def test_podcastparser_shows_the_text_escaped(published: Path) -> None:
    with open(published / "feed.xml", "rb") as f:
        parsed = podcastparser.parse("https://podcast.papercast.dev/feed.xml", io.BytesIO(f.read()))
    [episode] = parsed["episodes"]
    assert episode["title"] == TITLE
    html = episode["description_html"]  # shown in an HTML view as it is
    assert "<script" not in html and "<img" not in html
    assert "xLSTM &lt;script&gt;alert(1)&lt;/script&gt; Extended" in html
