"""A feedgen extension for Podcasting 2.0 (`podcast:`) and Podlove Simple Chapters (`psc:`) tags.

feedgen 1.0 knows neither namespace, and its iTunes extension gets three podcast details wrong
(STANDARDS.md, "Library pitfalls"): it only writes itunes:explicit as yes/no/clean, stamps
lastBuildDate with the clock, and writes HTML descriptions as escaped text. This extension owns
those tags too, so feed.py never edits feedgen's XML after the fact.

Register it with `register(fg)` *after* feedgen's own "podcast" extension: extensions run in
registration order, and ours finishes what feedgen's elements started.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.util import formatRFC2822
from lxml import etree

from podcast.models import Chapter

PODCAST_NS = "https://podcastindex.org/namespace/1.0"
PSC_NS = "http://podlove.org/simple-chapters"
ITUNES_NS = "http://www.itunes.com/dtds/podcast-1.0.dtd"
CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"
ATOM_NS = "http://www.w3.org/2005/Atom"

NAMESPACES = {
    "itunes": ITUNES_NS,
    "podcast": PODCAST_NS,
    "content": CONTENT_NS,
    "atom": ATOM_NS,
    "psc": PSC_NS,
}
"""Prefix -> URI for every namespace the feed uses (handy for XPath over the output too)."""

EXTENSION_NAME = "podcast_index"
"""The attribute name feedgen gives the extension on FeedGenerator and FeedEntry objects."""

PSC_VERSION = "1.2"
CHAPTERS_JSON_TYPE = "application/json+chapters"


@dataclass(frozen=True)
class Transcript:
    """One podcast:transcript link: the file's URL, its MIME type and spoken language."""

    url: str
    type: str
    language: str = ""
    rel: str = ""
    """"captions" marks a timed captions file (VTT, SRT); empty for a plain transcript."""


@dataclass(frozen=True)
class Person:
    """One podcast:person: a name (at most 128 characters) and a role of the Podcast Taxonomy."""

    name: str
    role: str = "host"
    group: str = "cast"


@dataclass(frozen=True)
class Soundbite:
    """One podcast:soundbite: a stretch of the episode apps may play as a preview, with a title."""

    start: float
    duration: float
    title: str = ""


@dataclass(frozen=True)
class AlternateEnclosure:
    """One podcast:alternateEnclosure: another file of the item (here, its brief) apps may offer."""

    url: str
    type: str
    length: int
    bitrate: int
    """Bits per second."""
    title: str = ""
    """At most 32 characters, as the namespace advises."""


def seconds_attr(seconds: float) -> str:
    """A time in seconds as soundbite attributes carry it: a decimal, at most 3 places.

    >>> seconds_attr(34.115918), seconds_attr(45.0)
    ('34.116', '45')
    """
    return f"{seconds:.3f}".rstrip("0").rstrip(".")


