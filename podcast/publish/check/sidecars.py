"""The files published beside the audio: transcripts, the cover art and the site's pages."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from podcast.episode import transcript
from podcast.episode.cover import CoverRejected, check_cover
from podcast.models import Cue
from podcast.publish.check.problems import FIX_BUILD, FRAME_SECONDS, NS, Findings

REQUIRED_TRANSCRIPTS = ("text/vtt", "application/x-subrip")
TRANSCRIPT_TYPES = frozenset({*REQUIRED_TRANSCRIPTS, "application/json", "text/html", "text/plain"})
TRANSCRIPT_JSON_VERSION = transcript.TRANSCRIPT_JSON_VERSION


def check_transcripts(found: Findings, item: Any, where: str, seconds: float | None) -> None:
    """The item's <podcast:transcript> links: VTT and SRT at least, each type once, each file sound."""
    links = item.findall("podcast:transcript", NS)
    types = Counter(el.get("type", "") for el in links)
    for kind in REQUIRED_TRANSCRIPTS:
        if not types[kind]:
            found.feed(f"{where} has no <podcast:transcript type={kind!r}>", "transcript")
    for kind, n in types.items():
        if n > 1:
            found.feed(f"{where} lists {n} transcripts of type {kind!r}; list each format once", "transcript")
        if kind not in TRANSCRIPT_TYPES:
            found.feed(f"{where} <podcast:transcript type={kind!r}> is not a transcript type apps read",
                       "transcript")
    for el in links:
        path = found.file_of(el.get("url", ""), f"{where} <podcast:transcript>")
        if path is not None:
            _transcript_file(found, path, el.get("type", ""), seconds)


def _transcript_file(found: Findings, path: Path, kind: str, seconds: float | None) -> None:
    rel = found.rel(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        found.add(rel, "transcript", "is not UTF-8 text")
        return
    except OSError as e:
        found.add(rel, "transcript", f"cannot be read ({e.strerror})")
        return
    cues = _cues(found, rel, kind, text)
    if cues is None:
        return
    if kind in REQUIRED_TRANSCRIPTS:
        long = transcript.long_lines(text)
        if long:
            shown = ", ".join(map(str, long[:5])) + (", ..." if len(long) > 5 else "")
            found.add(rel, "transcript", f"line {shown} {'is' if len(long) == 1 else 'are'} longer than "
                      f"{transcript.LINE_CHARS} characters; split the cues")
    if cues and seconds is not None and cues[-1].end > seconds + FRAME_SECONDS:
        found.add(rel, "transcript", f"cues run to {cues[-1].end:.3f} s, past the audio's end "
                  f"({seconds:.3f} s); {FIX_BUILD}")


def _cues(found: Findings, rel: str, kind: str, text: str) -> list[Cue] | None:
    """The cues of a transcript of MIME type `kind` (none for a type without timings); None after
    reporting why a file that should have them has none."""
    if kind == "application/json":
        return _json_cues(found, rel, text)
    parse = {"text/vtt": transcript.parse_vtt, "application/x-subrip": transcript.parse_srt}.get(kind)
    if parse is None:
        return []
    try:
        return parse(text)
    except transcript.TranscriptError as e:
        found.add(rel, "transcript", f"line {e.line}: {e.reason}")
        return None


def _json_cues(found: Findings, rel: str, text: str) -> list[Cue] | None:
    """The segments of a Podcasting 2.0 JSON transcript as cues; None after reporting why there are none."""
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if not isinstance(data, dict) or not isinstance(data.get("segments"), list):
        found.add(rel, "transcript", "is not a JSON transcript object with a \"segments\" list")
        return None
    if data.get("version") != TRANSCRIPT_JSON_VERSION:
        found.add(rel, "transcript", f"version is {data.get('version')!r}; it must be "
                  f"{TRANSCRIPT_JSON_VERSION!r}")
    cues = []
    for n, seg in enumerate(data["segments"], start=1):
        try:
            start, end, body = float(seg["startTime"]), float(seg["endTime"]), str(seg["body"])
        except (TypeError, KeyError, ValueError):
            found.add(rel, "transcript", f"segment {n} needs startTime, endTime and body")
            return None
        if end < start:
            found.add(rel, "transcript", f"segment {n} ends before it starts")
            return None
        cues.append(Cue(start, end, str(seg.get("speaker", "")), body))
    return cues


def check_cover_art(found: Findings, path: Path) -> None:
    """The channel's cover image: what Apple accepts (format, RGB, square, size)."""
    try:
        check_cover(path)
    except CoverRejected as e:
        found.add(found.rel(path), "cover", f"cover art {e.reason}")


def check_pages(found: Findings) -> None:
    """The home page exists (newsletter.xml is markup.py's)."""
    if not (found.root / "index.html").is_file():
        found.add("index.html", "page", "missing: the site has no home page; publish again")
