"""`podcast check`: hold a published site to every rule of STANDARDS.md that its files can show.

The feed is read with lxml, and every URL in it is mapped to a file of the site by stripping the
channel's <link> (the show's base_url): a URL outside it is a problem, because podcast apps would
fetch it from somewhere `podcast publish` never wrote. The audio is measured from its MPEG frame
headers, not decoded, so checking a long episode takes a fraction of a second; `loudness=True`
adds one ffmpeg decode per episode for the loudness, true peak and clean-decoding rules.

Nothing here raises for a bad site: each broken rule is one `Problem` naming the file, what is
wrong and what fixes it. Only a site folder that does not exist, or an ffmpeg that cannot run,
raises a PodcastError.
"""

from __future__ import annotations

import itertools
import json
import math
import re
import subprocess
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from lxml import etree
from mutagen import MutagenError
from mutagen.id3 import ID3, CTOCFlags, ID3NoHeaderError

from podcast.audio.encode import SAMPLES_PER_FRAME, ffmpeg_exe
from podcast.audio.master import SAMPLE_RATE
from podcast.episode import transcript
from podcast.episode.cover import check_cover
from podcast.episode.tag import read_chapters
from podcast.errors import AudioError, ConfigError, InputError, PublishError
from podcast.models import Chapter, Cue
from podcast.publish.categories import APPLE_CATEGORIES
from podcast.publish.feed import (
    AUDIO_TYPE,
    FEED_PATH,
    MAX_CHANNEL_DESCRIPTION_BYTES,
    MAX_TITLE_CHARS,
    xml_text,
)
from podcast.publish.feed_ext import CHAPTERS_JSON_TYPE, NAMESPACES, PSC_VERSION

NS = NAMESPACES
BITRATES_KBPS = (96, 128)
"""Constant bitrate range Apple accepts for spoken audio (inclusive)."""
DURATION_SLACK = 1.0
"""How far itunes:duration may be from the real length, in seconds."""
FRAME_SECONDS = SAMPLES_PER_FRAME / SAMPLE_RATE
"""One MP3 frame: the finest an MP3 can be cut, so the slack allowed for 'ends at the audio's end'."""
CHAPTER_MATCH_SLACK = 0.01
"""psc:chapters and chapters.json are written to the millisecond; the ID3 frames may move a start by 1 ms."""
TARGET_LUFS = -16.0
LOUDNESS_SLACK = 1.0
MAX_TRUE_PEAK = -1.0
NOTES_TAGS = frozenset({"p", "ol", "ul", "li", "a", "b", "i", "strong", "em", "br"})
REQUIRED_TRANSCRIPTS = ("text/vtt", "application/x-subrip")
TRANSCRIPT_TYPES = frozenset({*REQUIRED_TRANSCRIPTS, "application/json", "text/html", "text/plain"})
CHAPTERS_VERSION = transcript.CHAPTERS_JSON_VERSION
TRANSCRIPT_JSON_VERSION = transcript.TRANSCRIPT_JSON_VERSION

_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_RFC2822 = re.compile(
    r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{1,2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} "
    r"\d{2}:\d{2}(:\d{2})? ([+-]\d{4}|GMT|UT|[ECMP][SD]T)"
)
_LANGUAGE = re.compile(r"[a-zA-Z]{2,3}(-[A-Za-z0-9]{2,8})*")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_NPT = re.compile(r"(?:(\d+):)?(?:(\d{1,2}):)?(\d{1,2})(?:\.(\d{1,3}))?")
_HTML_TAG = re.compile(r"<\s*/?\s*([A-Za-z][A-Za-z0-9-]*)")
_BITRATES = (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)
_RATES = (44100, 48000, 32000, 0)
_FIX_BUILD = "rebuild the episode and publish again"


@dataclass(frozen=True)
class Problem:
    """One broken rule: the site-relative file it is in, and what is wrong and how to fix it."""

    file: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.message}"


@dataclass(frozen=True)
class SiteReport:
    episodes: int
    """Items in the feed."""
    problems: tuple[Problem, ...]


class CheckFailed(PublishError):
    """`podcast check` found problems (they were printed before this is raised)."""


@dataclass(frozen=True)
class Mp3Stream:
    """What the MPEG frame headers of an MP3 say, read without decoding it."""

    frames: int
    """Audio frames (a Xing/Info header frame is not counted: decoders skip it)."""
    bitrates: frozenset[int]
    """kbps of every frame: one value for constant bitrate."""
    sample_rates: frozenset[int]
    channel_modes: frozenset[int]
    """MPEG channel mode per frame: 3 is mono."""
    error: str = ""
    """Where and why the frame stream broke off; empty for a clean stream."""

    @property
    def seconds(self) -> float:
        """The decoded length: each MPEG-1 Layer III frame holds 1152 samples."""
        rate = min(self.sample_rates) if self.sample_rates else SAMPLE_RATE
        return self.frames * SAMPLES_PER_FRAME / rate


@dataclass(frozen=True)
class Loudness:
    integrated: float
    """LUFS as heard: a mono file measured as dual mono."""
    true_peak: float
    """dBTP."""
    decode_errors: tuple[str, ...]


