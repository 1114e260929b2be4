"""Content-Type and Cache-Control of the site's files, shared by `podcast serve` and the S3 upload.

Podcast apps are strict about types: the feed must come as RSS, the episode as audio/mpeg, and
the transcripts with the types the feed's <podcast:transcript> tags announce. One table, so a
file served locally and the same file uploaded are described alike.
"""

from __future__ import annotations

from pathlib import PurePosixPath

CONTENT_TYPES = {
    ".mp3": "audio/mpeg",
    ".xml": "application/rss+xml",
    ".vtt": "text/vtt",
    ".srt": "application/x-subrip",
    ".json": "application/json",
    ".html": "text/html; charset=utf-8",
    ".md": "text/markdown; charset=utf-8",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}
"""By suffix; the site's XML files are its two RSS feeds (feed.xml, newsletter.xml)."""
DEFAULT_TYPE = "application/octet-stream"

SHORT_CACHE = "public, max-age=300"
"""Feeds and pages change with every episode: apps and browsers recheck them within minutes."""
LONG_CACHE = "public, max-age=86400"
"""Media and their sidecars change only when an episode is rebuilt. Their names carry no content
hash (a rebuilt episode keeps its URL), so a day, not a year, bounds how long a stale copy lives."""
SHORT_CACHED = frozenset({".xml", ".html"})


def content_type(name: str) -> str:
    """The Content-Type of a site file, by its suffix.

    >>> content_type("episodes/w19/w19.mp3"), content_type("feed.xml")
    ('audio/mpeg', 'application/rss+xml')
    >>> content_type("notes.unknown")
    'application/octet-stream'
    """
    return CONTENT_TYPES.get(PurePosixPath(name).suffix.lower(), DEFAULT_TYPE)


def cache_control(name: str) -> str:
    """The Cache-Control of a site file: short for feeds and pages, long for everything else.

    >>> cache_control("index.html") == SHORT_CACHE, cache_control("cover.jpg") == LONG_CACHE
    (True, True)
    """
    return SHORT_CACHE if PurePosixPath(name).suffix.lower() in SHORT_CACHED else LONG_CACHE
