"""A whole show, end to end, with the real voices, the real ffmpeg and real feed parsers.

One three-paper episode is built and published once for the module (a few seconds of synthesis);
the tests that only read it (what a listener, a podcast app or a web browser would get) share it,
and each test that builds or edits again works on its own copy, so no test sees another's leftovers.
"""

from __future__ import annotations

import io
import itertools
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import feedparser
import podcastparser
import pytest
from mutagen.id3 import ID3
from support.chapters import TOLERANCE, first_cues, first_word_expected, script_sections

from podcast.audio.encode import ffmpeg_exe
from podcast.episode.transcript import parse_srt, parse_vtt
from podcast.publish.check.media import measure_loudness

SLUG = "2024-05-10-three-papers"
EPISODE = '''title = "Three papers & a <test>: \\"quotes\\""
date = 2024-05-10
intro = "A short test week."
outro = "That was the test week."

[[papers]]
id = "2405.04517"
title = "xLSTM: Extended Long Short-Term Memory"
authors = ["Maximilian Beck", "Korbinian Pöppel", "Markus Spanring"]
published = 2024-05-07
abstract = """The authors revisit the LSTM at the scale of modern language models. They add exponential gating and a matrix memory that trains in parallel. The resulting xLSTM compares well with Transformers of similar size."""

[[papers]]
id = "2405.04434"
title = "DeepSeek-V2: A Strong, Economical, and Efficient Mixture-of-Experts Language Model"
authors = ["DeepSeek-AI"]
url = "https://arxiv.org/abs/2405.04434"
abstract = """DeepSeek-V2 is a mixture-of-experts model with 236B parameters, of which 21B are active per token. Multi-head latent attention shrinks the KV cache by 93.3%, e.g. for long contexts [12]."""

[[papers]]
title = "A paper without an arXiv id"
abstract = """This paper has no identifier at all. It is here to check that a slug is used instead."""
'''


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "podcast", *args], cwd=cwd, capture_output=True, text=True)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The show, built and published once: read it, never change it (copy it with `show`)."""
    root = tmp_path_factory.mktemp("show") / "show"
    assert run(["init", str(root)], root.parent).returncode == 0
    shutil.rmtree(root / "episodes" / "first-week")
    (root / "episodes" / SLUG).mkdir(parents=True)
    (root / "episodes" / SLUG / "episode.toml").write_text(EPISODE, "utf-8")
    built = run(["build", f"episodes/{SLUG}"], root)
    assert built.returncode == 0, built.stderr
    assert re.search(r"built .*: \d+:\d\d of audio, 5 chapters", built.stdout), built.stdout
    published = run(["publish"], root)
    assert published.returncode == 0, published.stderr
    return root


@pytest.fixture
def show(built: Path, tmp_path: Path) -> Path:
    """A private copy of the built show (its .cache too, so nothing is synthesized again)."""
    return Path(shutil.copytree(built, tmp_path / "show", symlinks=True))


def mp3_of(show: Path) -> Path:
    return show / "public" / "episodes" / SLUG / f"{SLUG}.mp3"


def decoded_seconds(path: Path) -> float:
    out = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(path), "-f", "s16le", "-ac", "1", "-"],
        capture_output=True,
        check=True,
    ).stdout
    return len(out) / 2 / 44100


def test_feed_parses_in_feedparser_and_podcastparser(built: Path) -> None:
    xml = (built / "public" / "feed.xml").read_bytes()
    mp3 = mp3_of(built)
    seconds = decoded_seconds(mp3)

    fp = feedparser.parse(xml)
    assert not fp.bozo, fp.bozo_exception
    entry = fp.entries[0]
    assert entry.title == 'Three papers & a <test>: "quotes"'
    enclosure = entry.enclosures[0]
    assert int(enclosure.length) == mp3.stat().st_size
    assert enclosure.type == "audio/mpeg"
    assert enclosure.href.endswith(f"episodes/{SLUG}/{SLUG}.mp3")

    pp = podcastparser.parse("https://example.com/podcast/feed.xml", io.BytesIO(xml))
    assert len(pp["episodes"]) == 1, "podcastparser dropped the episode"
    ep = pp["episodes"][0]
    assert ep["guid"] == entry.id and ep["guid"]
    assert ep["enclosures"][0]["file_size"] == mp3.stat().st_size
    assert abs(ep["total_time"] - seconds) <= 1
    assert [c["title"] for c in ep["chapters"]][1:4] == [
        "xLSTM: Extended Long Short-Term Memory",
        "DeepSeek-V2: A Strong, Economical, and Efficient Mixture-of-Experts Language Model",
        "A paper without an arXiv id",
    ]


def test_guid_is_stable_across_rebuilds(show: Path) -> None:
    before = feedparser.parse((show / "public" / "feed.xml").read_bytes()).entries[0].id
    assert run(["build", f"episodes/{SLUG}"], show).returncode == 0
    assert run(["publish"], show).returncode == 0
    feed = (show / "public" / "feed.xml").read_bytes()
    assert feedparser.parse(feed).entries[0].id == before
    assert run(["publish"], show).returncode == 0
    assert (show / "public" / "feed.xml").read_bytes() == feed, "publishing twice changed the feed"


def test_mp3_format_and_decodes_cleanly(built: Path) -> None:
    mp3 = mp3_of(built)
    probe = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-i", str(mp3)], capture_output=True, text=True
    ).stderr
    assert re.search(r"Audio: mp3.*44100 Hz, mono.*96 kb/s", probe), probe
    clean = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(mp3), "-f", "null", "-"], capture_output=True, text=True
    )
    assert clean.stderr == "" and clean.returncode == 0


def test_loudness_and_true_peak(built: Path) -> None:
    measured = measure_loudness(mp3_of(built))
    assert abs(measured.integrated - -16.0) <= 0.5, measured  # ebur128 (tests/audio/test_loudness_target.py: pyloudnorm)
    assert measured.true_peak <= -1.0, measured
    assert measured.decode_errors == ()


def test_id3_tags_and_chapters_tile_the_audio(built: Path) -> None:
    mp3 = mp3_of(built)
    tags = ID3(mp3)
    assert tags.version == (2, 3, 0)
    assert str(tags["TIT2"]) == 'Three papers & a <test>: "quotes"'
    assert str(tags["TCON"]) == "Podcast"
    assert tags.getall("APIC")[0].mime == "image/jpeg"
    chaps = sorted(tags.getall("CHAP"), key=lambda c: c.start_time)
    toc = tags.getall("CTOC")
    assert len(toc) == 1 and list(toc[0].child_element_ids) == [c.element_id for c in chaps]
    assert chaps[0].start_time == 0
    for a, b in itertools.pairwise(chaps):
        assert a.end_time == b.start_time
    assert abs(chaps[-1].end_time / 1000 - decoded_seconds(mp3)) < 0.05
    titles = [str(c.sub_frames["TIT2"]) for c in chaps]
    assert titles[0] == "Intro" and titles[-1] == "Outro"
    assert titles[1] == "xLSTM: Extended Long Short-Term Memory"
    links = {str(c.sub_frames["TIT2"]): c.sub_frames.getall("WXXX") for c in chaps}
    assert links[titles[1]][0].url == "https://arxiv.org/abs/2405.04517"


def test_transcripts_follow_the_audio_and_chapters(built: Path) -> None:
    folder = built / "public" / "episodes" / SLUG
    seconds = decoded_seconds(folder / f"{SLUG}.mp3")
    vtt = parse_vtt((folder / "transcript.vtt").read_text("utf-8"))
    srt = parse_srt((folder / "transcript.srt").read_text("utf-8"))
    assert len(vtt) == len(srt) > 10
    for cues in (vtt, srt):
        for a, b in itertools.pairwise(cues):
            assert a.start < a.end <= b.start + 1e-3
        assert cues[-1].end <= seconds
    assert {c.speaker for c in vtt} == {"Joe", "Ava"}
    # Every chapter starts the encoder's delay (under one MP3 frame) before its section's first words
    # (the intro's after its short lead); tests/episode/test_chapter_timing.py checks every place
    # chapters are given.
    chapters = json.loads((folder / "chapters.json").read_text("utf-8"))["chapters"]
    sections = script_sections((built / "episodes" / SLUG / "script.md").read_text("utf-8"))
    assert len(chapters) == len(sections) == 5
    for i, (chapter, cue) in enumerate(zip(chapters, first_cues(vtt, sections), strict=True)):
        assert abs(cue.start - first_word_expected(i, chapter["startTime"])) <= TOLERANCE, (
            chapter["title"], chapter["startTime"], cue)


def test_editing_one_summary_resynthesizes_only_that_paper(show: Path) -> None:
    summary = show / "episodes" / SLUG / "summaries" / "2405.04434.md"
    summary.write_text(summary.read_text("utf-8").replace("21B are active", "only 21B are active"), "utf-8")
    rebuilt = run(["build", f"episodes/{SLUG}"], show)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "1 of 5 sections spoken anew" in rebuilt.stdout, rebuilt.stdout
    script = (show / "episodes" / SLUG / "script.md").read_text("utf-8")
    assert "only 21B are active" in script, "the edited summary did not reach the script"
    again = run(["build", f"episodes/{SLUG}"], show)
    assert "0 of 5 sections spoken anew" in again.stdout


def test_hand_edited_script_is_kept(show: Path) -> None:
    path = show / "episodes" / SLUG / "script.md"
    text = path.read_text("utf-8").replace("Let's get started.", "Let us begin.")
    path.write_text(text, "utf-8")
    rebuilt = run(["build", f"episodes/{SLUG}"], show)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert path.read_text("utf-8") == text
    vtt = (show / "episodes" / SLUG / "build" / "transcript.vtt").read_text("utf-8")
    assert "Let us begin." in vtt
