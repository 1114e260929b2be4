"""The feed's <item> elements: one per episode, each with its own rules and a guid of its own."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from podcast.publish.check.feed import check_date, choice
from podcast.publish.check.problems import FIX_BUILD, Findings, text
from podcast.publish.feed import AUDIO_TYPE, MAX_TITLE_CHARS
from podcast.publish.markup import ACTIVE_TAGS
from podcast.writing.newsletter import NOTES_TAGS

DURATION_SLACK = 1.0
"""How far itunes:duration may be from the real length, in seconds."""
_HTML_TAG = re.compile(r"<\s*/?\s*([A-Za-z][A-Za-z0-9-]*)")


@dataclass(frozen=True)
class Item:
    """One feed item as the checks refer to it."""

    number: int
    title: str

    @property
    def label(self) -> str:
        short = self.title if len(self.title) <= 50 else self.title[:49] + "…"
        return f"item {self.number} ({short!r})" if short else f"item {self.number}"


@dataclass
class ItemRules:
    """The rules of the items of one feed, checked in feed order."""

    found: Findings
    now: datetime
    """What 'a pubDate in the future' is measured against."""
    guids: dict[str, int] = field(default_factory=dict)
    """Each guid seen so far, with the number of the first item that has it."""

    def head(self, item: Any, it: Item) -> Path | None:
        """Title, show notes, guid, date, link and enclosure; the MP3 the enclosure names, if any."""
        self._item_text(item, it)
        self._guid(item, it)
        check_date(self.found, text(item, "pubDate"), f"{it.label} <pubDate>", self.now)
        link = text(item, "link")
        if link:
            self.found.file_of(link, f"{it.label} <link>")
        return self._enclosure(item, it.label)

    def tail(self, item: Any, where: str, seconds: float | None) -> None:
        """The duration against the audio's real length in `seconds` (None if unknown), and numbering."""
        self._duration(item, where, seconds)
        number = text(item, "itunes:episode")
        if not (number.isdigit() and int(number) >= 1):
            self.found.feed(f"{where} <itunes:episode> is {number!r}; it must be a whole number from 1")
        choice(self.found, item, "itunes:episodeType", ("full",), where)
        choice(self.found, item, "itunes:explicit", ("true", "false"), where, optional=True)

    def _item_text(self, item: Any, it: Item) -> None:
        where = it.label
        raw = item.findtext("title") or ""
        if not it.title:
            self.found.feed(f"{where} has no <title>")
        elif len(raw) > MAX_TITLE_CHARS:
            self.found.feed(f"{where} <title> is {len(raw)} characters; Apple allows {MAX_TITLE_CHARS}")
        elif raw != raw.strip() or "\n" in raw:
            self.found.feed(f"{where} <title> has leading, trailing or line-breaking white space; trim it")
        for tag in ("description", "content:encoded"):
            html = text(item, tag)
            if not html:
                self.found.feed(f"{where} has no <{tag}> show notes")
                continue
            # Tags that run something are markup.py's problems, reported once there.
            bad = sorted({t.lower() for t in _HTML_TAG.findall(html)} - NOTES_TAGS - ACTIVE_TAGS)
            if bad:
                self.found.feed(f"{where} <{tag}> uses {', '.join(f'<{t}>' for t in bad)}; show notes may "
                                f"only use {' '.join(sorted(NOTES_TAGS))}")

    def _guid(self, item: Any, it: Item) -> None:
        el = item.find("guid")
        guid = (el.text or "").strip() if el is not None else ""
        if not guid:
            self.found.feed(f"{it.label} has no <guid>; gPodder drops such episodes")
            return
        if guid in self.guids:
            self.found.feed(f"{it.label} has the guid {guid!r} of item {self.guids[guid]}; every episode "
                            "needs its own, kept forever")
        self.guids.setdefault(guid, it.number)
        if el.get("isPermaLink", "true") != "false" and not re.match(r"https?://", guid):
            self.found.feed(f"{it.label} <guid> {guid!r} is not a URL, so it needs isPermaLink=\"false\"")

    def _enclosure(self, item: Any, where: str) -> Path | None:
        enclosures = item.findall("enclosure")
        if len(enclosures) != 1:
            self.found.feed(f"{where} has {len(enclosures)} <enclosure> elements; it needs exactly one")
            if not enclosures:
                return None
        el = enclosures[0]
        url, length, kind = el.get("url", ""), el.get("length", ""), el.get("type", "")
        if kind != AUDIO_TYPE:
            self.found.feed(f"{where} <enclosure type={kind!r}>; it must be {AUDIO_TYPE!r}")
        if not url.isascii() or " " in url:
            self.found.feed(f"{where} <enclosure url={url!r}> must be ASCII with no spaces "
                            "(percent-encode it)")
        path = self.found.file_of(url, f"{where} <enclosure>")
        if path is None:
            return None
        size = path.stat().st_size
        if length != str(size):
            self.found.feed(f"{where} <enclosure length={length!r}> but {self.found.rel(path)} is {size} "
                            "bytes; publish again")
        return path

    def _duration(self, item: Any, where: str, seconds: float | None) -> None:
        duration = text(item, "itunes:duration")
        if not duration.isdigit():
            self.found.feed(f"{where} <itunes:duration> {duration!r} must be the length in whole seconds")
        elif seconds is not None and abs(int(duration) - seconds) > DURATION_SLACK:
            self.found.feed(f"{where} <itunes:duration> is {duration} s, but the audio is {seconds:.1f} s "
                            f"long; {FIX_BUILD}")
