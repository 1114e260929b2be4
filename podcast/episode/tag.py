"""ID3v2.3 tags for an episode MP3: metadata, cover art, and CHAP/CTOC chapters.

The chapter frames follow the ID3v2 Chapter Frame Addendum as podcast apps read it: CHAP frames
that tile the audio from 0 ms to its end, and one top-level, ordered CTOC listing them (Overcast
shows chapters only when the CTOC is there). Tags are saved as v2.3, which chapter readers handle
best; mutagen would otherwise write v2.4. The CHAP frames are stored in chapter order: readers that
list them as the file holds them (ffmpeg, and apps built on it) would otherwise show mutagen's order,
which is by frame size.

Every text frame is written from text made safe (podcast.text): ID3 separates the values of a text
frame with NUL, so a NUL in a title would split it in two, and a line break has no place in a title.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from mutagen import MutagenError
from mutagen.id3 import (
    APIC,
    CHAP,
    COMM,
    CTOC,
    ID3,
    TALB,
    TCON,
    TDRC,
    TIT2,
    TPE1,
    TXXX,
    WXXX,
    CTOCFlags,
    Encoding,
    ID3NoHeaderError,
    ID3v1SaveOptions,
    PictureType,
)

from podcast.errors import AudioError
from podcast.fsutil import atomic_open
from podcast.models import Chapter, Show
from podcast.text import clean, one_line

TOC_ID = "toc"
"""Element id of the single table of contents."""
TOC_TITLE = "Chapters"
NO_OFFSET = 0xFFFFFFFF
"""CHAP byte offsets: 'not used', so readers go by the millisecond times."""
TAG_PADDING = 1024
"""Fixed padding keeps the output identical however many times a file is tagged."""


def tag_mp3(
    path: Path,
    *,
    show: Show,
    title: str,
    published: date | datetime,
    description: str,
    chapters: Sequence[Chapter],
    cover: bytes,
    cover_mime: str,
    audio_ms: int,
) -> None:
    """Replace the ID3 tag of the MP3 at `path` with the episode's metadata, cover and chapters.

    Chapter times are rounded to milliseconds and adjusted so the CHAP frames tile [0, audio_ms]
    exactly. The file is rewritten atomically: a crash leaves the old file or the new one.
    Tagging the same file twice with the same arguments gives byte-identical output.
    """
    tags = _ChapterOrderID3()
    for frame in _metadata_frames(show, title, published, description, cover, cover_mime):
        tags.add(frame)
    for frame in _chapter_frames(chapters, audio_ms):
        tags.add(frame)
    # Converts TDRC into v2.3's TYER/TDAT (also inside CHAP sub-frames); save() alone does not.
    tags.update_to_v23()
    _save_atomically(Path(path), tags)


class _ChapterOrderID3(ID3):
    """An ID3 tag that writes its CTOC and CHAP frames last, the chapters in time order; mutagen
    sorts every frame by its size, which puts a short-titled Outro before the papers."""

    def _write(self, config: Any) -> bytes:
        from mutagen.id3._tags import save_frame  # what ID3._write uses for each frame

        chapters = sorted(self.getall("CHAP"), key=lambda f: (f.start_time, f.element_id))
        tocs = self.getall("CTOC")
        self.delall("CHAP")
        self.delall("CTOC")
        try:
            head = bytes(super()._write(config))
        finally:
            for frame in (*chapters, *tocs):
                self.add(frame)
        return head + b"".join(save_frame(f, config=config) for f in (*tocs, *chapters))


class UnlistedChapters(AudioError):
    """The table of contents lists chapters that have no CHAP frame."""

    def __init__(self, missing: Sequence[str], path: Path | None = None) -> None:
        self.missing = tuple(missing)
        """Element ids the CTOC lists with no CHAP frame."""
        self.reason = f"CTOC lists chapters with no CHAP frame: {', '.join(self.missing)}"
        """What is wrong, without the file's name."""
        super().__init__(f"{path}: {self.reason}" if path else self.reason)


def read_chapters(path: Path) -> list[Chapter]:
    """The chapters of an MP3 in table-of-contents order (time order when there is no CTOC)."""
    path = Path(path)
    try:
        tags = ID3(path)
    except ID3NoHeaderError:
        return []
    except (OSError, MutagenError) as e:
        raise AudioError(f"cannot read ID3 tags of {path}: {e}; check the file is an MP3") from e
    return chapters_in(tags, path)


def chapters_in(tags: ID3, path: Path | None = None) -> list[Chapter]:
    """The chapters of a tag already read (from `path`, which messages name), as read_chapters gives them.

    Raises UnlistedChapters when the table of contents lists a chapter that has no CHAP frame.
    """
    chaps: dict[str, Any] = {f.element_id: f for f in tags.getall("CHAP")}
    toc = _top_level_toc(tags)
    if toc is None:
        ordered = sorted(chaps.values(), key=lambda f: f.start_time)
    else:
        missing = [cid for cid in toc.child_element_ids if cid not in chaps]
        if missing:
            raise UnlistedChapters(missing, path)
        ordered = [chaps[cid] for cid in toc.child_element_ids]
    return [_chapter_from_frame(f) for f in ordered]


