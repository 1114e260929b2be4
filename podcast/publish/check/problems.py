"""What every check reports into: a `Problem` per broken rule, and the site's URLs mapped to its files."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

from podcast.audio.master import SAMPLE_RATE
from podcast.audio.mp3 import SAMPLES_PER_FRAME
from podcast.publish.feed import FEED_PATH
from podcast.publish.feed_ext import NAMESPACES

NS = NAMESPACES
FIX_BUILD = "rebuild the episode and publish again"
FRAME_SECONDS = SAMPLES_PER_FRAME / SAMPLE_RATE
"""One MP3 frame: the finest an MP3 can be cut, so the slack allowed for 'ends at the audio's end'."""

Subject = Literal["feed", "audio", "id3", "chapters", "transcript", "loudness", "cover", "page", "markup"]
"""Which rules a problem breaks: the feed's elements and the URLs in them, the MP3's frames (format,
bitrate, clean decoding), its ID3 tag, any chapter list (ID3, chapters.json, psc:chapters), the
transcripts, loudness and true peak, the cover art, the site's pages, or the HTML in either feed
(markup that a reader would run)."""


@dataclass(frozen=True)
class Problem:
    """One broken rule: the site-relative file it is in, which rules, and what is wrong and how to fix it."""

    file: str
    subject: Subject
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.message}"


@dataclass
class Findings:
    """The problems found so far in the site at `root`, and how its feed's URLs map to its files."""

    root: Path
    base: str | None = None
    """The channel's <link> with a trailing slash, once the feed gave a usable one."""
    problems: list[Problem] = field(default_factory=list)

    def add(self, file: str, subject: Subject, message: str) -> None:
        self.problems.append(Problem(file, subject, message))

    def feed(self, message: str, subject: Subject = "feed") -> None:
        """A problem in feed.xml."""
        self.add(FEED_PATH, subject, message)

    def rel(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def file_of(self, url: str, what: str) -> Path | None:
        """The site file a feed URL names, or None after reporting why it has none."""
        if self.base is None:
            return None
        if not url.startswith(self.base):
            self.feed(f"{what} {url!r} is outside the site's base URL {self.base}; set base_url in "
                      "podcast.toml and publish again")
            return None
        path = self.path_of(url)
        if path is None:
            self.feed(f"{what} {url!r} leaves the site's folder")
            return None
        if not path.is_file():
            self.feed(f"{what} {url} names {self.rel(path)}, which is not in the site; publish again")
            return None
        return path

    def path_of(self, url: str) -> Path | None:
        """Where in the site a URL under the base URL points (a folder's URL: its index.html), whether
        or not the file exists; None for a URL outside the base URL or one that leaves the site."""
        if self.base is None or not url.startswith(self.base):
            return None
        rel = unquote(urlsplit(url[len(self.base) :]).path)
        if rel == "" or rel.endswith("/"):
            rel += "index.html"
        if ".." in rel.split("/") or rel.startswith("/"):
            return None
        return self.root / rel


def text(el: Any, path: str) -> str:
    """The stripped text of the element at `path` under `el`; empty when there is none."""
    found = el.find(path, NS)
    return (found.text or "").strip() if found is not None else ""


def load_json(path: Path) -> Any:
    """The JSON document in a file; None when it cannot be read or parsed."""
    try:
        return json.loads(path.read_bytes().decode("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
