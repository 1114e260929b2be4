"""The brief ([script] brief_minutes): a show with six papers builds its full episode and a 3-minute
cut beside it, publishes the cut as the item's podcast:alternateEnclosure and links it on the page,
and `podcast check` holds its file to the main enclosure's rules. Built once for the module; the tests
that change the show work on their own copy."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import feedparser
import podcastparser
import pytest
from fakes.arxiv import FakeArxiv
from lxml import etree
from mutagen.id3 import ID3
from support.shows import make_publishable

from podcast.audio.mp3 import scan_mp3
from podcast.episode import catalog
from podcast.episode.files import brief_name
from podcast.errors import ConfigError
from podcast.publish.feed_ext import NAMESPACES
from podcast.settings import ScriptSettings
from podcast.writing.speech import split_sentences, spoken_and_written

FOLDER = "episodes/2024-05-17"
SLUG = "2024-05-17"
MINUTES = 3
SAMPLE = Path(__file__).resolve().parents[1] / "episodes" / "2024-05-10-xlstm-deepseek-v2" / "summaries"
PAPERS = 6


def summaries() -> list[tuple[str, str, list[str]]]:
    """The first papers of the sample week as (title, link, summary paragraphs): real summaries, which
    the voices' measured paces fit (podcast.writing.budget)."""
    out = []
    for path in sorted(SAMPLE.glob("*.md"))[:PAPERS]:
        head, *body = path.read_text("utf-8").strip().split("\n\n")
        title, link = head.splitlines()
        out.append((title.removeprefix("# "), link.strip("<>"), body))
    return out


def newsletter() -> str:
    parts = ["Welcome to issue 13. Six papers this week.\n"]
    parts += [f"# {title}\n{link}\n\n" + "\n\n".join(body) + "\n" for title, link, body in summaries()]
    parts.append("---\n\nThat was the week.\n")
    return "\n".join(parts)