def chapter_bounds_ms(chapters: Sequence[Chapter], audio_ms: int) -> list[tuple[int, int]]:
    """(start_ms, end_ms) per chapter, ascending from 0, contiguous, the last ending at `audio_ms`.

    The first chapter always starts at 0 and every chapter keeps at least 1 ms, so rounding or a
    boundary a little past the end never yields an empty or reversed chapter.

    >>> chapter_bounds_ms([Chapter("a", 0.0, 1.2), Chapter("b", 1.2004, 3.0)], 2999)
    [(0, 1200), (1200, 2999)]
    """
    n = len(chapters)
    if n == 0:
        return []
    if audio_ms < n:
        raise AudioError(f"audio of {audio_ms} ms is too short for {n} chapters; check the mix")
    starts = [0]
    for i, chapter in enumerate(chapters[1:], start=1):
        if chapter.start < chapters[i - 1].start:
            raise ValueError(f"chapter {chapter.title!r} starts before the one it follows")
        latest = audio_ms - (n - i)  # leaves 1 ms for each chapter still to come
        starts.append(min(max(round(chapter.start * 1000), starts[-1] + 1), latest))
    return list(zip(starts, [*starts[1:], audio_ms], strict=True))


def _metadata_frames(
    show: Show, title: str, published: date | datetime, description: str, cover: bytes, cover_mime: str
) -> list[object]:
    day = published.date() if isinstance(published, datetime) else published
    utf8 = Encoding.UTF8  # mutagen re-encodes text as UTF-16 when it writes v2.3
    description = clean(description)
    return [
        TIT2(encoding=utf8, text=[one_line(title)]),
        TALB(encoding=utf8, text=[one_line(show.title)]),
        TPE1(encoding=utf8, text=[one_line(show.author)]),
        TDRC(encoding=utf8, text=[day.isoformat()]),
        TCON(encoding=utf8, text=["Podcast"]),
        COMM(encoding=utf8, lang="eng", desc="", text=[description]),
        TXXX(encoding=utf8, desc="description", text=[description]),
        APIC(encoding=utf8, mime=cover_mime, type=PictureType.COVER_FRONT, desc="Cover", data=cover),
    ]


def _chapter_frames(chapters: Sequence[Chapter], audio_ms: int) -> list[object]:
    if not chapters:
        return []
    frames: list[object] = []
    ids = [f"chp{i}" for i in range(len(chapters))]
    for cid, chapter, (start, end) in zip(ids, chapters, chapter_bounds_ms(chapters, audio_ms), strict=True):
        sub: list[object] = [TIT2(encoding=Encoding.UTF8, text=[one_line(chapter.title)])]
        if chapter.url:
            sub.append(WXXX(encoding=Encoding.UTF8, desc="", url=_ascii_url(chapter.url)))
        frames.append(
            CHAP(
                element_id=cid,
                start_time=start,
                end_time=end,
                start_offset=NO_OFFSET,
                end_offset=NO_OFFSET,
                sub_frames=sub,
            )
        )
    frames.append(
        CTOC(
            element_id=TOC_ID,
            flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED,
            child_element_ids=ids,
            sub_frames=[TIT2(encoding=Encoding.UTF8, text=[TOC_TITLE])],
        )
    )
    return frames


def _ascii_url(url: str) -> str:
    """The link as a WXXX frame can hold it (Latin-1): anything but ASCII's printable characters
    percent-encoded as UTF-8, as browsers send an IRI.

    >>> _ascii_url("https://ja.wikipedia.org/wiki/音声 x")
    'https://ja.wikipedia.org/wiki/%E9%9F%B3%E5%A3%B0%20x'
    """
    from urllib.parse import quote

    return quote(one_line(url), safe="!#$%&'()*+,/:;=?@[]~")


def _save_atomically(path: Path, tags: ID3) -> None:
    """Tag a copy beside `path`, then rename it over the original."""
    try:
        src = open(path, "rb")  # noqa: SIM115 - closed below, after the copy is tagged
    except OSError as e:
        raise AudioError(f"cannot tag {path}: {e.strerror}; check the MP3 exists") from e
    with contextlib.closing(src), atomic_open(path, "w+b") as tmp:
        # The temp file is created 0600; keep the original's permissions so the site can serve it.
        os.fchmod(tmp.fileno(), os.fstat(src.fileno()).st_mode & 0o7777)
        shutil.copyfileobj(src, tmp, 1 << 20)
        tmp.seek(0)
        try:
            # A fresh ID3 object replaces whatever tag the copy had; v1=REMOVE drops a stale ID3v1.
            tags.save(tmp, v1=ID3v1SaveOptions.REMOVE, v2_version=3, padding=lambda _info: TAG_PADDING)
        except MutagenError as e:
            raise AudioError(f"cannot write ID3 tags to {path}: {e}") from e


# mutagen declares frame attributes dynamically (from a framespec), so frames are typed Any here.
def _top_level_toc(tags: ID3) -> Any:
    tocs: list[Any] = tags.getall("CTOC")
    top = [t for t in tocs if t.flags & CTOCFlags.TOP_LEVEL]
    candidates = top or tocs
    return candidates[0] if candidates else None


def _chapter_from_frame(frame: Any) -> Chapter:
    titles = frame.sub_frames.getall("TIT2")
    links = frame.sub_frames.getall("WXXX")
    return Chapter(
        title=str(titles[0].text[0]) if titles and titles[0].text else "",
        start=frame.start_time / 1000,
        end=frame.end_time / 1000,
        url=links[0].url if links else "",
    )
