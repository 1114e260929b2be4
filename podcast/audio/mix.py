"""Lay out a section's spoken lines with pauses, level and limit them, and know where every sentence is.

Audio is built as a list of numpy arrays joined once (never `+=` on a growing segment, which copies
the whole episode per append), so a section costs time linear in its length.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from podcast.audio.clips import SAMPLE_RATE, Music, SpokenLine, TimedSentence
from podcast.audio.dsp import maximum_filter1d, uniform_filter1d
from podcast.audio.master import level, limit, resample
from podcast.settings import AudioSettings


def master_line(line: SpokenLine, settings: AudioSettings) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Level a line to the loudness target and limit its true peak, then resample to 44.1 kHz.

    Mastering runs at the voice's own rate (about half the samples): the true peak of a
    band-limited signal does not change with the rate it is sampled at, and the limiter keeps a
    margin below the ceiling.
    """
    rate, target, ceiling = line.rate, settings.loudness, settings.true_peak
    audio = limit(level(line.audio, rate, target), ceiling, rate)
    # Limiting takes a little loudness off peaky speech: level once more and limit again.
    audio = resample(limit(level(audio, rate, target), ceiling, rate), rate)
    scale = SAMPLE_RATE / line.rate
    spans = [(round(a * scale), min(len(audio), round(b * scale))) for a, b in line.spans]
    return audio, spans


def mix_section(
    lines: Sequence[SpokenLine],
    settings: AudioSettings,
    *,
    lead: float = 0.0,
    tail: float | None = None,
    music: Music | None = None,
) -> tuple[np.ndarray, list[TimedSentence]]:
    """A section's audio at 44.1 kHz and its sentences' times (seconds from the section's start).

    `lead` is silence before the first word; `tail` the silence after the last (default: the
    section pause). Between lines of different speakers, or paragraphs, is the line pause.
    A music cue lengthens the lead or the tail to be heard on its own, and is mixed in.
    """
    music_lead, music_tail = music_layout(music, settings)
    lead = max(lead, music_lead)
    tail = settings.section_pause if tail is None else tail
    tail = max(tail, music_tail or 0.0)
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
    audio = np.concatenate(parts)
    if music is not None:
        audio = add_music(audio, music, settings)
    return audio, timed


# -- music ---------------------------------------------------------------------------------------

MUSIC_SOLO_LU = -4.0
"""Music heard on its own (before the first word, after the last) sits this far below the voice."""
INTRO_MUSIC_LEAD = 4.0
"""Seconds of music before the host's first word."""
OUTRO_MUSIC_TAIL = 5.0
"""Seconds of music after the host's last word."""
STINGER_GAP = 0.35


def music_layout(music: Music | None, settings: AudioSettings) -> tuple[float, float | None]:
    """(lead, tail) silence a section needs so its music can be heard on its own."""
    if music is None:
        return 0.0, None
    if music.role == "intro":
        return INTRO_MUSIC_LEAD, None
    if music.role == "outro":
        return 0.0, OUTRO_MUSIC_TAIL
    return len(music.audio) / SAMPLE_RATE + STINGER_GAP, None


def add_music(voice: np.ndarray, music: Music, settings: AudioSettings) -> np.ndarray:
    """Mix a cue under (or before) the voice: the bed loops, ducks while anyone speaks, and fades."""
    solo = level(music.audio, SAMPLE_RATE, settings.loudness + MUSIC_SOLO_LU)
    n = len(voice)
    if music.role == "stinger":
        bed = np.zeros(n, np.float32)
        bed[: min(n, len(solo))] = solo[:n]
        return limit(voice + bed, settings.true_peak)
    bed = _loop(solo, n)
    gain = _duck_gain(voice, settings.music_gain - MUSIC_SOLO_LU)
    fade = np.ones(n, np.float32)
    ramp_in, ramp_out = int(0.05 * SAMPLE_RATE), min(n, int(2.5 * SAMPLE_RATE))
    fade[:ramp_in] = np.linspace(0, 1, ramp_in)
    fade[n - ramp_out :] *= np.linspace(1, 0, ramp_out) ** 2
    return limit(voice + bed * gain * fade, settings.true_peak)


def _loop(audio: np.ndarray, n: int, crossfade: float = 0.5) -> np.ndarray:
    """`audio` repeated to n samples, each repeat cross-faded into the next."""
    if len(audio) >= n:
        return audio[:n].copy()
    x = int(crossfade * SAMPLE_RATE)
    ramp = np.linspace(0, 1, x, dtype=np.float32)
    out = np.zeros(n + len(audio), np.float32)
    pos = 0
    while pos < n:
        piece = audio.copy()
        if pos:
            piece[:x] *= ramp
            out[pos : pos + x] *= 1 - ramp
        out[pos : pos + len(piece)] += piece
        pos += len(audio) - x
    return out[:n]


def _duck_gain(voice: np.ndarray, duck_db: float) -> np.ndarray:
    """1 where nobody speaks, 10^(duck_db/20) while someone does, with smooth ramps around speech."""
    power = uniform_filter1d(voice.astype(np.float32) ** 2, int(0.05 * SAMPLE_RATE))
    speaking = (power > 10 ** (-55 / 10)).astype(np.float32)
    # Duck a little before the first word and hold through the short pauses between sentences.
    speaking = maximum_filter1d(speaking, int(0.8 * SAMPLE_RATE))
    gain = 1 + (10 ** (duck_db / 20) - 1) * speaking
    return uniform_filter1d(gain, int(0.3 * SAMPLE_RATE)).astype(np.float32)