# --- entry points -------------------------------------------------------------------------------------


def check_site(
    site: Path,
    *,
    now: datetime | None = None,
    loudness: bool = False,
    target_lufs: float = TARGET_LUFS,
    max_true_peak: float = MAX_TRUE_PEAK,
) -> list[Problem]:
    """Every problem of the published site in `site`; an empty list means it passes.

    `now` (default: the clock) is what "a pubDate in the future" is measured against. With
    `loudness`, each MP3 is decoded with ffmpeg to check its integrated loudness is `target_lufs`
    +-1 LU, its true peak at most `max_true_peak`, and that it decodes without errors.
    """
    report = inspect_site(site, now=now, loudness=loudness, target_lufs=target_lufs,
                          max_true_peak=max_true_peak)
    return list(report.problems)


def inspect_site(
    site: Path,
    *,
    now: datetime | None = None,
    loudness: bool = False,
    target_lufs: float = TARGET_LUFS,
    max_true_peak: float = MAX_TRUE_PEAK,
) -> SiteReport:
    """Like check_site, with the number of episodes the feed lists (for a summary line)."""
    site = Path(site)
    if not site.is_dir():
        raise PublishError(f"{site}: no such folder; run 'podcast publish' first, or give the site's folder")
    clock = now or datetime.now(UTC)
    if clock.tzinfo is None:
        clock = clock.replace(tzinfo=UTC)
    checker = _Checker(site, clock, _LoudnessRule(target_lufs, max_true_peak) if loudness else None)
    episodes = checker.run()
    return SiteReport(episodes, tuple(checker.problems))


# --- MP3 frames and loudness (usable on their own) -------------------------------------------------


def id3v2_size(data: bytes) -> int:
    """Bytes taken by an ID3v2 tag at the start of `data` (header, body and footer); 0 when none.

    >>> id3v2_size(b"ID3\\x03\\x00\\x00\\x00\\x00\\x01\\x7f" + bytes(255))
    265
    >>> id3v2_size(b"\\xff\\xfb\\x90\\xc4")
    0
    """
    if len(data) < 10 or not data.startswith(b"ID3"):
        return 0
    size = 0
    for b in data[6:10]:  # "syncsafe": 7 bits per byte, so no byte looks like an MPEG sync
        size = (size << 7) | (b & 0x7F)
    footer = 10 if data[5] & 0x10 else 0
    return 10 + size + footer


def scan_mp3(data: bytes) -> Mp3Stream:
    """Walk the MPEG-1 Layer III frames of an MP3 file's bytes, after its ID3v2 tag.

    Frame lengths come from each header, so this reads 4 bytes per frame: an hour of audio in
    well under a second. A trailing ID3v1 tag is allowed; any other byte that is not a frame is
    reported in `error`, with the frames up to it counted.
    """
    pos, end = id3v2_size(data), len(data)
    if end - pos >= 128 and data[end - 128 : end - 125] == b"TAG":
        end -= 128
    frames = 0
    bitrates: set[int] = set()
    rates: set[int] = set()
    modes: set[int] = set()
    error = ""
    while pos < end:
        header = data[pos : pos + 4]
        if len(header) < 4 or header[0] != 0xFF or (header[1] & 0xE0) != 0xE0:
            error = f"byte {pos} is not the start of an MPEG audio frame"
            break
        if (header[1] >> 3) & 3 != 3 or (header[1] >> 1) & 3 != 1:
            error = f"the frame at byte {pos} is not MPEG-1 Layer III"
            break
        index = header[2] >> 4
        kbps = _BITRATES[index] if index < len(_BITRATES) else 0
        rate = _RATES[(header[2] >> 2) & 3]
        if not kbps or not rate:
            error = f"the frame at byte {pos} has a free or invalid bitrate or sample rate"
            break
        length = 144 * kbps * 1000 // rate + ((header[2] >> 1) & 1)
        if pos + length > end:
            error = f"the last frame (byte {pos}) is cut short"
            break
        if not (frames == 0 and _is_info_frame(data, pos)):
            frames += 1
            bitrates.add(kbps)
            rates.add(rate)
            modes.add(header[3] >> 6)
        pos += length
    return Mp3Stream(frames, frozenset(bitrates), frozenset(rates), frozenset(modes), error)


def _is_info_frame(data: bytes, pos: int) -> bool:
    """A Xing/Info (LAME) or VBRI header frame: metadata that decoders skip, not audio."""
    mono = data[pos + 3] >> 6 == 3
    crc = 0 if data[pos + 1] & 1 else 2
    xing = pos + 4 + crc + (17 if mono else 32)
    return data[xing : xing + 4] in (b"Xing", b"Info") or data[pos + 36 : pos + 40] == b"VBRI"


