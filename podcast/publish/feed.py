"""The RSS feed: RSS 2.0 + iTunes + Podcasting 2.0 + Podlove chapters, rebuilt from the built episodes.

`render_feed` is a pure function of the show and its catalog: no clock, no file reads beyond the
cover's first bytes, the same inputs give byte-identical XML. The site's URL layout lives here too
(`site_url`, `episode_path`, `episode_url`, `cover_name`), so the feed, the site and `podcast check`
agree on where every file is served. Fields that readers render as HTML hold escaped text or
HTML cleaned to the show notes' allowlist (podcast.publish.markup), never a record's raw text.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from feedgen.feed import FeedGenerator

from podcast.errors import ConfigError, InputError
from podcast.models import BuiltEpisode, Chapter, Show
from podcast.publish import feed_ext
from podcast.publish.markup import NOTES, safe_html, text_html

FEED_PATH = "feed.xml"
EPISODES_DIR = "episodes"
GENERATOR = "papercast"
AUDIO_TYPE = "audio/mpeg"
MAX_CHANNEL_DESCRIPTION_BYTES = 4000
MAX_TITLE_CHARS = 255
ELLIPSIS = "…"
EPISODE_IMAGE = "episode.jpg"
"""The episode's art, in its folder on the site (drawn from its title, like a generated show cover)."""
EMBED_PAGE = "embed.html"
"""The episode's embeddable player, in its folder on the site."""
MAX_PERSON_CHARS = 128
"""podcast:person's name, podcast:soundbite's title and podcast:txt's purpose: at most 128 characters."""
SOUNDBITE_SECONDS = 45.0
"""Each paper's soundbite: the first this many seconds of its chapter (Podcast Index suggests 15-120)."""
MIN_SOUNDBITE_SECONDS = 5.0
SYNTHETIC = "synthetic voice"
AI_CONTENT = ("ai-content", "true")
"""podcast:txt purpose and value that tell apps the episode's audio is generated: the voices are."""
BRIEF_TITLE = "Brief"
"""The title of the brief's podcast:alternateEnclosure, what apps name it beside the full episode."""

PODCAST_GUID_NAMESPACE = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")
"""Podcasting 2.0's namespace for podcast:guid (UUIDv5 of the feed URL)."""

TRANSCRIPT_TYPES = (("vtt", "text/vtt"), ("srt", "application/x-subrip"), ("json", "application/json"))
"""Transcripts field -> MIME type, in the order the feed lists them."""
_CAPTION_TYPES = {"text/vtt", "application/x-subrip"}

# Characters XML 1.0 forbids (most C0 controls, surrogates, U+FFFE/FFFF): lxml refuses them, and
# paper titles pulled out of PDFs do contain them.
_XML_INVALID = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


# --- The site's URL layout ---------------------------------------------------------------------


def site_url(show: Show, path: str) -> str:
    """The public URL of a site-relative path ("episodes/x/x.mp3"), percent-encoded to ASCII."""
    return show.base_url + quote(path, safe="/")


def episode_path(ep: BuiltEpisode | str, name: str = "") -> str:
    """Site-relative path of a file in an episode's folder; no name gives the episode page's folder.

    >>> episode_path("2024-w19", "2024-w19.mp3")
    'episodes/2024-w19/2024-w19.mp3'
    >>> episode_path("2024-w19")
    'episodes/2024-w19/'
    """
    slug = ep if isinstance(ep, str) else ep.slug
    return f"{EPISODES_DIR}/{slug}/{name}"


def episode_url(show: Show, ep: BuiltEpisode | str, name: str = "") -> str:
    """Public URL of a file of an episode (by episode or slug); no name gives the episode page."""
    return site_url(show, episode_path(ep, name))


def cover_name(show: Show) -> str:
    """The cover's file name on the site: cover.png for a PNG, else cover.jpg (a generated cover is JPEG).

    The type comes from the file's first bytes when it can be read (a PNG named .jpg happens),
    else from its suffix.
    """
    if show.cover is None:
        return "cover.jpg"
    kind = _image_kind(show.cover)
    if kind is None:
        raise ConfigError(f"cover art {show.cover} must be a JPEG or PNG image; convert it to JPEG or PNG")
    return f"cover.{kind}"


