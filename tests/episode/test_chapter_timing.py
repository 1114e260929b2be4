"""Every chapter starts where its section's first word is, in every place a player reads it from.

A section is encoded from its first MP3 frame, and its first word is heard the encoder's delay
later (1105 samples, under one frame), in the intro after the 0.3 s lead players that fade in
need too. So each chapter's start, as the MP3's CHAP frames, episode.json, chapters.json and the
feed's psc:chapters give it, must lie exactly that far (to the millisecond the files keep) before
the first cue of its section in the transcripts (VTT and SRT): well within one MP3 frame. The sections and their first lines come from script.md, not from the
chapters, so a chapter list that is wrong everywhere alike is caught too.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lxml import etree
from mutagen.id3 import ID3
from support.chapters import TOLERANCE, first_cues, first_word_expected, script_sections
from support.shows import FIRST_EPISODE

from podcast.episode.transcript import parse_srt, parse_vtt

PSC = "http://podlove.org/simple-chapters"


def _npt(value: str) -> float:
    h, m, s = value.split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)


def _chapter_starts(show: Path) -> dict[str, list[float]]:
    """Chapter starts (s) from each place a player or app reads them."""
    build = show / "episodes" / FIRST_EPISODE / "build"
    manifest = json.loads((build / "episode.json").read_text("utf-8"))
    published = show / "public" / "episodes" / FIRST_EPISODE
    tags = ID3(build / manifest["audio"])
    toc = tags.getall("CTOC")[0]
    chaps = {c.element_id: c for c in tags.getall("CHAP")}
    feed = etree.parse(str(show / "public" / "feed.xml"))
    psc = feed.findall(f".//item/{{{PSC}}}chapters/{{{PSC}}}chapter")
    starts = {
        "episode.json": [c["start"] for c in manifest["chapters"]],
        "MP3 CHAP frames": [chaps[e].start_time / 1000 for e in toc.child_element_ids],
        "chapters.json": [c["startTime"] for c in json.loads((build / "chapters.json").read_text("utf-8"))["chapters"]],
        "published chapters.json": [
            c["startTime"] for c in json.loads((published / "chapters.json").read_text("utf-8"))["chapters"]
        ],
        "feed psc:chapters": [_npt(c.get("start")) for c in psc],
    }
    assert ID3(published / manifest["audio"]).getall("CHAP"), "the published MP3 lost its chapters"
    return starts


@pytest.mark.parametrize("transcript", ["transcript.vtt", "transcript.srt"])
def test_every_chapter_starts_its_section_s_first_cue_within_one_frame(
    built_show: Path, transcript: str
) -> None:
    build = built_show / "episodes" / FIRST_EPISODE / "build"
    parse = parse_vtt if transcript.endswith(".vtt") else parse_srt
    cues = list(parse((build / transcript).read_text("utf-8")))
    sections = script_sections((built_show / "episodes" / FIRST_EPISODE / "script.md").read_text("utf-8"))
    assert len(sections) >= 3, "the sample episode has an intro, a paper and an outro"
    starts_of_sections = first_cues(cues, sections)
    for where, starts in _chapter_starts(built_show).items():
        assert len(starts) == len(sections), (where, starts)
        assert starts[0] == 0, (where, starts)
        for i, (start, cue, (heading, _)) in enumerate(zip(starts, starts_of_sections, sections, strict=True)):
            assert abs(cue.start - first_word_expected(i, start)) <= TOLERANCE, (
                f"{where}: chapter '{heading}' starts at {start:.3f} s, its first words at {cue.start:.3f} s"
            )
