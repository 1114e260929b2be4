"""The Podcasting 2.0 tags that are for listeners rather than for playing: podcast:person, podcast:txt
and podcast:soundbite (https://podcastindex.org/namespace/1.0), each item's own art, and its
podcast:alternateEnclosure (the brief), whose file is held to the main enclosure's rules."""

from __future__ import annotations

import re
from typing import Any

from podcast.publish.check import media
from podcast.publish.check.problems import FIX_BUILD, FRAME_SECONDS, NS, Findings, text
from podcast.publish.check.sidecars import check_cover_art
from podcast.publish.feed import MAX_PERSON_CHARS

MAX_TXT_CHARS = 4000
"""podcast:txt's text: at most 4000 characters."""
MAX_ALTERNATE_TITLE_CHARS = 32
"""podcast:alternateEnclosure's title: at most 32 characters, for the apps' menus."""
_DECIMAL = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_MIME = re.compile(r"[a-z]+/[a-z0-9][a-z0-9.+-]*")
_TAXONOMY = re.compile(r"[a-z][a-z0-9 &/-]*")
"""A role or group of the Podcast Taxonomy, as the namespace spells them: lower case words."""


def check_channel(found: Findings, ch: Any) -> None:
    """The channel's podcast:person and podcast:txt elements."""
    for el in ch.findall("podcast:person", NS):
        _person(found, el, "channel")
    _txt(found, ch, "channel")


def check_item(found: Findings, item: Any, where: str, seconds: float | None) -> None:
    """An item's podcast:soundbite and podcast:txt elements, and its <itunes:image> (optional; when
    present it must be art Apple accepts, in the site). `seconds`: the audio's length, if known."""
    if seconds is None and text(item, "itunes:duration").isdigit():
        seconds = float(text(item, "itunes:duration"))
    for n, el in enumerate(item.findall("podcast:soundbite", NS), start=1):
        _soundbite(found, el, f"{where} <podcast:soundbite> {n}", seconds)
    _txt(found, item, where)
    for n, el in enumerate(item.findall("podcast:alternateEnclosure", NS), start=1):
        _alternate(found, el, f"{where} <podcast:alternateEnclosure> {n}")
    image = item.find("itunes:image", NS)
    if image is None:
        return
    href = image.get("href", "")
    if not href.lower().endswith((".jpg", ".png")):
        found.feed(f"{where} <itunes:image> {href!r} must end in .jpg or .png (Apple ignores it otherwise)",
                   "cover")
        return
    path = found.file_of(href, f"{where} <itunes:image>")
    if path is not None:
        check_cover_art(found, path)


def _person(found: Findings, el: Any, where: str) -> None:
    name = (el.text or "").strip()
    if not name or len(name) > MAX_PERSON_CHARS:
        found.feed(f"{where} <podcast:person> name {name!r} must be 1-{MAX_PERSON_CHARS} characters")
    for attr in ("role", "group"):
        value = el.get(attr)
        if value is not None and not _TAXONOMY.fullmatch(value):
            found.feed(f"{where} <podcast:person {attr}={value!r}> is not a Podcast Taxonomy {attr} "
                       "(lower case, like \"host\" or \"cast\")")
    for attr in ("img", "href"):
        value = el.get(attr)
        if value is not None and not value.startswith(("https://", "http://")):
            found.feed(f"{where} <podcast:person {attr}={value!r}> must be an http(s) URL")


def _txt(found: Findings, el: Any, where: str) -> None:
    for txt in el.findall("podcast:txt", NS):
        value, purpose = (txt.text or "").strip(), txt.get("purpose")
        if not value or len(value) > MAX_TXT_CHARS:
            found.feed(f"{where} <podcast:txt> must hold 1-{MAX_TXT_CHARS} characters, not {len(value)}")
        if purpose is not None and not 0 < len(purpose) <= MAX_PERSON_CHARS:
            found.feed(f"{where} <podcast:txt purpose> must be 1-{MAX_PERSON_CHARS} characters")


def _soundbite(found: Findings, el: Any, what: str, seconds: float | None) -> None:
    start, duration = el.get("startTime", ""), el.get("duration", "")
    if not (_DECIMAL.fullmatch(start) and _DECIMAL.fullmatch(duration)):
        found.feed(f"{what} needs startTime and duration in seconds (like \"34.5\"), not "
                   f"{start!r} and {duration!r}")
        return
    if float(duration) <= 0:
        found.feed(f"{what} has duration {duration}; it must be more than 0 seconds")
    elif seconds is not None and float(start) + float(duration) > seconds + FRAME_SECONDS:
        found.feed(f"{what} runs from {start} s for {duration} s, past the audio's end ({seconds:.3f} s); "
                   f"{FIX_BUILD}")
    title = (el.text or "").strip()
    if len(title) > MAX_PERSON_CHARS:
        found.feed(f"{what} title is {len(title)} characters; at most {MAX_PERSON_CHARS}")


def _alternate(found: Findings, el: Any, what: str) -> None:
    """Its attributes; each podcast:source's file in the site, as long as `length` says, and for an MP3
    its frames and ID3 tag as the main enclosure's are checked."""
    kind, length, bitrate, title = (el.get(a, "") for a in ("type", "length", "bitrate", "title"))
    if not _MIME.fullmatch(kind):
        found.feed(f"{what} needs type, the file's MIME type (like \"audio/mpeg\"), not {kind!r}")
    if not length.isdigit() or int(length) == 0:
        found.feed(f"{what} length {length!r} must be the file's size in bytes")
    if bitrate and not (_DECIMAL.fullmatch(bitrate) and float(bitrate) > 0):
        found.feed(f"{what} bitrate {bitrate!r} must be bits per second, more than 0")
    if len(title) > MAX_ALTERNATE_TITLE_CHARS:
        found.feed(f"{what} title is {len(title)} characters; at most {MAX_ALTERNATE_TITLE_CHARS}")
    sources = el.findall("podcast:source", NS)
    if not sources:
        found.feed(f"{what} has no <podcast:source uri=...>; it needs at least one")
    for source in sources:
        path = found.file_of(source.get("uri", ""), f"{what} <podcast:source>")
        if path is None:
            continue
        size = path.stat().st_size
        if length != str(size):
            found.feed(f"{what} length={length!r} but {found.rel(path)} is {size} bytes; publish again")
        if kind == "audio/mpeg":
            stream = media.check_audio(found, path)
            media.check_tags(found, path, stream.seconds if stream is not None else None)