def cover_url(show: Show) -> str:
    return site_url(show, cover_name(show))


def _image_kind(path: Path) -> str | None:
    try:
        with open(path, "rb") as f:
            head = f.read(8)
    except OSError:
        head = b""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if head:
        return None
    return {".png": "png", ".jpg": "jpg", ".jpeg": "jpg"}.get(path.suffix.lower())


def podcast_guid(feed_url: str) -> str:
    """podcast:guid: UUIDv5 of the feed URL without its scheme and trailing slashes.

    >>> podcast_guid("https://podnews.net/rss")
    '9b024349-ccf0-5f69-a609-6b82873eab3c'
    >>> podcast_guid("http://podnews.net/rss/")
    '9b024349-ccf0-5f69-a609-6b82873eab3c'
    """
    bare = re.sub(r"^[A-Za-z][A-Za-z0-9+.-]*://", "", feed_url.strip()).rstrip("/")
    return str(uuid.uuid5(PODCAST_GUID_NAMESPACE, bare))


# --- Text that fits the feed's limits ----------------------------------------------------------


def xml_text(text: str) -> str:
    r"""Drop the characters XML 1.0 cannot carry.

    >>> xml_text("a\x0bb\x00c\u2028")
    'abc\u2028'
    """
    return _XML_INVALID.sub("", text)


def clip_title(title: str, limit: int = MAX_TITLE_CHARS) -> str:
    """One line, trimmed, at most `limit` characters (cut at a word, with an ellipsis).

    >>> clip_title("  Attention   is\\nall you need ")
    'Attention is all you need'
    >>> clip_title("one two three", 10)
    'one two…'
    """
    title = " ".join(xml_text(title).split())
    if len(title) <= limit:
        return title
    return _cut_at_word(title[: limit - len(ELLIPSIS)]) + ELLIPSIS


