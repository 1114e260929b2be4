"""Lay out a section's spoken lines with pauses, level and limit them, and know where every sentence is.

Audio is built as a list of numpy arrays joined once (never `+=` on a growing segment, which copies
the whole episode per append), so a section costs time linear in its length.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from podcast.config import AudioSettings
from podcast.master import SAMPLE_RATE, level, limit, resample


@dataclass(frozen=True)
class SpokenLine:
    """One script line as the voice said it: native-rate samples and each sentence's span."""

    speaker: str
    rate: int
    audio: np.ndarray
    spans: tuple[tuple[int, int], ...]
    """(start, end) sample offsets of each sentence in `audio`."""
    texts: tuple[str, ...]
    """The sentences as written in the script, one per span."""


@dataclass(frozen=True)
class TimedSentence:
    start: float
    end: float
    speaker: str
    """Voice profile id."""
    text: str


def join_sentences(
    clips: Sequence[np.ndarray], rate: int, pause: float
) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Concatenate sentence clips with `pause` seconds between them; return audio and spans.

    >>> a, spans = join_sentences([np.ones(3), np.ones(2)], 10, 0.2)
    >>> len(a), spans
    (7, [(0, 3), (5, 7)])
    """
    gap = np.zeros(round(pause * rate), np.float32)
    parts: list[np.ndarray] = []
    spans: list[tuple[int, int]] = []
    pos = 0
    for i, clip in enumerate(clips):
        if i:
            parts.append(gap)
            pos += len(gap)
        parts.append(np.asarray(clip, np.float32))
        spans.append((pos, pos + len(clip)))
        pos += len(clip)
    audio = np.concatenate(parts) if parts else np.zeros(0, np.float32)
    return audio, spans


def master_line(line: SpokenLine, settings: AudioSettings) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Level a line to the loudness target, resample to 44.1 kHz, limit its true peak."""
    audio = resample(level(line.audio, line.rate, settings.loudness), line.rate)
    # Limiting takes a little loudness off peaky speech: level once more and limit again.
    audio = limit(level(limit(audio, settings.true_peak), SAMPLE_RATE, settings.loudness), settings.true_peak)
    scale = SAMPLE_RATE / line.rate
    spans = [(round(a * scale), min(len(audio), round(b * scale))) for a, b in line.spans]
    return audio, spans


def mix_section(
    lines: Sequence[SpokenLine], settings: AudioSettings, *, lead: float = 0.0, tail: float | None = None
) -> tuple[np.ndarray, list[TimedSentence]]:
    """A section's audio at 44.1 kHz and its sentences' times (seconds from the section's start).

    `lead` is silence before the first word; `tail` the silence after the last (default: the
    section pause). Between lines of different speakers, or paragraphs, is the line pause.
    """
    tail = settings.section_pause if tail is None else tail
    parts: list[np.ndarray] = [np.zeros(int(lead * SAMPLE_RATE), np.float32)]
    pos = len(parts[0])
    timed: list[TimedSentence] = []
    gap = np.zeros(int(settings.line_pause * SAMPLE_RATE), np.float32)
    for i, line in enumerate(lines):
        if i:
            parts.append(gap)
            pos += len(gap)
        audio, spans = master_line(line, settings)
        for (a, b), text in zip(spans, line.texts, strict=True):
            if b > a:
                timed.append(
                    TimedSentence((pos + a) / SAMPLE_RATE, (pos + b) / SAMPLE_RATE, line.speaker, text)
                )
        parts.append(audio)
        pos += len(audio)
    parts.append(np.zeros(int(tail * SAMPLE_RATE), np.float32))
    return np.concatenate(parts), timed
