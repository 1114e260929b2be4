"""Transcripts (WebVTT, SRT, Podcasting 2.0 JSON) and chapters.json, from known speech timings.

Pure functions over `Cue` and `Chapter`: the mix stage knows exactly when each sentence was
spoken, so cues come from those timings rather than from speech recognition. Every cue fits in
two lines of at most 65 characters, speaker tag included, in both VTT and SRT.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Iterator, Sequence

from podcast.errors import InputError
from podcast.models import Chapter, Cue

LINE_CHARS = 65
"""Longest transcript line, counting the speaker tag and VTT character escapes."""
CUE_LINES = 2
MIN_CUE = 0.001
"""Shortest cue (s): a sentence timed with no length still gets a visible, forward-moving cue."""

TRANSCRIPT_JSON_VERSION = "1.0.0"
CHAPTERS_JSON_VERSION = "1.2.0"

_VTT_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


# --- cues -----------------------------------------------------------------------------------------


def make_cues(sentences: Sequence[tuple[float, float, str, str]]) -> list[Cue]:
    """Cues from (start, end, speaker name, text) sentences, as timed in the synthesized audio.

    A sentence too long for one cue is split at word boundaries into pieces of similar length, its
    time divided in proportion to characters. A sentence with no text continues the one before
    (the voice said a written sentence in two pieces): its time is added to that one's. Times are
    rounded to milliseconds, cues never overlap or go backwards, and each lasts at least 1 ms
    (later cues shift by that much at most).
    """
    cues: list[Cue] = []
    clock = 0.0
    for start, end, speaker, text in _joined(sentences):
        words = _split_long_words(text.split())
        if not words:
            continue
        pieces = _split_to_fit(speaker, words)
        begin = max(_ms(start), clock)
        finish = _ms(max(end, begin + MIN_CUE * len(pieces)))
        for piece, (t0, t1) in zip(pieces, _divide(begin, finish, [len(p) for p in pieces]), strict=True):
            cues.append(Cue(start=t0, end=t1, speaker=speaker, text=piece))
        clock = finish
    return cues


def _joined(sentences: Sequence[tuple[float, float, str, str]]) -> list[tuple[float, float, str, str]]:
    """The sentences with each textless one's time added to the sentence before it (same speaker).

    >>> _joined([(0.0, 1.0, "Ada", "A long sentence."), (1.2, 2.0, "Ada", ""), (2.5, 3.0, "Bo", "")])
    [(0.0, 2.0, 'Ada', 'A long sentence.'), (2.5, 3.0, 'Bo', '')]
    """
    out: list[tuple[float, float, str, str]] = []
    for start, end, speaker, text in sentences:
        if not text.split() and out and out[-1][2] == speaker and out[-1][3].split():
            out[-1] = (out[-1][0], max(end, out[-1][1]), speaker, out[-1][3])
        else:
            out.append((start, end, speaker, text))
    return out


def _split_long_words(words: list[str]) -> list[str]:
    """Cut any 'word' longer than a line (a pasted hash or URL) so no line can overflow."""
    out: list[str] = []
    for w in words:
        out.extend(w[i : i + LINE_CHARS] for i in range(0, len(w), LINE_CHARS))
    return out


def _fits(speaker: str, words: Sequence[str]) -> bool:
    # The VTT tag "<v Name>" is longer than SRT's "Name: ", and greedy wrapping is monotone in
    # the first line's room, so a cue that fits in VTT also fits in SRT.
    return len(_vtt_lines(speaker, " ".join(words))) <= CUE_LINES


def _split_to_fit(speaker: str, words: list[str]) -> list[str]:
    """Split words into the fewest cues that fit, balanced so the last is not a lone word."""
    if _fits(speaker, words):
        return [" ".join(words)]
    greedy = _greedy_pieces(words, lambda piece: _fits(speaker, piece))
    # Aim each piece at an equal share of the text, with some slack for word boundaries.
    target = sum(len(w) + 1 for w in words) / len(greedy) + 8
    balanced = _greedy_pieces(words, lambda piece: _fits(speaker, piece) and len(" ".join(piece)) <= target)
    pieces = balanced if len(balanced) == len(greedy) else greedy
    return [" ".join(p) for p in pieces]


def _greedy_pieces(words: list[str], ok: Callable[[list[str]], bool]) -> list[list[str]]:
    pieces: list[list[str]] = [[]]
    for w in words:
        if pieces[-1] and not ok([*pieces[-1], w]):
            pieces.append([])
        pieces[-1].append(w)
    return pieces


def _divide(start: float, end: float, weights: Sequence[int]) -> Iterator[tuple[float, float]]:
    """Consecutive (start, end) spans of [start, end] proportional to weights, each >= MIN_CUE."""
    total = sum(weights)
    t0 = start
    done = 0
    for i, w in enumerate(weights):
        done += w
        left = len(weights) - 1 - i  # pieces still to place, each needing MIN_CUE
        t1 = end if left == 0 else _ms(start + (end - start) * done / total)
        t1 = min(max(t1, t0 + MIN_CUE), end - left * MIN_CUE)
        yield _ms(t0), _ms(t1)
        t0 = t1


def _ms(seconds: float) -> float:
    return round(seconds * 1000) / 1000


# --- wrapping ---------------------------------------------------------------------------------------


def _wrap(tokens: Sequence[tuple[str, str]], width: int = LINE_CHARS) -> list[str]:
    """Greedy wrap of (glue, token) pairs; glue joins a token to the one before on the same line."""
    lines: list[str] = []
    line = ""
    for glue, token in tokens:
        if not line:
            line = token
        elif len(line) + len(glue) + len(token) <= width:
            line += glue + token
        else:
            lines.append(line)
            line = token
    if line:
        lines.append(line)
    return lines


def _vtt_lines(speaker: str, text: str) -> list[str]:
    tokens = [(" ", w.translate(_VTT_ESCAPES)) for w in text.split()]
    if speaker:
        # No space after the voice tag: it would become part of the cue text.
        if tokens:
            tokens[0] = ("", tokens[0][1])
        tokens.insert(0, ("", f"<v {speaker.translate(_VTT_ESCAPES)}>"))
    return _wrap(tokens)


def _srt_lines(speaker: str, text: str) -> list[str]:
    tokens = [(" ", w) for w in text.split()]
    if speaker:
        tokens.insert(0, (" ", f"{speaker}:"))
    return _wrap(tokens)


# --- writers ----------------------------------------------------------------------------------------


def vtt_timestamp(seconds: float) -> str:
    """WebVTT time: hours always present, milliseconds after a dot.

    >>> vtt_timestamp(0)
    '00:00:00.000'
    >>> vtt_timestamp(3725.0456)
    '01:02:05.046'
    """
    h, m, s, ms = _clock(seconds)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


def srt_timestamp(seconds: float) -> str:
    """SubRip time: milliseconds after a comma.

    >>> srt_timestamp(59.9996)
    '00:01:00,000'
    >>> srt_timestamp(36000.5)
    '10:00:00,500'
    """
    h, m, s, ms = _clock(seconds)
    return f"{h:02d}:{m:02d}:{s:02d},{ms:03d}"


def _clock(seconds: float) -> tuple[int, int, int, int]:
    total_ms = max(0, round(seconds * 1000))
    s, ms = divmod(total_ms, 1000)
    m, s = divmod(s, 60)
    h, m = divmod(m, 60)
    return h, m, s, ms


def to_vtt(cues: Sequence[Cue]) -> str:
    """A WebVTT file: `WEBVTT`, a blank line, then one block per cue with a `<v Name>` voice span."""
    blocks = []
    for cue in cues:
        timing = f"{vtt_timestamp(cue.start)} --> {vtt_timestamp(cue.end)}"
        blocks.append("\n".join([timing, *_vtt_lines(cue.speaker, cue.text)]) + "\n")
    return "WEBVTT\n\n" + "\n".join(blocks)


def to_srt(cues: Sequence[Cue]) -> str:
    """A SubRip file: cues numbered from 1, `Name: ` before the text, a blank line between cues."""
    blocks = []
    for n, cue in enumerate(cues, start=1):
        timing = f"{srt_timestamp(cue.start)} --> {srt_timestamp(cue.end)}"
        blocks.append("\n".join([str(n), timing, *_srt_lines(cue.speaker, cue.text)]))
    return "\n\n".join(blocks) + "\n" if blocks else ""


def to_json(cues: Sequence[Cue]) -> str:
    """A Podcasting 2.0 JSON transcript (version 1.0.0), one segment per cue."""
    segments = [
        {"speaker": c.speaker, "startTime": _seconds(c.start), "endTime": _seconds(c.end), "body": c.text}
        for c in cues
    ]
    return _dump({"version": TRANSCRIPT_JSON_VERSION, "segments": segments})


def chapters_json(chapters: Sequence[Chapter]) -> str:
    """Podcasting 2.0 chapters (version 1.2.0): startTime in seconds, title, and url when set."""
    entries: list[dict[str, object]] = []
    for ch in chapters:
        entry: dict[str, object] = {"startTime": _seconds(ch.start), "title": ch.title}
        if ch.url:
            entry["url"] = ch.url
        entries.append(entry)
    return _dump({"version": CHAPTERS_JSON_VERSION, "chapters": entries})


def _seconds(t: float) -> int | float:
    """Seconds to the millisecond; whole numbers as ints so the JSON reads `0`, not `0.0`."""
    r = round(t, 3)
    return int(r) if r == int(r) else r


def _dump(obj: object) -> str:
    return json.dumps(obj, indent=2, ensure_ascii=False) + "\n"


# --- parsers ----------------------------------------------------------------------------------------

_VTT_TIME = r"(?:(\d{2,}):)?([0-5]\d):([0-5]\d)\.(\d{3})"
_VTT_TIMING = re.compile(rf"^{_VTT_TIME}[ \t]+-->[ \t]+{_VTT_TIME}(?:[ \t]+.*)?$")
_SRT_TIME = r"(\d{2,}):([0-5]\d):([0-5]\d),(\d{3})"
_SRT_TIMING = re.compile(rf"^{_SRT_TIME} --> {_SRT_TIME}$")
_VOICE = re.compile(r"^<v(?:\.[^\s>]+)*[ \t]+([^>]*)>")
_TAG = re.compile(r"<[^>]*>")


class TranscriptError(InputError):
    """A transcript file is malformed at a line: `line` and `reason` say where and what to fix."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: {reason}")
        self.line = line
        """1-based number of the offending line."""
        self.reason = reason


