"""The show's own music, synthesized in code so its licence is ours: a soft bed and a stinger.

    python -m podcast.audio.music music/     # writes music/bed.mp3 and music/stinger.mp3

The bed is a slow I-vi-IV-V progression of warm pads under a quiet arpeggio, made to sit under
speech; the stinger is a short rising chime between papers. Both are deterministic.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from podcast.audio.master import SAMPLE_RATE

# C major, I-vi-IV-V: (root MIDI note, chord tones as semitones above it)
PROGRESSION = ((48, (0, 4, 7, 12)), (45, (0, 3, 7, 12)), (41, (0, 4, 7, 12)), (43, (0, 4, 7, 10)))


def _hz(midi: float) -> float:
    return 440.0 * 2 ** ((midi - 69) / 12)


def _envelope(n: int, attack: float, release: float) -> np.ndarray:
    t = np.arange(n) / SAMPLE_RATE
    up = np.clip(t / attack, 0, 1)
    down = np.clip((n / SAMPLE_RATE - t) / release, 0, 1)
    return (up * down) ** 2


def _tone(freq: float, n: int, harmonics: tuple[float, ...], detune: float = 0.0) -> np.ndarray:
    t = np.arange(n) / SAMPLE_RATE
    out = np.zeros(n)
    for k, amp in enumerate(harmonics, 1):
        out += amp * np.sin(2 * np.pi * freq * k * t * (1 + detune))
    return out


def make_bed(bars: int = 8, bar_seconds: float = 2.0) -> np.ndarray:
    """A loopable bed: `bars` bars of pads and arpeggio, peak-normalized to -6 dBFS."""
    n_bar = int(bar_seconds * SAMPLE_RATE)
    out = np.zeros(n_bar * bars)
    for b in range(bars):
        root, tones = PROGRESSION[b % len(PROGRESSION)]
        start = b * n_bar
        pad = sum(
            _tone(_hz(root + 12 + s), n_bar, (1.0, 0.3, 0.1), d) for s in tones for d in (-0.002, 0.002)
        )
        out[start : start + n_bar] += 0.12 * pad * _envelope(n_bar, 0.6, 0.6)
        out[start : start + n_bar] += 0.25 * _tone(_hz(root), n_bar, (1.0, 0.2)) * _envelope(n_bar, 0.2, 0.5)
        step = n_bar // 8
        for i in range(8):
            note = root + 24 + tones[i % len(tones)]
            pluck = _tone(_hz(note), step, (1.0, 0.5, 0.25)) * np.exp(-np.arange(step) / (0.12 * SAMPLE_RATE))
            out[start + i * step : start + (i + 1) * step] += 0.08 * pluck
    return (out / np.max(np.abs(out)) * 10 ** (-6 / 20)).astype(np.float32)


def make_stinger(seconds: float = 1.6) -> np.ndarray:
    """A rising four-note chime, peak-normalized to -6 dBFS."""
    n = int(seconds * SAMPLE_RATE)
    out = np.zeros(n)
    for i, note in enumerate((72, 76, 79, 84)):
        start = int(i * 0.09 * SAMPLE_RATE)
        m = n - start
        bell = _tone(_hz(note), m, (1.0, 0.0, 0.35, 0.0, 0.12)) * np.exp(-np.arange(m) / (0.35 * SAMPLE_RATE))
        out[start:] += bell * _envelope(m, 0.005, 0.3)
    return (out / np.max(np.abs(out)) * 10 ** (-6 / 20)).astype(np.float32)


def write(folder: Path) -> list[Path]:
    from podcast.audio.encode import encode_chunk
    from podcast.fsutil import write_bytes

    made = []
    for name, audio in (("bed.mp3", make_bed()), ("stinger.mp3", make_stinger())):
        write_bytes(folder / name, encode_chunk(audio, 128))
        made.append(folder / name)
    return made


if __name__ == "__main__":
    for path in write(Path(sys.argv[1] if len(sys.argv) > 1 else "music")):
        print(path)
