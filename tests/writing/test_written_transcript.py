"""Transcripts show what was written ("70B", "0.1%") with the timing of what was said (issue 14, item 5)."""

from __future__ import annotations

from podcast.episode.transcript import make_cues
from podcast.writing.speech import speakable, split_sentences, spoken_and_written


def test_each_spoken_sentence_carries_its_written_sentence() -> None:
    text = "A **70B** model gains 0.1% (Gu et al., 2023). See https://example.org/x for more!"
    pairs = spoken_and_written(text)
    assert [s for s, _ in pairs] == split_sentences(speakable(text))  # what the voice says is unchanged
    assert [w for _, w in pairs] == [
        "A 70B model gains 0.1% (Gu et al., 2023).",
        "See https://example.org/x for more!",
    ]
    assert "70 billion" in pairs[0][0] and "0.1 percent" in pairs[0][0]


def test_a_sentence_spoken_in_two_pieces_shows_once_over_both() -> None:
    long = "We test " + ", ".join(f"setting {i}" for i in range(40)) + ", i.e. all of them."
    pairs = spoken_and_written(long)
    assert len(pairs) > 1 and pairs[0][1] == long and all(w == "" for _, w in pairs[1:])
    timed = [(i * 2.0, i * 2.0 + 1.5, "Ada", w) for i, (_, w) in enumerate(pairs)]
    cues = make_cues(timed)
    assert " ".join(c.text for c in cues) == long
    assert cues[0].start == 0.0 and cues[-1].end == timed[-1][1]


def test_text_that_cannot_be_matched_shows_what_was_said() -> None:
    pairs = spoken_and_written("Costs $5 per 1M tokens.")
    assert all(w for _, w in pairs)  # every piece has text to show, whichever way it was matched