def parse_vtt(text: str) -> list[Cue]:
    """Cues of a WebVTT file; TranscriptError (an InputError) naming the line when it is malformed.

    Besides syntax it rejects a cue that ends at or before its start, or starts before the one
    it follows (WebVTT requires cues in start-time order).
    """
    lines = _lines(text)
    if not re.match(r"^WEBVTT(?:[ \t].*)?$", lines[0]):
        raise TranscriptError(1, "a WebVTT file must start with 'WEBVTT'")
    (header_line, header), *blocks = _blocks(lines)
    for i, line in enumerate(header, start=header_line):
        if "-->" in line:
            raise TranscriptError(i, "put a blank line between the WEBVTT header and the first cue")
    cues: list[Cue] = []
    for first, block in blocks:
        if block[0].startswith(("NOTE", "STYLE", "REGION")) and "-->" not in block[0]:
            continue
        # An optional cue identifier line comes before the timing line.
        skip = 0 if "-->" in block[0] else 1
        if skip == len(block):
            raise TranscriptError(first, f"cue {block[0]!r} has no timing line; add one or delete it")
        timing, n = block[skip], first + skip
        m = _VTT_TIMING.match(timing)
        if not m:
            raise TranscriptError(n, f"bad cue timing {timing!r}; want 'hh:mm:ss.ttt --> hh:mm:ss.ttt'")
        speaker, body = _vtt_text(block[skip + 1 :])
        cues.append(_checked_cue(n, m.groups(), speaker, body, cues))
    return cues


