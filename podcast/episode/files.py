"""The names of a built episode's files: what the build writes into episodes/<slug>/build/, what the
catalog records, and what the publisher copies to the site's episodes/<slug>/ under the same names."""

from __future__ import annotations

MANIFEST = "episode.json"
"""The catalog's record of a good build, written last (podcast.episode.catalog)."""
CHAPTERS = "chapters.json"
"""Podcasting 2.0 JSON chapters."""
TRANSCRIPT_VTT = "transcript.vtt"
TRANSCRIPT_SRT = "transcript.srt"
TRANSCRIPT_JSON = "transcript.json"
"""Podcasting 2.0 JSON transcript."""
NEWSLETTER_MD = "newsletter.md"
NEWSLETTER_HTML = "newsletter.html"
"""The newsletter as the episode page shows it; the site has it inside that page, not as a file."""

SIDECARS = (CHAPTERS, TRANSCRIPT_VTT, TRANSCRIPT_SRT, TRANSCRIPT_JSON, NEWSLETTER_MD)
"""Published beside the MP3, as they are."""


def audio_name(slug: str) -> str:
    """The episode's MP3, in build/ and on the site.

    >>> audio_name("2024-05-10-xlstm-deepseek-v2")
    '2024-05-10-xlstm-deepseek-v2.mp3'
    """
    return f"{slug}.mp3"


def brief_name(slug: str) -> str:
    """The episode's brief ([script] brief_minutes), beside its MP3 in build/ and on the site.

    >>> brief_name("2024-05-10-xlstm-deepseek-v2")
    '2024-05-10-xlstm-deepseek-v2-brief.mp3'
    """
    return f"{slug}-brief.mp3"
