"""What the audio stages hand each other: spoken lines, timed sentences, music cues.

numpy only, on purpose: the synthesis workers import this and nothing of mastering, so a worker
process holds its voice model and little else.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

SAMPLE_RATE = 44_100
"""The rate of mastered sections, chunks and the episode."""


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

    def later(self, seconds: float) -> TimedSentence:
        """The same sentence `seconds` later (placed after what comes before it)."""
        return TimedSentence(self.start + seconds, self.end + seconds, self.speaker, self.text)


@dataclass(frozen=True)
class Music:
    """A music cue of a section: the bed under the intro or the outro, or the stinger before a paper."""

    role: str
    """"intro", "outro" or "stinger"."""
    audio: np.ndarray
    """Mono float32 at 44.1 kHz, as decoded from the show's file."""
    digest: str
    """Hash of the file, for the cache key."""


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


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    try:
        trim: Callable[[int], int] = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError, TypeError):  # not glibc (macOS, musl): nothing to trim
        return None
    return trim


def give_back_memory() -> None:
    """Return the heap's free pages to the system (glibc keeps them after large numpy arrays are
    freed, so a long render's processes would hold their largest line's memory to the end)."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
