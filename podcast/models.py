"""The frozen records that flow between pipeline stages.

Every stage is a function from some of these to another; files and the network stay at the edges
(config.py reads TOML, build.py writes build/). Times are seconds as floats unless a name says _ms.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from podcast.episode import files
from podcast.settings import SiteSettings


@dataclass(frozen=True)
class Paper:
    """One paper as the sources stage found it."""

    id: str
    """Stable key: the arXiv id ("2405.04517") or a slug of the title for non-arXiv papers."""
    title: str
    authors: tuple[str, ...] = ()
    url: str = ""
    abstract: str = ""
    """The abstract, or an abstract-length description; what the extractive summarizer reads."""
    published: date | None = None
    full_text: str = ""
    """Body text (from a PDF) when the source had one; empty otherwise."""


@dataclass(frozen=True)
class Summary:
    """A paper's summary as it will be read and printed (Markdown paragraphs)."""

    paper: Paper
    text: str


@dataclass(frozen=True)
class Line:
    """One utterance of the script: who says it, and what (as written, before speech normalization)."""

    speaker: str
    """A voice profile id from voices/ ("host", "cohost")."""
    text: str


@dataclass(frozen=True)
class Section:
    """A stretch of the script that becomes one chapter: the intro, one paper, or the outro."""

    kind: str
    """"intro", "paper" or "outro"."""
    title: str
    lines: tuple[Line, ...]
    url: str = ""
    """The paper's link (for the chapter's WXXX frame and chapters.json); empty for intro/outro."""


@dataclass(frozen=True)
class Script:
    sections: tuple[Section, ...]


@dataclass(frozen=True)
class VoiceProfile:
    """A speaker: which engine speaks, with which of its voices, under which display name."""

    id: str
    """The file stem in voices/ ("host" for voices/host.toml); what script lines name."""
    name: str
    """Display name in transcripts (`<v Host>`)."""
    engine: str
    voice: str
    speed: float = 1.0
    settings: tuple[tuple[str, Any], ...] = ()
    """The engine's own voice-profile keys (its Options) that differ from their defaults, as (key,
    value) pairs sorted by key. They change the audio, so they are part of the cache key."""


@dataclass(frozen=True)
class Chapter:
    title: str
    start: float
    end: float
    url: str = ""


@dataclass(frozen=True)
class Cue:
    """A timed piece of the transcript: one sentence or short phrase by one speaker."""

    start: float
    end: float
    speaker: str
    """The speaker's display name."""
    text: str


@dataclass(frozen=True)
class Category:
    name: str
    """An Apple Podcasts category, e.g. "Technology"."""
    sub: str = ""
    """An Apple subcategory of it, or empty."""


@dataclass(frozen=True)
class Show:
    """The show-level settings from podcast.toml that the feed, tags and site need."""

    title: str
    description: str
    author: str
    email: str
    language: str
    base_url: str
    """Absolute http(s) URL where the site is served, ending with '/'."""
    category: Category
    explicit: bool = False
    cover: Path | None = None
    """Square JPEG/PNG; None means one is generated from the title."""
    guid: str = ""
    """podcast:guid; empty means derived from the feed URL (Podcasting 2.0 rule)."""
    locked: bool = False
    copyright: str = ""
    site: SiteSettings = field(default_factory=SiteSettings)
    """[site]: the listening apps the show is listed in, the newsletter's signup page."""
    hosts: tuple[str, ...] = ()
    """Display names of the voices that host the show (synthetic: the feed says so)."""

    @property
    def feed_url(self) -> str:
        return self.base_url + "feed.xml"


@dataclass(frozen=True)
class Transcripts:
    """File names (inside the episode's folder) of the transcript formats written."""

    vtt: str = files.TRANSCRIPT_VTT
    srt: str = files.TRANSCRIPT_SRT
    json: str = files.TRANSCRIPT_JSON


@dataclass(frozen=True)
class Brief:
    """The episode's short cut ([script] brief_minutes): its MP3 beside the full one in build/."""

    audio: str
    """File name of the MP3 inside the build folder ("<slug>-brief.mp3")."""
    audio_bytes: int
    duration: float
    bitrate: int
    """The encoding's constant bitrate in bits per second."""


@dataclass(frozen=True)
class BuiltEpisode:
    """A finished episode as the catalog knows it: what feed, site and `check` are made from.

    Written to episodes/<slug>/build/episode.json at the end of a good build and read back from
    there, so the feed never depends on anything but built files.
    """

    slug: str
    title: str
    number: int
    published: datetime
    """Timezone-aware publication time."""
    guid: str
    description: str
    """Plain-text summary of the episode (one paragraph)."""
    notes_html: str
    """Show notes: the newsletter as HTML limited to p ol ul li a b i strong em br."""
    audio: str
    """File name of the MP3 inside the build folder ("<slug>.mp3")."""
    audio_bytes: int
    duration: float
    chapters: tuple[Chapter, ...]
    papers: tuple[Paper, ...] = ()
    transcripts: Transcripts = field(default_factory=Transcripts)
    chapters_json: str = files.CHAPTERS
    newsletter_md: str = files.NEWSLETTER_MD
    newsletter_html: str = files.NEWSLETTER_HTML
    brief: Brief | None = None
    """The brief, when the show builds one; a record without it (older builds too) has none."""