def measure_loudness(path: Path) -> Loudness:
    """Integrated loudness (dual mono, as heard) and true peak by ffmpeg's ebur128, plus decode errors.

    One decode gives all three: ffmpeg runs at its info level with every line tagged by its
    level, errors are the [error] lines (what `ffmpeg -v error -i f -f null -` prints), and only
    the filter's summary is parsed (metadata=1 keeps its per-frame log out of the info level).
    """
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-nostats", "-loglevel", "repeat+level+info",
           "-i", str(path), "-af", "ebur128=peak=true:dualmono=true:metadata=1", "-f", "null", "-"]
    try:
        proc = subprocess.run(cmd, capture_output=True, check=False)
    except OSError as e:
        raise AudioError(f"cannot run ffmpeg ({cmd[0]}): {e}") from e
    log = proc.stderr.decode("utf-8", "replace")
    errors = tuple(_clean_ffmpeg_line(line) for line in log.splitlines()
                   if re.search(r"\[(error|fatal|panic)\]", line))
    summary = log[log.rfind("Summary:") :] if "Summary:" in log else ""
    integrated = re.search(r"\bI:\s+(-?inf|-?\d+(?:\.\d+)?) LUFS", summary)
    peak = re.search(r"\bPeak:\s+(-?inf|-?\d+(?:\.\d+)?) dBFS", summary)
    if proc.returncode != 0 or not integrated or not peak:
        return Loudness(math.nan, math.nan, errors or ("ffmpeg could not measure it",))
    return Loudness(float(integrated.group(1)), float(peak.group(1)), errors)


def _clean_ffmpeg_line(line: str) -> str:
    """'[mp3float @ 0x55d] [error] Header missing' -> 'Header missing'."""
    return re.sub(r"^(\[[^\]]*\]\s*)+", "", line).strip()


# --- the checker ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _LoudnessRule:
    target: float
    max_peak: float


@dataclass(frozen=True)
class _Item:
    """One feed item as the checks refer to it."""

    number: int
    title: str

    @property
    def label(self) -> str:
        short = self.title if len(self.title) <= 50 else self.title[:49] + "…"
        return f"item {self.number} ({short!r})" if short else f"item {self.number}"


