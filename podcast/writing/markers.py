"""Text meant for one medium only: marked with HTML comments, which Markdown editors and renderers
leave invisible, so a newsletter written for email still reads right where it is written.

    <!-- newsletter-only -->Reply to this email and tell us what to cover.<!-- /newsletter-only -->
    <!-- audio-only -->You are listening to the audio edition.<!-- /audio-only -->

A block ends at its closing comment; an opening comment with no closing one marks the rest of its
paragraph (up to the next blank line). Markers work in an imported newsletter, in episode.toml's
intro and outro, and in summaries/*.md. The episode (script.md, audio, transcripts) gets `for_audio`
of each text; the newsletter, show notes and feed get `for_newsletter`. Text with no marker is
returned exactly as it is.
"""

from __future__ import annotations

import re

MEDIA = ("newsletter-only", "audio-only")

_OPEN = r"<!--\s*(newsletter-only|audio-only)\s*-->"
_CLOSED = re.compile(_OPEN + r"((?:(?!<!--\s*\1\s*-->).)*?)<!--\s*/\s*\1\s*-->", re.S | re.I)
"""A marked block up to its closing comment (paragraphs and all)."""
_UNCLOSED = re.compile(_OPEN + r"(.*?)(?=\n[ \t]*\n|\Z)", re.S | re.I)
"""An opening comment with no closing one: to the end of its paragraph."""
_STRAY_CLOSE = re.compile(r"<!--\s*/\s*(?:newsletter-only|audio-only)\s*-->", re.I)
MARKER = re.compile(r"<!--\s*/?\s*(?:newsletter-only|audio-only)\s*-->", re.I)
"""Any marker comment (an importer keeps these while dropping other comments)."""


def for_audio(text: str) -> str:
    """The text as the episode says it: newsletter-only blocks gone, audio-only ones kept.

    >>> for_audio("Thanks! <!-- newsletter-only -->Reply to this email.<!-- /newsletter-only --> Bye.")
    'Thanks!  Bye.'
    >>> for_audio("See you.\\n\\n<!-- newsletter-only --> Written by a model.\\n\\nBye.")
    'See you.\\n\\n\\n\\nBye.'
    >>> for_audio("<!-- newsletter-only -->A.\\n\\nB.<!-- /newsletter-only -->C.")
    'C.'
    """
    return _keep(text, "audio-only")


def for_newsletter(text: str) -> str:
    """The text as the newsletter shows it: audio-only blocks gone, newsletter-only ones kept.

    >>> for_newsletter("Hi.<!-- audio-only --> Hear.<!-- /audio-only --> <!-- newsletter-only -->Reply.")
    'Hi. Reply.'
    """
    return _keep(text, "newsletter-only")


def _keep(text: str, medium: str) -> str:
    if "<!--" not in text:
        return text

    def block(m: re.Match[str]) -> str:
        return m.group(2) if m.group(1).lower() == medium else ""

    return _STRAY_CLOSE.sub("", _UNCLOSED.sub(block, _CLOSED.sub(block, text)))