def npt(seconds: float) -> str:
    """Normal Play Time as psc:chapter wants it: HH:MM:SS.mmm, rounded to the millisecond.

    >>> npt(95.5)
    '00:01:35.500'
    >>> npt(3723.0004)
    '01:02:03.000'
    >>> npt(-0.2)
    '00:00:00.000'
    """
    ms = max(0, round(seconds * 1000))
    hours, ms = divmod(ms, 3_600_000)
    minutes, ms = divmod(ms, 60_000)
    secs, ms = divmod(ms, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{ms:03d}"


def _sub(parent: Any, ns: str, tag: str, text: str | None = None, **attrs: str) -> Any:
    elem = etree.SubElement(parent, f"{{{ns}}}{tag}", attrs)
    if text is not None:
        elem.text = text
    return elem


def _wrap_cdata(elem: Any) -> None:
    """Put an element's text in a CDATA section, so HTML inside stays readable as HTML.

    Text containing "]]>" cannot live in one CDATA section; it stays escaped text, which every XML
    parser reads back to the very same string.
    """
    if elem is not None and elem.text and "]]>" not in elem.text:
        elem.text = etree.CDATA(elem.text)


def _explicit(parent: Any, explicit: bool | None) -> None:
    # Apple's current spec says true/false; feedgen only allows the older yes/no/clean.
    if explicit is not None:
        _sub(parent, ITUNES_NS, "explicit", "true" if explicit else "false")


class PodcastIndexExtension(BaseExtension):
    """Channel-level tags. Set the attributes, then let feedgen render."""

    def __init__(self) -> None:
        self.guid = ""
        """podcast:guid; empty writes none."""
        self.locked: bool | None = None
        """podcast:locked yes/no; None writes none."""
        self.owner_email = ""
        """The owner="" of podcast:locked: who may move the feed to another host."""
        self.medium = "podcast"
        self.explicit: bool | None = None
        """itunes:explicit as true/false; None writes none."""
        self.last_build_date: datetime | None = None
        """Replaces feedgen's clock-based lastBuildDate; None removes it (an empty catalog)."""
        self.persons: tuple[Person, ...] = ()
        self.txt: tuple[tuple[str, str], ...] = ()
        """podcast:txt elements as (purpose, text); an empty purpose writes none."""

    def extend_ns(self) -> dict[str, str]:
        return dict(NAMESPACES)

    def extend_rss(self, feed: Any) -> Any:
        channel = feed[0]
        _wrap_cdata(channel.find("description"))
        self._set_last_build_date(channel)
        _explicit(channel, self.explicit)
        if self.guid:
            _sub(channel, PODCAST_NS, "guid", self.guid)
        if self.locked is not None:
            locked = _sub(channel, PODCAST_NS, "locked", "yes" if self.locked else "no")
            if self.owner_email:
                locked.set("owner", self.owner_email)
        if self.medium:
            _sub(channel, PODCAST_NS, "medium", self.medium)
        _persons_and_txt(channel, self.persons, self.txt)
        return feed

    def _set_last_build_date(self, channel: Any) -> None:
        # Edited in place so the element keeps feedgen's position in the channel.
        elem = channel.find("lastBuildDate")
        if elem is None:
            if self.last_build_date is not None:
                etree.SubElement(channel, "lastBuildDate").text = formatRFC2822(self.last_build_date)
        elif self.last_build_date is None:
            channel.remove(elem)
        else:
            elem.text = formatRFC2822(self.last_build_date)


class PodcastIndexEntryExtension(BaseEntryExtension):
    """Item-level tags: chapters and transcripts (podcast:), Podlove chapters (psc:), explicit."""

    def __init__(self) -> None:
        self.explicit: bool | None = None
        self.chapters_url = ""
        """podcast:chapters link to the chapters JSON; empty writes none."""
        self.transcripts: tuple[Transcript, ...] = ()
        self.psc_chapters: tuple[Chapter, ...] = ()
        """Written as psc:chapters (what gPodder reads); each chapter's url becomes href."""
        self.soundbites: tuple[Soundbite, ...] = ()
        self.txt: tuple[tuple[str, str], ...] = ()
        self.alternates: tuple[AlternateEnclosure, ...] = ()

    def extend_ns(self) -> dict[str, str]:
        return dict(NAMESPACES)

    def extend_rss(self, item: Any) -> Any:
        _wrap_cdata(item.find("description"))
        _wrap_cdata(item.find(f"{{{CONTENT_NS}}}encoded"))
        _explicit(item, self.explicit)
        if self.chapters_url:
            _sub(item, PODCAST_NS, "chapters", url=self.chapters_url, type=CHAPTERS_JSON_TYPE)
        for t in self.transcripts:
            attrs = {"url": t.url, "type": t.type}
            attrs |= {"language": t.language} if t.language else {}
            attrs |= {"rel": t.rel} if t.rel else {}
            _sub(item, PODCAST_NS, "transcript", **attrs)
        for bite in self.soundbites:
            start, duration = seconds_attr(bite.start), seconds_attr(bite.duration)
            _sub(item, PODCAST_NS, "soundbite", bite.title or None, startTime=start, duration=duration)
        for alt in self.alternates:
            attrs = {"type": alt.type, "length": str(alt.length), "bitrate": str(alt.bitrate)}
            attrs |= {"title": alt.title} if alt.title else {}
            _sub(_sub(item, PODCAST_NS, "alternateEnclosure", **attrs), PODCAST_NS, "source", uri=alt.url)
        _persons_and_txt(item, (), self.txt)
        self._psc(item)
        return item

    def _psc(self, item: Any) -> None:
        if not self.psc_chapters:
            return
        chapters = _sub(item, PSC_NS, "chapters", version=PSC_VERSION)
        for ch in self.psc_chapters:
            attrs = {"start": npt(ch.start), "title": ch.title}
            attrs |= {"href": ch.url} if ch.url else {}
            _sub(chapters, PSC_NS, "chapter", **attrs)


def _persons_and_txt(parent: Any, persons: tuple[Person, ...], txt: tuple[tuple[str, str], ...]) -> None:
    for person in persons:
        _sub(parent, PODCAST_NS, "person", person.name, role=person.role, group=person.group)
    for purpose, value in txt:
        _sub(parent, PODCAST_NS, "txt", value, **({"purpose": purpose} if purpose else {}))


def register(fg: Any) -> PodcastIndexExtension:
    """Load the extension into a FeedGenerator (after feedgen's "podcast"); return its channel part."""
    fg.register_extension(EXTENSION_NAME, PodcastIndexExtension, PodcastIndexEntryExtension)
    ext: PodcastIndexExtension = getattr(fg, EXTENSION_NAME)
    return ext


def entry_extension(entry: Any) -> PodcastIndexEntryExtension:
    """The item part of the extension on a FeedEntry made by `fg.add_entry()` after `register(fg)`."""
    ext: PodcastIndexEntryExtension = getattr(entry, EXTENSION_NAME)
    return ext