class _Checker:
    def __init__(self, root: Path, now: datetime, loudness: _LoudnessRule | None) -> None:
        self.root = root
        self.now = now
        self.loudness = loudness
        self.base: str | None = None
        self.problems: list[Problem] = []

    def problem(self, file: str, message: str) -> None:
        self.problems.append(Problem(file, message))

    def feed(self, message: str) -> None:
        self.problem(FEED_PATH, message)

    def rel(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def run(self) -> int:
        channel = self._parse_feed()
        if channel is None:
            return 0
        self._channel(channel)
        items = channel.findall("item")
        if not items:
            self.feed("lists no episodes; build one and publish again")
        guids: dict[str, int] = {}
        for n, item in enumerate(items, start=1):
            self._item(item, _Item(n, _text(item, "title")), guids)
        self._site_pages()
        return len(items)

    # -- the feed document -------------------------------------------------------------------------

    def _parse_feed(self) -> Any:
        path = self.root / FEED_PATH
        if not path.is_file():
            self.feed("missing; run 'podcast publish' to write the site")
            return None
        parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
        try:
            root = etree.parse(str(path), parser).getroot()
        except etree.XMLSyntaxError as e:
            self.feed(f"is not well-formed XML ({e}); publish again")
            return None
        if root.tag != "rss" or root.get("version") != "2.0":
            self.feed(f"the root element is <{root.tag} version={root.get('version')!r}>; "
                      "a podcast feed is <rss version=\"2.0\">")
        self._namespaces(root)
        channel = root.find("channel")
        if channel is None:
            self.feed("has no <channel>; publish again")
        return channel

    def _namespaces(self, root: Any) -> None:
        declared: dict[str, str] = {}
        for el in root.iter():
            declared |= {k: v for k, v in el.nsmap.items() if k}
        uris = set(declared.values())
        for prefix, uri in NS.items():
            if prefix in declared and declared[prefix] != uri:
                self.feed(f"namespace prefix {prefix!r} is bound to {declared[prefix]}; it must be {uri}")
            elif uri not in uris:
                self.feed(f"does not declare the {prefix} namespace {uri}")

    # -- channel -----------------------------------------------------------------------------------

    def _channel(self, ch: Any) -> None:
        self._required(ch, "title", "the show's title (title in podcast.toml)")
        self._base_url(ch)
        description = _text(ch, "description")
        if not description:
            self.feed("channel has no <description>; set description in podcast.toml")
        elif len(description.encode("utf-8")) > MAX_CHANNEL_DESCRIPTION_BYTES:
            self.feed(f"channel <description> is {len(description.encode('utf-8'))} bytes; Apple allows "
                      f"{MAX_CHANNEL_DESCRIPTION_BYTES}: shorten description in podcast.toml")
        language = _text(ch, "language")
        if not _LANGUAGE.fullmatch(language):
            self.feed(f"channel <language> {language!r} is not an ISO 639 code like 'en' or 'en-US'")
        self._required(ch, "itunes:author", "the author (author in podcast.toml)")
        self._owner(ch)
        self._image(ch)
        self._categories(ch)
        self._choice(ch, "itunes:explicit", ("true", "false"), "channel")
        self._choice(ch, "itunes:type", ("episodic",), "channel")
        self._podcast_tags(ch)
        if ch.find("lastBuildDate") is not None:
            self._date(_text(ch, "lastBuildDate"), "channel <lastBuildDate>", future_ok=True)

    def _required(self, el: Any, tag: str, what: str, where: str = "channel") -> str:
        value = _text(el, tag)
        if not value:
            self.feed(f"{where} has no <{tag}> with {what}")
        return value

    def _choice(self, el: Any, tag: str, allowed: Sequence[str], where: str, *,
                optional: bool = False) -> None:
        found = el.find(tag, NS)
        if found is None and optional:
            return
        value = (found.text or "").strip() if found is not None else None
        if value not in allowed:
            got = "is missing" if value is None else f"is {value!r}"
            self.feed(f"{where} <{tag}> {got}; it must be {' or '.join(repr(a) for a in allowed)}")

    def _base_url(self, ch: Any) -> None:
        link = _text(ch, "link")
        if not re.match(r"https?://[^/]+", link):
            self.feed(f"channel <link> {link!r} is not the site's http(s) URL; set base_url in podcast.toml")
            return
        self.base = link if link.endswith("/") else link + "/"
        selfs = [a for a in ch.findall("atom:link", NS) if a.get("rel") == "self"]
        if len(selfs) != 1:
            self.feed(f"channel has {len(selfs)} <atom:link rel=\"self\">; it needs exactly one, "
                      "the feed's own URL")
            return
        href = selfs[0].get("href", "")
        path = self.file_of(href, "channel <atom:link rel=\"self\">")
        if path is not None and path.name != FEED_PATH:
            self.feed(f"<atom:link rel=\"self\"> {href} points at {self.rel(path)}, "
                      f"not at the feed ({FEED_PATH})")

    def _owner(self, ch: Any) -> None:
        email = _text(ch, "itunes:owner/itunes:email")
        if not _EMAIL.fullmatch(email):
            got = f"{email!r} is not an email address" if email else "is missing"
            self.feed(f"channel <itunes:owner><itunes:email> {got}; set email in podcast.toml")

    def _image(self, ch: Any) -> None:
        el = ch.find("itunes:image", NS)
        href = el.get("href", "") if el is not None else ""
        if not href:
            self.feed("channel has no <itunes:image href=...>: Apple requires cover art")
            return
        if not href.startswith("https://"):
            self.feed(f"<itunes:image> {href} is not an https URL (Apple requires one); "
                      "serve the site over https")
        if not href.lower().endswith((".jpg", ".png")):
            self.feed(f"<itunes:image> {href} must end in .jpg or .png (Apple ignores it otherwise)")
        path = self.file_of(href, "channel <itunes:image>")
        if path is not None:
            try:
                check_cover(path)
            except ConfigError as e:
                # check_cover words its messages for podcast.toml: keep what is wrong and its fix.
                detail = str(e).split(": ", 1)[-1]
                self.problem(self.rel(path), f"cover art {detail}")
        image_url = _text(ch, "image/url")
        if image_url:
            self.file_of(image_url, "channel <image><url>")

    def _categories(self, ch: Any) -> None:
        cats = ch.findall("itunes:category", NS)
        if not cats:
            self.feed("channel has no <itunes:category>; set category in podcast.toml")
        for cat in cats:
            name = cat.get("text", "")
            if name not in APPLE_CATEGORIES:
                self.feed(f"<itunes:category text={name!r}> is not an Apple Podcasts category")
                continue
            for sub in cat.findall("itunes:category", NS):
                if sub.get("text", "") not in APPLE_CATEGORIES[name]:
                    self.feed(f"<itunes:category text={sub.get('text', '')!r}> is not a subcategory "
                              f"of {name!r}")

    def _podcast_tags(self, ch: Any) -> None:
        guid = _text(ch, "podcast:guid")
        try:
            uuid.UUID(guid)
        except ValueError:
            self.feed(f"channel <podcast:guid> {guid!r} is not a UUID; leave guid empty in podcast.toml "
                      "to derive it from the feed URL" if guid else "channel has no <podcast:guid>")
        self._choice(ch, "podcast:locked", ("yes", "no"), "channel")
        locked = ch.find("podcast:locked", NS)
        if locked is not None and not _EMAIL.fullmatch(locked.get("owner", "")):
            self.feed("<podcast:locked> has no owner=\"email\"; set email in podcast.toml")
        self._choice(ch, "podcast:medium", ("podcast",), "channel")

    # -- items -------------------------------------------------------------------------------------

    def _item(self, item: Any, it: _Item, guids: dict[str, int]) -> None:
        where = it.label
        self._item_text(item, it)
        self._guid(item, it, guids)
        self._date(_text(item, "pubDate"), f"{where} <pubDate>")
        link = _text(item, "link")
        if link:
            self.file_of(link, f"{where} <link>")
        mp3 = self._enclosure(item, where)
        stream = self._audio(mp3) if mp3 is not None else None
        seconds = stream.seconds if stream is not None else None
        self._duration(item, where, seconds)
        number = _text(item, "itunes:episode")
        if not (number.isdigit() and int(number) >= 1):
            self.feed(f"{where} <itunes:episode> is {number!r}; it must be a whole number from 1")
        self._choice(item, "itunes:episodeType", ("full",), where)
        self._choice(item, "itunes:explicit", ("true", "false"), where, optional=True)
        id3_chapters = self._id3(mp3, seconds) if mp3 is not None else []
        self._chapters_json(item, where, seconds, id3_chapters)
        self._psc(item, where, seconds, id3_chapters)
        self._transcripts(item, where, seconds)
        if mp3 is not None and self.loudness is not None:
            self._loudness(mp3, self.loudness)

    def _item_text(self, item: Any, it: _Item) -> None:
        where = it.label
        raw = item.findtext("title") or ""
        if not it.title:
            self.feed(f"{where} has no <title>")
        elif len(raw) > MAX_TITLE_CHARS:
            self.feed(f"{where} <title> is {len(raw)} characters; Apple allows {MAX_TITLE_CHARS}")
        elif raw != raw.strip() or "\n" in raw:
            self.feed(f"{where} <title> has leading, trailing or line-breaking white space; trim it")
        for tag in ("description", "content:encoded"):
            html = _text(item, tag)
            if not html:
                self.feed(f"{where} has no <{tag}> show notes")
                continue
            bad = sorted({t.lower() for t in _HTML_TAG.findall(html)} - NOTES_TAGS)
            if bad:
                self.feed(f"{where} <{tag}> uses {', '.join(f'<{t}>' for t in bad)}; show notes may only "
                          f"use {' '.join(sorted(NOTES_TAGS))}")

    def _guid(self, item: Any, it: _Item, guids: dict[str, int]) -> None:
        el = item.find("guid")
        guid = (el.text or "").strip() if el is not None else ""
        if not guid:
            self.feed(f"{it.label} has no <guid>; gPodder drops such episodes")
            return
        if guid in guids:
            self.feed(f"{it.label} has the guid {guid!r} of item {guids[guid]}; every episode needs its own, "
                      "kept forever")
        guids.setdefault(guid, it.number)
        if el.get("isPermaLink", "true") != "false" and not re.match(r"https?://", guid):
            self.feed(f"{it.label} <guid> {guid!r} is not a URL, so it needs isPermaLink=\"false\"")

    def _date(self, text: str, what: str, *, future_ok: bool = False) -> None:
        if not _RFC2822.fullmatch(text):
            self.feed(f"{what} {text!r} is not an RFC 2822 date like 'Fri, 10 May 2024 00:00:00 +0000'")
            return
        try:
            when = parsedate_to_datetime(text)
        except ValueError:
            self.feed(f"{what} {text!r} is not a real date")
            return
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        if text[:3] != _WEEKDAYS[when.weekday()]:
            self.feed(f"{what} {text!r} says {text[:3]}, but that day is a {_WEEKDAYS[when.weekday()]}")
        if not future_ok and when > self.now:
            self.feed(f"{what} {text!r} is in the future; apps hide the episode until then "
                      "(fix the episode's date, or publish later)")

    def _enclosure(self, item: Any, where: str) -> Path | None:
        found = item.findall("enclosure")
        if len(found) != 1:
            self.feed(f"{where} has {len(found)} <enclosure> elements; it needs exactly one")
            if not found:
                return None
        el = found[0]
        url, length, kind = el.get("url", ""), el.get("length", ""), el.get("type", "")
        if kind != AUDIO_TYPE:
            self.feed(f"{where} <enclosure type={kind!r}>; it must be {AUDIO_TYPE!r}")
        if not url.isascii() or " " in url:
            self.feed(f"{where} <enclosure url={url!r}> must be ASCII with no spaces (percent-encode it)")
        path = self.file_of(url, f"{where} <enclosure>")
        if path is None:
            return None
        size = path.stat().st_size
        if length != str(size):
            self.feed(f"{where} <enclosure length={length!r}> but {self.rel(path)} is {size} bytes; "
                      "publish again")
        return path

    def _duration(self, item: Any, where: str, seconds: float | None) -> None:
        text = _text(item, "itunes:duration")
        if not text.isdigit():
            self.feed(f"{where} <itunes:duration> {text!r} must be the length in whole seconds")
        elif seconds is not None and abs(int(text) - seconds) > DURATION_SLACK:
            self.feed(f"{where} <itunes:duration> is {text} s, but the audio is {seconds:.1f} s long; "
                      f"{_FIX_BUILD}")

    # -- the MP3 -----------------------------------------------------------------------------------

    def _audio(self, path: Path) -> Mp3Stream | None:
        rel = self.rel(path)
        try:
            data = path.read_bytes()
        except OSError as e:
            self.problem(rel, f"cannot be read ({e.strerror})")
            return None
        stream = scan_mp3(data)
        if stream.error:
            self.problem(rel, f"is not a clean MP3 stream: {stream.error}; {_FIX_BUILD}")
        if not stream.frames:
            self.problem(rel, "holds no MPEG-1 Layer III audio frames")
            return None
        if stream.sample_rates != {SAMPLE_RATE}:
            self.problem(rel, f"sample rate is {_hz(stream.sample_rates)}; it must be 44.1 kHz")
        if stream.channel_modes != {3}:
            self.problem(rel, "is not mono (Apple wants mono speech at 96-128 kbps)")
        low, high = BITRATES_KBPS
        if len(stream.bitrates) > 1:
            self.problem(rel, f"has a variable bitrate ({min(stream.bitrates)}-{max(stream.bitrates)} kbps); "
                         f"encode at a constant {low}-{high} kbps")
        elif not low <= min(stream.bitrates) <= high:
            self.problem(rel, f"bitrate is {min(stream.bitrates)} kbps; it must be a constant "
                         f"{low}-{high} kbps")
        return stream

    def _id3(self, path: Path, seconds: float | None) -> list[Chapter]:
        """Check the MP3's ID3 tag; return its chapters in table-of-contents order."""
        rel = self.rel(path)
        try:
            tags = ID3(path)
        except ID3NoHeaderError:
            self.problem(rel, f"has no ID3 tag (title, show, cover, chapters); {_FIX_BUILD}")
            return []
        except (OSError, MutagenError) as e:
            self.problem(rel, f"has an unreadable ID3 tag ({e}); {_FIX_BUILD}")
            return []
        if tags.version[:2] != (2, 3):
            self.problem(rel, f"ID3 tag is v2.{tags.version[1]}; save it as v2.3 "
                         "(chapter readers handle it best)")
        for frame_id, what in (("TIT2", "episode title"), ("TALB", "show title"), ("TPE1", "author"),
                               ("TDRC", "date"), ("APIC", "cover art")):
            if not tags.getall(frame_id):
                self.problem(rel, f"ID3 tag has no {frame_id} ({what}); {_FIX_BUILD}")
        if [str(t) for f in tags.getall("TCON") for t in f.text] != ["Podcast"]:
            self.problem(rel, "ID3 TCON (genre) is not 'Podcast'")
        if not tags.getall("COMM") and not tags.getall("TXXX"):
            self.problem(rel, "ID3 tag has no COMM or TXXX description")
        for pic in tags.getall("APIC"):
            if pic.mime not in ("image/jpeg", "image/png"):
                self.problem(rel, f"ID3 cover art is {pic.mime!r}; use a JPEG or PNG")
        self._toc(rel, tags)
        try:
            chapters = read_chapters(path)
        except AudioError as e:
            self.problem(rel, f"{str(e).split(': ', 1)[-1]}")
            return []
        self._tiling(rel, chapters, seconds)
        return chapters

    def _toc(self, rel: str, tags: ID3) -> None:
        chaps: list[Any] = tags.getall("CHAP")
        if not chaps:
            self.problem(rel, f"has no ID3 chapters (CHAP frames); {_FIX_BUILD}")
            return
        ids = [c.element_id for c in chaps]
        dupes = sorted(i for i, n in Counter(ids).items() if n > 1)
        if dupes:
            self.problem(rel, f"ID3 chapter element ids repeat: {', '.join(dupes)}")
        for c in chaps:
            if not c.sub_frames.getall("TIT2"):
                self.problem(rel, f"ID3 chapter {c.element_id!r} has no TIT2 title")
        tocs: list[Any] = tags.getall("CTOC")
        if len(tocs) != 1:
            self.problem(rel, f"has {len(tocs)} CTOC frames; it needs exactly one (Overcast shows chapters "
                         "only with a CTOC)")
            return
        toc = tocs[0]
        if not (toc.flags & CTOCFlags.TOP_LEVEL and toc.flags & CTOCFlags.ORDERED):
            self.problem(rel, "the CTOC lacks the top-level and ordered flags")
        in_time_order = [c.element_id for c in sorted(chaps, key=lambda c: c.start_time)]
        if list(toc.child_element_ids) != in_time_order:
            self.problem(rel, "the CTOC does not list the CHAP frames in time order")

    def _tiling(self, rel: str, chapters: Sequence[Chapter], seconds: float | None) -> None:
        """CHAP times tile the audio: from 0, each starting where the one before ends, to the end."""
        previous_end = 0
        for n, ch in enumerate(chapters, start=1):
            start, end = round(ch.start * 1000), round(ch.end * 1000)
            if start != previous_end:
                before = f"chapter {n - 1} ends at {previous_end / 1000:.3f} s" if n > 1 else "it must be 0"
                self.problem(rel, f"ID3 chapter {n} ({ch.title!r}) starts at {start / 1000:.3f} s, but "
                             f"{before}; chapters must be contiguous")
            if end <= start:
                self.problem(rel, f"ID3 chapter {n} ({ch.title!r}) ends at or before its start")
            previous_end = end
        if chapters and seconds is not None and abs(previous_end / 1000 - seconds) > FRAME_SECONDS:
            self.problem(rel, f"the last ID3 chapter ends at {previous_end / 1000:.3f} s, but the audio is "
                         f"{seconds:.3f} s long; {_FIX_BUILD}")

    def _loudness(self, path: Path, rule: _LoudnessRule) -> None:
        rel = self.rel(path)
        measured = measure_loudness(path)
        if measured.decode_errors:
            n = len(measured.decode_errors)
            self.problem(rel, f"ffmpeg reports {n} decoding error{'s' if n > 1 else ''}, the first: "
                         f"{measured.decode_errors[0]!r}; {_FIX_BUILD}")
        if math.isnan(measured.integrated):
            return
        if abs(measured.integrated - rule.target) > LOUDNESS_SLACK:
            self.problem(rel, f"integrated loudness is {measured.integrated:.1f} LUFS (dual mono); "
                         f"it must be {rule.target:g} +-{LOUDNESS_SLACK:g} LU")
        if measured.true_peak > rule.max_peak:
            self.problem(rel, f"true peak is {measured.true_peak:.1f} dBTP; it must be at most "
                         f"{rule.max_peak:g} dBTP")

    # -- chapters and transcripts -----------------------------------------------------------------

    def _chapters_json(self, item: Any, where: str, seconds: float | None, id3: Sequence[Chapter]) -> None:
        el = item.find("podcast:chapters", NS)
        if el is None:
            self.feed(f"{where} has no <podcast:chapters>")
            return
        if el.get("type") != CHAPTERS_JSON_TYPE:
            self.feed(f"{where} <podcast:chapters type={el.get('type')!r}>; "
                      f"it must be {CHAPTERS_JSON_TYPE!r}")
        path = self.file_of(el.get("url", ""), f"{where} <podcast:chapters>")
        if path is None:
            return
        rel = self.rel(path)
        data = _json(path)
        if not isinstance(data, dict) or not isinstance(data.get("chapters"), list):
            self.problem(rel, "is not a chapters JSON object with a \"chapters\" list")
            return
        if data.get("version") != CHAPTERS_VERSION:
            self.problem(rel, f"version is {data.get('version')!r}; it must be {CHAPTERS_VERSION!r}")
        chapters: list[Chapter] = []
        for n, entry in enumerate(data["chapters"], start=1):
            entry = entry if isinstance(entry, dict) else {}
            start, title = entry.get("startTime"), entry.get("title")
            if isinstance(start, bool) or not isinstance(start, int | float) or not isinstance(title, str):
                self.problem(rel, f"chapter {n} needs a number startTime and a title")
                return
            chapters.append(Chapter(title, float(start), float(start), str(entry.get("url", ""))))
        self._starts(rel, "chapter", [c.start for c in chapters], seconds)
        self._same_chapters(rel, chapters, id3)

    def _psc(self, item: Any, where: str, seconds: float | None, id3: Sequence[Chapter]) -> None:
        el = item.find("psc:chapters", NS)
        if el is None:
            self.feed(f"{where} has no <psc:chapters> (gPodder reads chapters only from them)")
            return
        if el.get("version") != PSC_VERSION:
            self.feed(f"{where} <psc:chapters version={el.get('version')!r}>; it must be {PSC_VERSION!r}")
        chapters = []
        for ch in el.findall("psc:chapter", NS):
            start = _npt_seconds(ch.get("start", ""))
            if start is None:
                self.feed(f"{where} <psc:chapter start={ch.get('start')!r}> is not a time like 00:01:35.500")
                return
            chapters.append(Chapter(ch.get("title", ""), start, start, ch.get("href", "")))
        self._starts(FEED_PATH, f"{where} psc:chapter", [c.start for c in chapters], seconds)
        self._same_chapters(FEED_PATH, chapters, id3, f"{where} <psc:chapters>")

    def _starts(self, file: str, what: str, starts: Sequence[float], seconds: float | None) -> None:
        if not starts:
            self.problem(file, f"{what}s: there are none; {_FIX_BUILD}")
            return
        if starts[0] != 0:
            self.problem(file, f"the first {what} starts at {starts[0]:g} s, not at 0")
        for n, (a, b) in enumerate(itertools.pairwise(starts), start=2):
            if b <= a:
                self.problem(file, f"{what} {n} starts at {b:g} s, not after the one before ({a:g} s)")
        if seconds is not None and starts[-1] >= seconds:
            self.problem(file, f"the last {what} starts at {starts[-1]:g} s, past the audio's end "
                         f"({seconds:.3f} s)")

    def _same_chapters(self, file: str, chapters: Sequence[Chapter], id3: Sequence[Chapter],
                       what: str = "these chapters") -> None:
        """Chapters written beside the audio must say what its ID3 chapters say (titles, starts, links)."""
        if not id3:
            return
        if len(chapters) != len(id3):
            self.problem(file, f"{what}: {len(chapters)} chapters, but the MP3 has {len(id3)}; publish again")
            return
        for n, (mine, tagged) in enumerate(zip(chapters, id3, strict=True), start=1):
            if (abs(mine.start - tagged.start) > CHAPTER_MATCH_SLACK or mine.title != xml_text(tagged.title)
                    or mine.url != tagged.url):
                self.problem(file, f"{what}: chapter {n} ({mine.title!r} at {mine.start:g} s) differs from "
                             f"the MP3's ({tagged.title!r} at {tagged.start:g} s); {_FIX_BUILD}")
                return

    def _transcripts(self, item: Any, where: str, seconds: float | None) -> None:
        links = item.findall("podcast:transcript", NS)
        types = Counter(el.get("type", "") for el in links)
        for kind in REQUIRED_TRANSCRIPTS:
            if not types[kind]:
                self.feed(f"{where} has no <podcast:transcript type={kind!r}>")
        for kind, n in types.items():
            if n > 1:
                self.feed(f"{where} lists {n} transcripts of type {kind!r}; list each format once")
            if kind not in TRANSCRIPT_TYPES:
                self.feed(f"{where} <podcast:transcript type={kind!r}> is not a transcript type apps read")
        for el in links:
            path = self.file_of(el.get("url", ""), f"{where} <podcast:transcript>")
            if path is not None:
                self._transcript_file(path, el.get("type", ""), seconds)

    def _transcript_file(self, path: Path, kind: str, seconds: float | None) -> None:
        rel = self.rel(path)
        try:
            text = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            self.problem(rel, "is not UTF-8 text")
            return
        except OSError as e:
            self.problem(rel, f"cannot be read ({e.strerror})")
            return
        cues: list[Cue] = []
        try:
            if kind == "text/vtt":
                cues = transcript.parse_vtt(text)
            elif kind == "application/x-subrip":
                cues = transcript.parse_srt(text)
            elif kind == "application/json":
                cues = self._json_transcript(rel, path)
        except InputError as e:
            self.problem(rel, str(e))
            return
        if kind in REQUIRED_TRANSCRIPTS:
            long = transcript.long_lines(text)
            if long:
                shown = ", ".join(map(str, long[:5])) + (", ..." if len(long) > 5 else "")
                self.problem(rel, f"line {shown} {'is' if len(long) == 1 else 'are'} longer than "
                             f"{transcript.LINE_CHARS} characters; split the cues")
        if cues and seconds is not None and cues[-1].end > seconds + FRAME_SECONDS:
            self.problem(rel, f"cues run to {cues[-1].end:.3f} s, past the audio's end ({seconds:.3f} s); "
                         f"{_FIX_BUILD}")

    def _json_transcript(self, rel: str, path: Path) -> list[Cue]:
        data = _json(path)
        if not isinstance(data, dict) or not isinstance(data.get("segments"), list):
            raise InputError("is not a JSON transcript object with a \"segments\" list")
        if data.get("version") != TRANSCRIPT_JSON_VERSION:
            self.problem(rel, f"version is {data.get('version')!r}; it must be {TRANSCRIPT_JSON_VERSION!r}")
        cues = []
        for n, seg in enumerate(data["segments"], start=1):
            try:
                start, end, body = float(seg["startTime"]), float(seg["endTime"]), str(seg["body"])
            except (TypeError, KeyError, ValueError):
                raise InputError(f"segment {n} needs startTime, endTime and body") from None
            if end < start:
                raise InputError(f"segment {n} ends before it starts")
            cues.append(Cue(start, end, str(seg.get("speaker", "")), body))
        return cues

    # -- the rest of the site ----------------------------------------------------------------------

    def _site_pages(self) -> None:
        if not (self.root / "index.html").is_file():
            self.problem("index.html", "missing: the site has no home page; publish again")
        newsletter = self.root / "newsletter.xml"
        if newsletter.is_file():
            try:
                etree.parse(str(newsletter), etree.XMLParser(resolve_entities=False, no_network=True))
            except etree.XMLSyntaxError as e:
                self.problem("newsletter.xml", f"is not well-formed XML ({e}); publish again")

    def file_of(self, url: str, what: str) -> Path | None:
        """The site file a feed URL names, or None after reporting why it has none."""
        if self.base is None:
            return None
        if not url.startswith(self.base):
            self.feed(f"{what} {url!r} is outside the site's base URL {self.base}; set base_url in "
                      "podcast.toml and publish again")
            return None
        rel = unquote(urlsplit(url[len(self.base) :]).path)
        if rel == "" or rel.endswith("/"):
            rel += "index.html"
        if ".." in rel.split("/") or rel.startswith("/"):
            self.feed(f"{what} {url!r} leaves the site's folder")
            return None
        path = self.root / rel
        if not path.is_file():
            self.feed(f"{what} {url} names {rel}, which is not in the site; publish again")
            return None
        return path


# --- small readers ------------------------------------------------------------------------------------


def _text(el: Any, path: str) -> str:
    found = el.find(path, NS)
    return (found.text or "").strip() if found is not None else ""


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_bytes().decode("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None


def _npt_seconds(text: str) -> float | None:
    """Seconds of a Normal Play Time like '00:01:35.500' or '95.5'; None if it is not one.

    >>> _npt_seconds("01:02:03.5")
    3723.5
    >>> _npt_seconds("1:35") is None
    False
    >>> _npt_seconds("soon") is None
    True
    """
    m = _NPT.fullmatch(text.strip())
    if not m:
        return None
    parts = [int(p) if p else 0 for p in m.groups()[:3]]
    hours, minutes, secs = parts if m.group(2) else (0, parts[0], parts[2])
    return hours * 3600 + minutes * 60 + secs + int((m.group(4) or "0").ljust(3, "0")) / 1000


def _hz(rates: frozenset[int]) -> str:
    return ", ".join(f"{r / 1000:g} kHz" for r in sorted(rates))
