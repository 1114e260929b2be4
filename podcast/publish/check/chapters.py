"""Chapters, wherever an episode lists them: ID3 CHAP/CTOC frames, chapters.json and psc:chapters.

The ID3 chapters tile the audio; the other two lists are written beside it and must say the same.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mutagen.id3 import ID3, CTOCFlags

from podcast.episode import transcript
from podcast.models import Chapter
from podcast.publish.check.problems import FIX_BUILD, FRAME_SECONDS, NS, Findings, load_json
from podcast.publish.feed import FEED_PATH, xml_text
from podcast.publish.feed_ext import CHAPTERS_JSON_TYPE, PSC_VERSION

CHAPTER_MATCH_SLACK = 0.01
"""psc:chapters and chapters.json are written to the millisecond; the ID3 frames may move a start by 1 ms."""
CHAPTERS_VERSION = transcript.CHAPTERS_JSON_VERSION
_NPT = re.compile(r"(?:(\d+):)?(?:(\d{1,2}):)?(\d{1,2})(?:\.(\d{1,3}))?")


def check_toc(found: Findings, rel: str, tags: ID3) -> None:
    """CHAP frames with unique ids and titles, and one top-level, ordered CTOC listing them in time order."""
    chaps: list[Any] = tags.getall("CHAP")
    if not chaps:
        found.add(rel, "chapters", f"has no ID3 chapters (CHAP frames); {FIX_BUILD}")
        return
    ids = [c.element_id for c in chaps]
    dupes = sorted(i for i, n in Counter(ids).items() if n > 1)
    if dupes:
        found.add(rel, "chapters", f"ID3 chapter element ids repeat: {', '.join(dupes)}")
    for c in chaps:
        if not c.sub_frames.getall("TIT2"):
            found.add(rel, "chapters", f"ID3 chapter {c.element_id!r} has no TIT2 title")
    tocs: list[Any] = tags.getall("CTOC")
    if len(tocs) != 1:
        found.add(rel, "chapters", f"has {len(tocs)} CTOC frames; it needs exactly one (Overcast shows "
                  "chapters only with a CTOC)")
        return
    toc = tocs[0]
    if not (toc.flags & CTOCFlags.TOP_LEVEL and toc.flags & CTOCFlags.ORDERED):
        found.add(rel, "chapters", "the CTOC lacks the top-level and ordered flags")
    in_time_order = [c.element_id for c in sorted(chaps, key=lambda c: c.start_time)]
    if list(toc.child_element_ids) != in_time_order:
        found.add(rel, "chapters", "the CTOC does not list the CHAP frames in time order")


def check_tiling(found: Findings, rel: str, chapters: Sequence[Chapter], seconds: float | None) -> None:
    """CHAP times tile the audio: from 0, each starting where the one before ends, to the end."""
    previous_end = 0
    for n, ch in enumerate(chapters, start=1):
        start, end = round(ch.start * 1000), round(ch.end * 1000)
        if start != previous_end:
            before = f"chapter {n - 1} ends at {previous_end / 1000:.3f} s" if n > 1 else "it must be 0"
            found.add(rel, "chapters", f"ID3 chapter {n} ({ch.title!r}) starts at {start / 1000:.3f} s, "
                      f"but {before}; chapters must be contiguous")
        if end <= start:
            found.add(rel, "chapters", f"ID3 chapter {n} ({ch.title!r}) ends at or before its start")
        previous_end = end
    if chapters and seconds is not None and abs(previous_end / 1000 - seconds) > FRAME_SECONDS:
        found.add(rel, "chapters", f"the last ID3 chapter ends at {previous_end / 1000:.3f} s, but the "
                  f"audio is {seconds:.3f} s long; {FIX_BUILD}")


def check_chapters_json(found: Findings, item: Any, where: str, seconds: float | None,
                        id3: Sequence[Chapter]) -> None:
    """The item's <podcast:chapters> and the chapters.json it names, against the ID3 chapters."""
    el = item.find("podcast:chapters", NS)
    if el is None:
        found.feed(f"{where} has no <podcast:chapters>", "chapters")
        return
    if el.get("type") != CHAPTERS_JSON_TYPE:
        found.feed(f"{where} <podcast:chapters type={el.get('type')!r}>; "
                   f"it must be {CHAPTERS_JSON_TYPE!r}", "chapters")
    path = found.file_of(el.get("url", ""), f"{where} <podcast:chapters>")
    if path is None:
        return
    chapters = _read_chapters_json(found, path)
    if chapters is not None:
        rel = found.rel(path)
        _starts(found, rel, "chapter", [c.start for c in chapters], seconds)
        _same_chapters(found, rel, chapters, id3)


