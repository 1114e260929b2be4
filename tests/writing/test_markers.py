"""Text for one edition only: <!-- newsletter-only --> and <!-- audio-only --> (issue 14, item 4)."""

from __future__ import annotations

from pathlib import Path

import pytest

from podcast.research.sources import parse_newsletter
from podcast.writing.markers import for_audio, for_newsletter

LETTER = """\
Hello. <!-- audio-only -->You are listening to issue 12.<!-- /audio-only -->
<!-- a private note -->

# A paper
https://arxiv.org/abs/2405.04517

It finds something. <!-- newsletter-only -->[Read the PDF](https://arxiv.org/pdf/2405.04517)<!-- /newsletter-only -->

---

See you next week.

<!-- newsletter-only -->
Reply to this email.

This article was written by gpt-3.5-turbo-16k.
<!-- /newsletter-only -->
"""


def test_an_imported_newsletter_keeps_its_markers_and_drops_other_comments() -> None:
    letter = parse_newsletter(LETTER, Path("issue-12.md"))
    assert "private note" not in letter.intro
    assert for_audio(letter.intro) == "Hello. You are listening to issue 12."
    assert for_newsletter(letter.intro).strip() == "Hello."
    (_, summary), = letter.papers
    assert for_audio(summary).strip() == "It finds something."
    assert for_newsletter(summary) == "It finds something. [Read the PDF](https://arxiv.org/pdf/2405.04517)"
    assert for_audio(letter.outro).strip() == "See you next week."
    closing = " ".join(for_newsletter(letter.outro).split())
    assert closing == "See you next week. Reply to this email. This article was written by gpt-3.5-turbo-16k."


@pytest.mark.parametrize("text", ["", "Plain text, 70B and 0.1%.", "<!-- a comment --> kept as is\n\n"])
def test_text_without_markers_is_unchanged(text: str) -> None:
    assert for_audio(text) == text and for_newsletter(text) == text


def test_an_unclosed_marker_covers_its_paragraph() -> None:
    text = "Thanks!\n\n<!-- newsletter-only --> Reply to this email.\nOr write to us.\n\nBye."
    assert for_audio(text).split() == ["Thanks!", "Bye."]
    assert "Reply to this email." in for_newsletter(text) and "<!--" not in for_newsletter(text)


def test_markers_are_read_in_any_case_and_spacing() -> None:
    assert for_audio("A.<!--Newsletter-Only-->B.<!-- / newsletter-only -->C.") == "A.C."