def run(cwd: Path, env: dict[str, str], *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([sys.executable, "-m", "podcast", *args], cwd=cwd, env=env,
                            capture_output=True, text=True, timeout=900, check=False)
    if ok:
        assert result.returncode == 0, result.stderr
    return result


def set_brief(root: Path, minutes: float) -> None:
    toml = root / "podcast.toml"
    text, n = re.subn(r"^#? ?brief_minutes = .*$", f"brief_minutes = {minutes:g}", toml.read_text("utf-8"),
                      flags=re.M)
    assert n == 1, "podcast init's podcast.toml should list brief_minutes once"
    toml.write_text(text, "utf-8")


Built = tuple[Path, dict[str, str], str]
"""The show, the environment its commands run in, and what the build printed."""


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    parent = tmp_path_factory.mktemp("brief")
    with FakeArxiv() as arxiv:
        env = dict(os.environ, PODCAST_ARXIV_API_URL=arxiv.api_url)
        run(parent, env, "init", "show")
        root = make_publishable(parent / "show")
        set_brief(root, MINUTES)
        (root / "issue-13.md").write_text(newsletter(), "utf-8")
        run(root, env, "new", FOLDER, "--from-newsletter", "issue-13.md")
        said = run(root, env, "build", FOLDER).stdout
        run(root, env, "publish")
        yield root, env, said


def record(root: Path) -> catalog.BuiltEpisode:
    return catalog.load(root / FOLDER / "build" / "episode.json")


def test_both_mp3s_are_built_and_the_brief_is_near_its_length(built: Built) -> None:
    root, _, _ = built
    ep = record(root)
    assert ep.brief is not None
    out = root / FOLDER / "build"
    main, brief = out / ep.audio, out / ep.brief.audio
    assert brief.name == brief_name(SLUG) and main.is_file()
    assert brief.stat().st_size == ep.brief.audio_bytes
    stream = scan_mp3(brief.read_bytes())
    assert not stream.error and stream.bitrates == {ep.brief.bitrate // 1000}
    assert abs(stream.seconds - ep.brief.duration) < 0.05
    assert abs(ep.brief.duration - MINUTES * 60) <= 0.15 * MINUTES * 60, ep.brief.duration
    assert ep.duration > ep.brief.duration * 1.3  # the full episode reads every summary whole
    tags = ID3(brief)
    assert str(tags["TIT2"]) == f"{ep.title} (brief)"
    chapters = [str(f.sub_frames["TIT2"]) for f in tags.getall("CHAP")]
    assert len(chapters) == 2 + PAPERS  # every paper is in the brief, with its chapter
    script = (root / FOLDER / "brief.md").read_text("utf-8")
    for _, _, body in summaries():  # one or two sentences of each summary: never its third
        first, _, third, *_ = split_sentences(body[0], limit=len(body[0]) + 1)
        assert first in script and third not in script


def test_the_feed_offers_the_brief_as_an_alternate_enclosure(built: Built) -> None:
    root, _, _ = built
    site = root / "public"
    xml = (site / "feed.xml").read_bytes()
    ep = record(root)
    assert ep.brief is not None
    fp = feedparser.parse(xml)
    assert not fp.bozo, fp.bozo_exception
    [entry] = fp.entries
    assert [e.href.rsplit("/", 1)[-1] for e in entry.enclosures] == [ep.audio]  # the brief is no 2nd enclosure
    [episode] = podcastparser.parse("https://podcast.papercast.dev/feed.xml", __import__("io").BytesIO(xml))[
        "episodes"]
    assert episode["enclosures"][0]["file_size"] == ep.audio_bytes
    [alt] = etree.fromstring(xml).xpath("//item/podcast:alternateEnclosure", namespaces=NAMESPACES)
    assert alt.get("type") == "audio/mpeg" and alt.get("title") == "Brief"
    assert alt.get("length") == str(ep.brief.audio_bytes) == str((site / "episodes" / SLUG / ep.brief.audio)
                                                                 .stat().st_size)
    assert alt.get("bitrate") == str(ep.brief.bitrate)
    [uri] = alt.xpath("podcast:source/@uri", namespaces=NAMESPACES)
    assert uri == f"https://podcast.papercast.dev/episodes/{SLUG}/{ep.brief.audio}"


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self._href: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._href = dict(attrs).get("href") or ""
            self.links.append((self._href, ""))

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            href, text = self.links[-1]
            self.links[-1] = (href, text + data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a":
            self._href = None


def test_the_page_links_the_brief(built: Built) -> None:
    root, _, _ = built
    ep = record(root)
    assert ep.brief is not None
    parser = Links()
    parser.feed((root / "public" / "episodes" / SLUG / "index.html").read_text("utf-8"))
    texts = [" ".join(text.split()) for href, text in parser.links if href == ep.brief.audio]
    assert f"Listen to the {round(ep.brief.duration / 60)}-minute brief" in texts


def test_check_passes_and_fails_on_a_truncated_brief(built: Built, tmp_path: Path) -> None:
    root, env, _ = built
    site = tmp_path / "public"
    shutil.copytree(root / "public", site)
    assert run(root, env, "check", str(site)).returncode == 0
    ep = record(root)
    assert ep.brief is not None
    mp3 = site / "episodes" / SLUG / ep.brief.audio
    mp3.write_bytes(mp3.read_bytes()[: ep.brief.audio_bytes // 2])
    failed = run(root, env, "check", str(site), ok=False)
    assert failed.returncode == 1
    assert "alternateEnclosure" in failed.stdout + failed.stderr and ep.brief.audio in failed.stdout + failed.stderr


def test_a_record_without_a_brief_still_reads_and_a_bad_one_does_not(built: Built, tmp_path: Path) -> None:
    root, _, _ = built
    folder = tmp_path / SLUG
    shutil.copytree(root / FOLDER / "build", folder / "build")
    path = folder / "build" / "episode.json"
    data = json.loads(path.read_text("utf-8"))
    for brief, problem in (
        ({**data["brief"], "audio": "../x.mp3"}, "brief.audio"),
        ({**data["brief"], "audio": "episode.json"}, "brief.audio"),
        ({**data["brief"], "audio": data["audio"]}, "brief.audio"),
        ({**data["brief"], "audio_bytes": "many"}, "audio_bytes"),
        ({**data["brief"], "duration": -1}, "brief.duration"),
        ({**data["brief"], "extra": 1}, "unknown key 'extra'"),
        (None, "expected a table"),
    ):
        path.write_text(json.dumps({**data, "brief": brief}), "utf-8")
        with pytest.raises(ConfigError, match=re.escape(problem)):
            catalog.load(path)
    del data["brief"]
    path.write_text(json.dumps(data), "utf-8")
    assert catalog.load(path).brief is None


def test_turned_off_the_brief_leaves_the_build_and_the_feed(built: Built, tmp_path: Path) -> None:
    source, env, _ = built
    root = tmp_path / "show"
    shutil.copytree(source, root, ignore=shutil.ignore_patterns("public"))
    set_brief(root, 0)
    run(root, env, "build", FOLDER)
    run(root, env, "publish")
    assert record(root).brief is None
    assert not (root / FOLDER / "build" / brief_name(SLUG)).exists()
    assert b"alternateEnclosure" not in (root / "public" / "feed.xml").read_bytes()
    assert brief_name(SLUG) not in (root / "public" / "episodes" / SLUG / "index.html").read_text("utf-8")


def test_the_brief_says_what_the_full_episode_said(built: Built) -> None:
    """Every sentence the reader says in the brief is one the full episode's voice spoke: the
    sentence cache has it, so the brief synthesizes only the host's few lines of its own."""
    root, _, said = built
    spoken = {}
    for name in ("script.md", "brief.md"):
        lines = (root / FOLDER / name).read_text("utf-8").splitlines()
        spoken[name] = {s for line in lines if line.startswith("cohost: ")
                        for s, _ in spoken_and_written(line.removeprefix("cohost: "))}
    assert spoken["brief.md"] and spoken["brief.md"] <= spoken["script.md"]
    ep = record(root)
    assert ep.brief is not None
    m, s = divmod(round(ep.brief.duration), 60)
    assert f"(and a {m}:{s:02d} brief)" in said


@pytest.mark.parametrize("minutes", [0.5, 16, -1])
def test_brief_minutes_is_off_or_1_to_15(minutes: float) -> None:
    with pytest.raises(ConfigError, match=re.escape("brief_minutes must be 0 (no brief) or from 1 to 15")):
        ScriptSettings(brief_minutes=minutes)
    assert ScriptSettings(brief_minutes=15).brief_minutes == 15
