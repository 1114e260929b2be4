"""The newsletter as plain text: the text/plain part of each message, for clients that show no HTML
(and for the spam filters that compare the two parts).

The same edition as the HTML part, in the conventions of plain-text mail: headings underlined, a
link's URL in parentheses after its text, list items with "-" or "1.", quotes with "> ", and
paragraphs wrapped at 72 characters (URLs are never broken).
"""

from __future__ import annotations

import textwrap
from html.parser import HTMLParser
from urllib.parse import urljoin

from podcast.mail.edition import Edition
from podcast.text import one_line

__all__ = ["render_text"]

COLUMNS = 72
_BLOCKS = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "pre", "blockquote", "hr", "ul", "ol"})


def render_text(ed: Edition, unsubscribe: str = "") -> str:
    """The edition as plain text; `unsubscribe` (a URL or mailto:) ends it with a line to leave the list."""
    from podcast.writing.newsletter import format_clock

    show, ep = ed.show, ed.episode
    when = f"{ep.published:%B} {ep.published.day}, {ep.published.year}"
    parts = [f"{one_line(show.title)} · Episode {ep.number} · {when}", _underline(ed.subject, "=")]
    parts.append(f"Listen: {ed.page_url}\n"
                 f"MP3 ({format_clock(ep.duration)}, {ep.audio_bytes / 1e6:.1f} MB): {ed.mp3_url}")
    papers = [_paper(n, p.title or p.id, p.url) for n, p in enumerate(ep.papers, start=1)]
    if papers:
        parts.append("In this issue:\n" + "\n".join(papers))
    parts.append(_body(ed))
    footer = [f"You are reading {one_line(show.title)}, a newsletter and podcast: {show.base_url}",
              f"Read it on the web: {ed.page_url}"]
    if unsubscribe:
        footer.append(f"Unsubscribe: {unsubscribe}")
    parts.append("-- \n" + "\n".join(footer))
    return "\n\n".join(p for p in parts if p) + "\n"


def _underline(text: str, mark: str) -> str:
    return f"{text}\n{mark * min(len(text), COLUMNS)}"


def _paper(n: int, title: str, url: str) -> str:
    line = f"{n}. {one_line(title)}"
    url = url.strip()
    return f"{line}\n   {url}" if url.lower().startswith(("https://", "http://")) else line


def _body(ed: Edition) -> str:
    reader = _TextWriter(ed.page_url)
    reader.feed(ed.body_html)
    reader.close()
    reader.flush()
    return "\n\n".join(reader.blocks)


class _TextWriter(HTMLParser):
    """Collects the blocks of allowlisted HTML as wrapped plain text."""

    def __init__(self, page_url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page_url = page_url
        self.blocks: list[str] = []
        self.words: list[str] = []
        self.lists: list[int] = []  # per open list: 0 for <ul>, else the next item's number
        self.quote = 0
        self.pre = 0
        self.heading = ""
        self.href: list[str] = []
        self.link_start: list[int] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag in _BLOCKS:
            self.flush()
        if tag == "ul":
            self.lists.append(0)
        elif tag == "ol":
            start = values.get("start", "1")
            self.lists.append(int(start) if start.isdigit() else 1)
        elif tag == "blockquote":
            self.quote += 1
        elif tag == "pre":
            self.pre += 1
        elif tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            self.heading = "=" if tag in ("h1", "h2") else "-"
        elif tag == "hr":
            self.blocks.append("* * *")
        elif tag == "br":
            self.words.append("\n")
        elif tag == "a":
            self.href.append(urljoin(self.page_url, values.get("href", "").strip()))
            self.link_start.append(len(self.words))
        elif tag == "img" and values.get("alt"):
            self.words.append(f"[{values['alt']}]")

    def handle_endtag(self, tag: str) -> None:
        if tag in _BLOCKS:
            self.flush()
        if tag in ("ul", "ol") and self.lists:
            self.lists.pop()
        elif tag == "blockquote":
            self.quote = max(0, self.quote - 1)
        elif tag == "pre":
            self.pre = max(0, self.pre - 1)
        elif tag == "a" and self.href:
            href, start = self.href.pop(), self.link_start.pop()
            text = "".join(self.words[start:]).strip()
            if href.lower().startswith(("https://", "http://", "mailto:")) and href != text:
                self.words.append(f" ({href})")

    def handle_data(self, data: str) -> None:
        self.words.append(data)

    def flush(self) -> None:
        """End the current block: wrap it, prefix it (list item, quote) and keep it."""
        raw = "".join(self.words)
        self.words = []
        if self.pre:
            text = raw.strip("\n")
        else:
            lines = [" ".join(line.split()) for line in raw.split("\n")]
            text = "\n".join(line for line in lines if line)
        if not text:
            return
        if self.heading:
            text, self.heading = _underline(one_line(text), self.heading), ""
        elif not self.pre:
            text = self._wrapped(text)
        if self.quote:
            text = "\n".join(("> " * self.quote + line).rstrip() for line in text.split("\n"))
        self.blocks.append(text)

    def _wrapped(self, text: str) -> str:
        first = rest = ""
        if self.lists:
            depth = "   " * (len(self.lists) - 1)
            number = self.lists[-1]
            bullet = f"{number}. " if number else "- "
            if number:
                self.lists[-1] += 1
            first, rest = depth + bullet, depth + " " * len(bullet)
        width = COLUMNS - 2 * self.quote
        lines = []
        for n, line in enumerate(text.split("\n")):
            lines += textwrap.wrap(line, width, initial_indent=first if n == 0 else rest,
                                   subsequent_indent=rest, break_long_words=False, break_on_hyphens=False)
        return "\n".join(lines)