def parse_srt(text: str) -> list[Cue]:
    """Cues of a SubRip file numbered 1..N; TranscriptError naming the line when it is malformed.

    A first line "Name: text" gives the cue's speaker. Like parse_vtt it rejects a cue that ends
    at or before its start, or starts before the one it follows.
    """
    cues: list[Cue] = []
    for first, block in _blocks(_lines(text)):
        expected = len(cues) + 1
        if block[0].strip() != str(expected):
            raise TranscriptError(first, f"expected cue number {expected}, got {block[0]!r}")
        timing = block[1].strip() if len(block) > 1 else ""
        m = _SRT_TIMING.match(timing)
        if not m:
            raise TranscriptError(
                first + 1, f"bad cue timing {timing!r}; want 'HH:MM:SS,mmm --> HH:MM:SS,mmm'"
            )
        if len(block) < 3:
            raise TranscriptError(first + 1, f"cue {expected} has no text; add it or delete the cue")
        speaker, body = _srt_text(block[2:])
        cues.append(_checked_cue(first + 1, m.groups(), speaker, body, cues))
    return cues


def long_lines(text: str, limit: int = LINE_CHARS) -> list[int]:
    """1-based numbers of the lines of `text` longer than `limit` characters.

    >>> long_lines("WEBVTT\\n\\n" + "x" * 66)
    [3]
    """
    return [i for i, line in enumerate(text.splitlines(), start=1) if len(line) > limit]