def _cut_at_word(text: str) -> str:
    # Only back up to a space when it costs less than half the text (one very long word otherwise).
    space = text.rfind(" ")
    return (text[:space] if space > len(text) // 2 else text).rstrip()


def _nbytes(text: str) -> int:
    return len(text.encode("utf-8"))


def _byte_prefix(text: str, max_bytes: int) -> str:
    """The longest prefix of `text` within `max_bytes` of UTF-8, never splitting a character."""
    return text.encode("utf-8")[: max(0, max_bytes)].decode("utf-8", "ignore")


_HTML_TOKEN = re.compile(r"<[^>]*>|&(?:#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);|[^<&]+|[<&]")
_HTML_TAG = re.compile(r"<\s*(/?)\s*([A-Za-z][A-Za-z0-9-]*)[^>]*?(/?)\s*>$")
_VOID_TAGS = {"br", "hr", "img", "wbr", "input", "meta", "link", "source"}


def truncate_html(html: str, max_bytes: int) -> str:
    """Shorten HTML to at most `max_bytes` of UTF-8 without cutting a character, tag or entity.

    Tags left open are closed, and an ellipsis marks the cut.

    >>> truncate_html("<p>Short &amp; sweet</p>", 100)
    '<p>Short &amp; sweet</p>'
    >>> truncate_html("<p>Weekly <b>papers about</b> transformers</p>", 30)
    '<p>Weekly <b>papers…</b></p>'
    """
    if _nbytes(html) <= max_bytes:
        return html
    budget = max_bytes - _nbytes(ELLIPSIS)
    out: list[str] = []
    open_tags: list[str] = []
    used = 0
    for token in _HTML_TOKEN.findall(html):
        tag = _HTML_TAG.match(token) if token.startswith("<") else None
        after = _tags_after(open_tags, tag) if tag else open_tags
        if used + _nbytes(token) + _closers_bytes(after) <= budget:
            out.append(token)
            used += _nbytes(token)
            open_tags = after
            continue
        if tag is None and not token.startswith("&"):
            room = budget - used - _closers_bytes(open_tags)
            out.append(_cut_at_word(_byte_prefix(token, room)))
        break
    return "".join(out).rstrip() + ELLIPSIS + _closers(open_tags)


def _tags_after(open_tags: list[str], tag: re.Match[str]) -> list[str]:
    closing, name, self_closing = tag.group(1), tag.group(2).lower(), tag.group(3)
    if closing:
        if name not in open_tags:
            return open_tags
        i = len(open_tags) - 1 - open_tags[::-1].index(name)
        return open_tags[:i]
    if self_closing or name in _VOID_TAGS:
        return open_tags
    return [*open_tags, name]


def _closers(open_tags: list[str]) -> str:
    return "".join(f"</{name}>" for name in reversed(open_tags))


def _closers_bytes(open_tags: list[str]) -> int:
    return _nbytes(_closers(open_tags))


# --- The feed -----------------------------------------------------------------------------------


def render_feed(show: Show, episodes: Sequence[BuiltEpisode]) -> bytes:
    """The podcast's RSS feed as UTF-8 XML: newest episode first, byte-identical for the same inputs.

    Raises ConfigError for show settings the feed cannot carry and InputError for an episode
    record that is incomplete (rebuilding the episode fixes it).
    """
    _check_show(show)
    _check_episodes(episodes)
    newest_first = sorted(episodes, key=lambda e: (e.published, e.number, e.slug), reverse=True)
    fg = FeedGenerator()
    fg.load_extension("podcast")  # feedgen's iTunes tags; must come before ours
    ext = feed_ext.register(fg)
    _channel(fg, ext, show)
    ext.last_build_date = newest_first[0].published if newest_first else None
    for ep in newest_first:
        _item(fg, show, ep)
    xml: bytes = fg.rss_str(pretty=True, encoding="UTF-8", xml_declaration=True)
    return xml


def _check_show(show: Show) -> None:
    if not re.match(r"https?://[^/]+", show.base_url) or not show.base_url.endswith("/"):
        raise ConfigError(f"base_url {show.base_url!r} must be an http(s) URL ending with '/'")
    if not xml_text(show.title).strip():
        raise ConfigError("the show has no title; set title in podcast.toml")
    if not show.email.strip():
        raise ConfigError("the show has no owner email; set it in podcast.toml (Apple Podcasts requires one)")


def _check_episodes(episodes: Sequence[BuiltEpisode]) -> None:
    seen: dict[str, str] = {}
    for ep in episodes:
        problem = _episode_problem(ep)
        if problem:
            raise InputError(f"episode {ep.slug}: {problem}; rebuild it with `podcast build`")
        if ep.guid in seen:
            raise InputError(
                f"episodes {seen[ep.guid]} and {ep.slug} share the guid {ep.guid!r}; give one a new guid"
            )
        seen[ep.guid] = ep.slug


def _episode_problem(ep: BuiltEpisode) -> str:
    if not ep.guid.strip():
        return "it has no guid"
    if not clip_title(ep.title):
        return "it has no title"
    if ep.number < 1:
        return f"episode number {ep.number} must be 1 or more"
    if ep.published.tzinfo is None or ep.published.utcoffset() is None:
        return "its publication time has no time zone"
    if ep.audio_bytes <= 0 or not ep.audio:
        return "its audio file is missing or empty"
    return ""


def _channel(fg: Any, ext: feed_ext.PodcastIndexExtension, show: Show) -> None:
    fg.title(xml_text(show.title).strip())
    fg.description(truncate_html(channel_description(show), MAX_CHANNEL_DESCRIPTION_BYTES))
    # feedgen's RSS <link> is the last link added, so the self link goes first.
    fg.link(href=show.feed_url, rel="self", type="application/rss+xml")
    fg.link(href=show.base_url, rel="alternate")
    fg.language(show.language)
    if show.copyright:
        fg.copyright(xml_text(show.copyright))
    fg.generator(GENERATOR)
    fg.image(url=cover_url(show), title=xml_text(show.title).strip(), link=show.base_url)

    itunes = fg.podcast
    itunes.itunes_author(xml_text(show.author))
    itunes.itunes_owner(name=xml_text(show.author) or xml_text(show.title), email=show.email)
    itunes.itunes_image(cover_url(show))  # feedgen keeps it only when it ends .jpg/.png: ours do
    category = {"cat": show.category.name} | ({"sub": show.category.sub} if show.category.sub else {})
    itunes.itunes_category(category)
    itunes.itunes_type("episodic")

    ext.explicit = show.explicit
    ext.guid = show.guid or podcast_guid(show.feed_url)
    ext.locked = show.locked
    ext.owner_email = show.email
    ext.medium = "podcast"
    ext.persons = tuple(feed_ext.Person(host_name(name)) for name in show.hosts)
    ext.txt = (AI_CONTENT,)


def host_name(name: str) -> str:
    """A host's podcast:person name, which says the voice is synthetic, within 128 characters.

    >>> host_name("Ava")
    'Ava (synthetic voice)'
    """
    return f"{clip_title(name, MAX_PERSON_CHARS - len(SYNTHETIC) - 3)} ({SYNTHETIC})"


def channel_description(show: Show) -> str:
    """The show's description (HTML, per podcast.toml) cleaned to the notes' allowlist; else its title."""
    return safe_html(xml_text(show.description).strip(), NOTES) or text_html(xml_text(show.title))


def _item(fg: Any, show: Show, ep: BuiltEpisode) -> None:
    fe = fg.add_entry(order="append")
    fe.guid(ep.guid, permalink=False)
    fe.title(clip_title(ep.title))
    fe.link(href=episode_url(show, ep))
    fe.description(text_html(xml_text(ep.description)))
    fe.content(safe_html(xml_text(ep.notes_html).strip(), NOTES))
    fe.enclosure(episode_url(show, ep, ep.audio), str(ep.audio_bytes), AUDIO_TYPE)
    fe.pubDate(ep.published)

    itunes = fe.podcast
    itunes.itunes_duration(str(round(ep.duration)))
    itunes.itunes_episode(ep.number)
    itunes.itunes_episode_type("full")
    itunes.itunes_image(episode_url(show, ep, EPISODE_IMAGE))

    ext = feed_ext.entry_extension(fe)
    ext.explicit = show.explicit
    if ep.chapters_json:
        ext.chapters_url = episode_url(show, ep, ep.chapters_json)
    ext.transcripts = _transcripts(show, ep)
    ext.soundbites = soundbites(ep)
    ext.txt = (AI_CONTENT,)
    if ep.brief is not None:
        url = episode_url(show, ep, ep.brief.audio)
        ext.alternates = (feed_ext.AlternateEnclosure(url, AUDIO_TYPE, ep.brief.audio_bytes, ep.brief.bitrate,
                                                      BRIEF_TITLE),)
    ext.psc_chapters = tuple(
        Chapter(title=xml_text(c.title), start=c.start, end=c.end, url=c.url) for c in ep.chapters
    )


def soundbites(ep: BuiltEpisode) -> tuple[feed_ext.Soundbite, ...]:
    """A soundbite per paper: the start of its chapter (a chapter with a link, or a paper's title)."""
    papers = {p.title for p in ep.papers}
    bites = []
    for c in ep.chapters:
        length = min(c.end, ep.duration) - c.start
        if (c.url or c.title in papers) and length >= MIN_SOUNDBITE_SECONDS:
            title = clip_title(c.title, MAX_PERSON_CHARS)
            bites.append(feed_ext.Soundbite(c.start, min(SOUNDBITE_SECONDS, length), title))
    return tuple(bites)


def _transcripts(show: Show, ep: BuiltEpisode) -> tuple[feed_ext.Transcript, ...]:
    links = []
    for field_name, mime in TRANSCRIPT_TYPES:
        name = getattr(ep.transcripts, field_name)
        if name:
            rel = "captions" if mime in _CAPTION_TYPES else ""
            links.append(feed_ext.Transcript(episode_url(show, ep, name), mime, show.language, rel))
    return tuple(links)
