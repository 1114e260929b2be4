"""Transcripts and chapters.json against the STANDARDS.md rules, and the parsers that check them."""

from __future__ import annotations

import itertools
import json
import random
import re

import pytest

from podcast.episode.transcript import (
    chapters_json,
    long_lines,
    make_cues,
    parse_srt,
    parse_vtt,
    to_json,
    to_srt,
    to_vtt,
)
from podcast.errors import InputError
from podcast.models import Chapter, Cue

LONG = (
    "This paper replaces recurrence and convolutions entirely with attention, which lets the model "
    "train in a fraction of the time while setting a new state of the art on two translation tasks, "
    "and the authors argue this generalizes well beyond translation."
)
SENTENCES = [
    (0.0, 2.5, "Host", "Welcome to Papercast & friends: <this> week in AI."),
    (2.8, 14.0, "Cohost", LONG),
    (14.0, 15.0, "Host", "Short."),
]
VTT_TIMING = re.compile(r"^(\d{2}):([0-5]\d):([0-5]\d)\.(\d{3}) --> (\d{2}):([0-5]\d):([0-5]\d)\.(\d{3})$")
SRT_TIMING = re.compile(r"^(\d{2}):([0-5]\d):([0-5]\d),(\d{3}) --> (\d{2}):([0-5]\d):([0-5]\d),(\d{3})$")


def seconds(groups: tuple[str, ...]) -> float:
    h, m, s, ms = map(int, groups)
    return h * 3600 + m * 60 + s + ms / 1000


def random_sentences(seed: int, n: int = 60) -> list[tuple[float, float, str, str]]:
    rng = random.Random(seed)
    words = ["attention", "model", "token", "layer", "gradient", "a", "of", "the", "transformer"]
    words += ["benchmark", "results", "&", "<x>", "Ünïcode"]
    out, t = [], 0.0
    for _ in range(n):
        text = " ".join(rng.choice(words) for _ in range(rng.randint(1, 70)))
        dur = rng.choice([0.0, 0.0004, rng.uniform(0.2, 15)])
        # Sometimes start a little before the previous end, as a crossfade would.
        start = max(0.0, t - rng.choice([0, 0, 0.05]))
        out.append((start, start + dur, rng.choice(["Host", "Cohost", "Dr. Ümit Ødegaard"]), text))
        t = start + dur + rng.uniform(0, 0.6)
    return out


# --- make_cues ----------------------------------------------------------------------------------------


def test_short_sentences_are_one_cue_each() -> None:
    cues = make_cues([SENTENCES[0], SENTENCES[2]])
    assert cues == [
        Cue(0.0, 2.5, "Host", "Welcome to Papercast & friends: <this> week in AI."),
        Cue(14.0, 15.0, "Host", "Short."),
    ]


def test_long_sentence_splits_at_words_with_time_by_characters() -> None:
    cues = make_cues([SENTENCES[1]])
    assert len(cues) >= 2
    assert " ".join(c.text for c in cues) == LONG
    assert cues[0].start == 2.8 and cues[-1].end == 14.0
    for a, b in itertools.pairwise(cues):
        assert a.end == b.start
    chars = sum(len(c.text) for c in cues)
    for c in cues:
        assert c.end - c.start == pytest.approx(11.2 * len(c.text) / chars, abs=0.002)


def test_cues_never_overlap_go_backwards_or_vanish() -> None:
    cues = make_cues([(0.0, 1.0, "A", "one"), (0.5, 0.5, "B", "two"), (0.2, 0.3, "A", "three")])
    assert [c.text for c in cues] == ["one", "two", "three"]
    for a, b in itertools.pairwise(cues):
        assert a.end <= b.start
    assert all(c.end > c.start for c in cues)


def test_blank_sentences_are_skipped() -> None:
    assert make_cues([(0.0, 1.0, "A", "  \n ")]) == []


@pytest.mark.parametrize("seed", range(5))
def test_rules_hold_for_random_scripts(seed: int) -> None:
    sentences = random_sentences(seed)
    cues = make_cues(sentences)
    joined = " ".join(c.text for c in cues)
    assert joined == " ".join(" ".join(s[3].split()) for s in sentences)
    for a, b in itertools.pairwise(cues):
        assert a.end <= b.start
    assert all(c.end > c.start for c in cues)
    vtt, srt = to_vtt(cues), to_srt(cues)
    assert long_lines(vtt) == [] and long_lines(srt) == []
    assert parse_vtt(vtt) == cues
    assert parse_srt(srt) == cues
    for block in vtt.split("\n\n")[1:]:
        assert len(block.strip("\n").split("\n")) <= 3  # timing + at most two lines of text
    for block in srt.strip("\n").split("\n\n"):
        assert len(block.split("\n")) <= 4  # number + timing + at most two lines


def test_unbreakable_word_is_cut_to_fit_a_line() -> None:
    cues = make_cues([(0.0, 3.0, "Host", "see " + "x" * 150)])
    assert long_lines(to_vtt(cues)) == [] and long_lines(to_srt(cues)) == []


# --- VTT ------------------------------------------------------------------------------------------------


def test_vtt_follows_the_rules() -> None:
    cues = make_cues(SENTENCES)
    vtt = to_vtt(cues)
    assert vtt.startswith("WEBVTT\n\n")
    vtt.encode("utf-8")
    blocks = vtt.removeprefix("WEBVTT\n\n").rstrip("\n").split("\n\n")
    assert len(blocks) == len(cues)
    previous_start = -1.0
    for block, cue in zip(blocks, cues, strict=True):
        timing, *text = block.split("\n")
        m = VTT_TIMING.match(timing)
        assert m, timing
        start, end = seconds(m.groups()[:4]), seconds(m.groups()[4:])
        assert previous_start <= start < end
        previous_start = start
        assert text[0].startswith(f"<v {cue.speaker}>")
        assert all(len(line) <= 65 for line in text)
    # Escapes count toward the 65 characters, so this 61-character sentence takes two lines.
    assert "<v Host>Welcome to Papercast &amp; friends: &lt;this&gt; week in\nAI.\n" in vtt