def _read_chapters_json(found: Findings, path: Path) -> list[Chapter] | None:
    """The chapters of a chapters.json; None after reporting why it has none."""
    rel = found.rel(path)
    data = load_json(path)
    if not isinstance(data, dict) or not isinstance(data.get("chapters"), list):
        found.add(rel, "chapters", "is not a chapters JSON object with a \"chapters\" list")
        return None
    if data.get("version") != CHAPTERS_VERSION:
        found.add(rel, "chapters", f"version is {data.get('version')!r}; it must be {CHAPTERS_VERSION!r}")
    chapters: list[Chapter] = []
    for n, entry in enumerate(data["chapters"], start=1):
        entry = entry if isinstance(entry, dict) else {}
        start, title = entry.get("startTime"), entry.get("title")
        if isinstance(start, bool) or not isinstance(start, int | float) or not isinstance(title, str):
            found.add(rel, "chapters", f"chapter {n} needs a number startTime and a title")
            return None
        chapters.append(Chapter(title, float(start), float(start), str(entry.get("url", ""))))
    return chapters


def check_psc(found: Findings, item: Any, where: str, seconds: float | None, id3: Sequence[Chapter]) -> None:
    """The item's Podlove Simple Chapters, against the ID3 chapters."""
    el = item.find("psc:chapters", NS)
    if el is None:
        found.feed(f"{where} has no <psc:chapters> (gPodder reads chapters only from them)", "chapters")
        return
    if el.get("version") != PSC_VERSION:
        found.feed(f"{where} <psc:chapters version={el.get('version')!r}>; it must be {PSC_VERSION!r}",
                   "chapters")
    chapters = []
    for ch in el.findall("psc:chapter", NS):
        start = npt_seconds(ch.get("start", ""))
        if start is None:
            found.feed(f"{where} <psc:chapter start={ch.get('start')!r}> is not a time like 00:01:35.500",
                       "chapters")
            return
        chapters.append(Chapter(ch.get("title", ""), start, start, ch.get("href", "")))
    _starts(found, FEED_PATH, f"{where} psc:chapter", [c.start for c in chapters], seconds)
    _same_chapters(found, FEED_PATH, chapters, id3, f"{where} <psc:chapters>")


def _starts(found: Findings, file: str, what: str, starts: Sequence[float], seconds: float | None) -> None:
    if not starts:
        found.add(file, "chapters", f"{what}s: there are none; {FIX_BUILD}")
        return
    if starts[0] != 0:
        found.add(file, "chapters", f"the first {what} starts at {starts[0]:g} s, not at 0")
    for n, (a, b) in enumerate(itertools.pairwise(starts), start=2):
        if b <= a:
            found.add(file, "chapters", f"{what} {n} starts at {b:g} s, not after the one before ({a:g} s)")
    if seconds is not None and starts[-1] >= seconds:
        found.add(file, "chapters", f"the last {what} starts at {starts[-1]:g} s, past the audio's end "
                  f"({seconds:.3f} s)")


def _same_chapters(found: Findings, file: str, chapters: Sequence[Chapter], id3: Sequence[Chapter],
                   what: str = "these chapters") -> None:
    """Chapters written beside the audio must say what its ID3 chapters say (titles, starts, links)."""
    if not id3:
        return
    if len(chapters) != len(id3):
        found.add(file, "chapters", f"{what}: {len(chapters)} chapters, but the MP3 has {len(id3)}; "
                  "publish again")
        return
    for n, (mine, tagged) in enumerate(zip(chapters, id3, strict=True), start=1):
        if (abs(mine.start - tagged.start) > CHAPTER_MATCH_SLACK or mine.title != xml_text(tagged.title)
                or mine.url != tagged.url):
            found.add(file, "chapters", f"{what}: chapter {n} ({mine.title!r} at {mine.start:g} s) differs "
                      f"from the MP3's ({tagged.title!r} at {tagged.start:g} s); {FIX_BUILD}")
            return


def npt_seconds(npt: str) -> float | None:
    """Seconds of a Normal Play Time like '00:01:35.500' or '95.5'; None if it is not one.

    >>> npt_seconds("01:02:03.5")
    3723.5
    >>> npt_seconds("1:35") is None
    False
    >>> npt_seconds("soon") is None
    True
    """
    m = _NPT.fullmatch(npt.strip())
    if not m:
        return None
    parts = [int(p) if p else 0 for p in m.groups()[:3]]
    hours, minutes, secs = parts if m.group(2) else (0, parts[0], parts[2])
    return hours * 3600 + minutes * 60 + secs + int((m.group(4) or "0").ljust(3, "0")) / 1000