def _blocks(lines: list[str]) -> Iterator[tuple[int, list[str]]]:
    """Runs of non-blank lines with the 1-based number of each run's first line."""
    block: list[str] = []
    first = 0
    for i, line in enumerate(lines, start=1):
        if line.strip():
            if not block:
                first = i
            block.append(line)
        elif block:
            yield first, block
            block = []
    if block:
        yield first, block


def _time(parts: Sequence[str | None]) -> float:
    h, m, s, ms = (int(p or 0) for p in parts)
    return (((h * 60 + m) * 60 + s) * 1000 + ms) / 1000  # whole ms first: 7.544, not 7.5440000000000005


def _vtt_text(lines: Sequence[str]) -> tuple[str, str]:
    raw = " ".join(lines)
    voice = _VOICE.match(raw)
    speaker = html.unescape(voice.group(1).strip()) if voice else ""
    return speaker, html.unescape(_TAG.sub("", raw)).strip()


def _srt_text(lines: Sequence[str]) -> tuple[str, str]:
    raw = " ".join(line.strip() for line in lines)
    speaker, sep, body = raw.partition(": ")
    return (speaker, body) if sep and speaker else ("", raw)


def _lines(text: str) -> list[str]:
    return text.removeprefix("\ufeff").replace("\r\n", "\n").split("\n")


def _checked_cue(line: int, times: Sequence[str | None], speaker: str, text: str, before: list[Cue]) -> Cue:
    """A parsed cue, after checking its timing line (number `line`) against the cues before it."""
    start, end = _time(times[:4]), _time(times[4:])
    if end <= start:
        raise TranscriptError(line, "cue ends at or before its start; make the end later")
    if before and start < before[-1].start:
        raise TranscriptError(line, "cue starts before the previous cue; keep cues in time order")
    return Cue(start=start, end=end, speaker=speaker, text=text)