def test_vtt_escapes_speaker_names() -> None:
    vtt = to_vtt([Cue(0.0, 1.0, "R&D <Bot>", "hi")])
    assert "<v R&amp;D &lt;Bot&gt;>hi" in vtt
    assert parse_vtt(vtt)[0].speaker == "R&D <Bot>"


def test_vtt_round_trip() -> None:
    cues = make_cues(SENTENCES)
    assert parse_vtt(to_vtt(cues)) == cues


def test_parse_vtt_reads_other_writers_files() -> None:
    text = (
        "\ufeffWEBVTT - made elsewhere\nKind: captions\n\nNOTE a comment\nspanning lines\n\n"
        "intro\n00:01.000 --> 00:02.500 align:start\n<v.loud Bob Smith>Hi &amp; hello</v>\n\n"
        "01:00:00.000 --> 01:00:01.000\r\n<i>plain</i> text\r\n"
    )
    assert parse_vtt(text) == [
        Cue(1.0, 2.5, "Bob Smith", "Hi & hello"),
        Cue(3600.0, 3601.0, "", "plain text"),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("WEBVT\n\n00:00:00.000 --> 00:00:01.000\nhi\n", "line 1:"),
        ("WEBVTT\n00:00:00.000 --> 00:00:01.000\nhi\n", "line 2: put a blank line"),
        ("WEBVTT\n\n00:00:00,000 --> 00:00:01,000\nhi\n", "line 3: bad cue timing"),
        ("WEBVTT\n\nid-only\n", "line 3: cue 'id-only' has no timing line"),
        ("WEBVTT\n\n00:00:00.000 --> 00:00:61.000\nhi\n", "line 3: bad cue timing"),
        ("WEBVTT\n\n00:00:02.000 --> 00:00:01.000\nhi\n", "line 3: cue ends at or before its start"),
        (
            "WEBVTT\n\n00:00:05.000 --> 00:00:06.000\na\n\nx\n00:00:01.000 --> 00:00:02.000\nb\n",
            "line 7: cue starts before the previous cue",
        ),
    ],
)
def test_parse_vtt_rejects_malformed_input(text: str, message: str) -> None:
    with pytest.raises(InputError, match=re.escape(message)):
        parse_vtt(text)


# --- SRT ------------------------------------------------------------------------------------------------


def test_srt_follows_the_rules() -> None:
    cues = make_cues(SENTENCES)
    srt = to_srt(cues)
    blocks = srt.rstrip("\n").split("\n\n")
    assert len(blocks) == len(cues)
    for n, (block, cue) in enumerate(zip(blocks, cues, strict=True), start=1):
        number, timing, *text = block.split("\n")
        assert number == str(n)
        m = SRT_TIMING.match(timing)
        assert m, timing
        assert seconds(m.groups()[:4]) < seconds(m.groups()[4:])
        assert text[0].startswith(f"{cue.speaker}: ")
        assert all(len(line) <= 65 for line in text)
    assert "Host: Welcome to Papercast & friends: <this> week in AI." in srt


def test_srt_round_trip() -> None:
    cues = make_cues(SENTENCES)
    assert parse_srt(to_srt(cues)) == cues


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2\n00:00:00,000 --> 00:00:01,000\nhi\n", "line 1: expected cue number 1"),
        ("1\n00:00:00.000 --> 00:00:01.000\nhi\n", "line 2: bad cue timing"),
        ("1\n00:00:00,000 --> 00:00:01,000\n", "line 2: cue 1 has no text"),
        (
            "1\n00:00:00,000 --> 00:00:01,000\na\n\n\n3\n00:00:01,000 --> 00:00:02,000\nb\n",
            "line 6: expected cue number 2",
        ),
        ("1\n00:00:01,000 --> 00:00:01,000\nhi\n", "line 2: cue ends at or before its start"),
    ],
)
def test_parse_srt_rejects_malformed_input(text: str, message: str) -> None:
    with pytest.raises(InputError, match=re.escape(message)):
        parse_srt(text)


# --- JSON -----------------------------------------------------------------------------------------------


def test_json_transcript() -> None:
    cues = [Cue(0.0, 1.5, "Host", "Hello."), Cue(1.5, 2.25, "Cohost", "Hi & bye.")]
    doc = json.loads(to_json(cues))
    assert doc == {
        "version": "1.0.0",
        "segments": [
            {"speaker": "Host", "startTime": 0, "endTime": 1.5, "body": "Hello."},
            {"speaker": "Cohost", "startTime": 1.5, "endTime": 2.25, "body": "Hi & bye."},
        ],
    }


def test_chapters_json() -> None:
    chapters = [
        Chapter("Intro", 0.0, 12.5),
        Chapter("Attention Is All You Need", 12.5, 300.1234, "https://arxiv.org/abs/1706.03762"),
    ]
    text = chapters_json(chapters)
    assert '"startTime": 0,' in text  # a number, not a string, and 0 rather than 0.0
    assert json.loads(text) == {
        "version": "1.2.0",
        "chapters": [
            {"startTime": 0, "title": "Intro"},
            {
                "startTime": 12.5,
                "title": "Attention Is All You Need",
                "url": "https://arxiv.org/abs/1706.03762",
            },
        ],
    }
