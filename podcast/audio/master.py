"""Mastering DSP on mono float32 audio: loudness levelling and a true-peak limiter.

Loudness is ITU-R BS.1770 with pyloudnorm's K-weighting filters. A mono file is heard on two
speakers, so the listener's loudness is the mono measurement + 3 LU (EBU Tech 3344 "dual mono");
targets here are given as heard. Each utterance is levelled to the target on its own: the voices
then match each other, and the episode's integrated loudness equals the target without a second
pass over the whole file, which is what lets sections be mastered and encoded independently and
in parallel.

numpy only (the filters are in podcast.audio.dsp): scipy would cost the render parent about 100 MB.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from podcast.audio import dsp
from podcast.audio.clips import SAMPLE_RATE

DUAL_MONO_OFFSET = 3.0103
"""How much louder a mono signal measures when played on two speakers (10*log10(2))."""
TRUE_PEAK_MARGIN = 1.0
"""dB kept below the true-peak ceiling: MP3 encoding adds overshoots of a few tenths of a dB."""


def resample(audio: np.ndarray, rate: int, target: int = SAMPLE_RATE) -> np.ndarray:
    """Polyphase resampling (exact rational ratio, anti-aliased).

    >>> resample(np.ones(24000, np.float32), 24000).shape
    (44100,)
    """
    if rate == target:
        return audio.astype(np.float32, copy=False)
    g = math.gcd(rate, target)
    return dsp.resample_poly(audio, target // g, rate // g)


def loudness(
    audio: np.ndarray, rate: int, weigh: Callable[[np.ndarray], np.ndarray] | None = None
) -> float:
    """Integrated loudness (LUFS) of mono samples as measured on one channel; -inf for silence.

    ITU-R BS.1770-4 with pyloudnorm's K-weighting filters, computed in 10-second pieces carrying
    the filter state across them, so memory stays small however long the audio (pyloudnorm's own
    meter makes several float64 copies of the whole signal). Gating blocks are 400 ms with 75%
    overlap, built from 100 ms hops. `weigh` replaces the K-weighting filter (a stateful callable
    fed consecutive pieces), so tests can measure the same way with a reference filter.
    """
    if len(audio) < int(0.4 * rate):
        # BS.1770 gates in 400 ms blocks; repeating a short clip keeps its loudness and fills a block.
        reps = math.ceil(0.5 * rate / max(len(audio), 1))
        audio = np.tile(audio, reps)
    hop = rate // 10
    usable = len(audio) // hop * hop
    if not np.any(audio[:usable]):
        return float("-inf")
    weigh = weigh or dsp.k_weighter(rate)
    hops = []
    piece = 100 * hop
    for start in range(0, usable, piece):
        x = weigh(audio[start : min(usable, start + piece)])
        hops.append(np.mean(np.square(x).reshape(-1, hop), axis=1))
    power = np.concatenate(hops)
    blocks = np.convolve(power, np.full(4, 0.25), mode="valid")
    if len(blocks) == 0:
        return float("-inf")
    with np.errstate(divide="ignore"):
        block_lufs = -0.691 + 10 * np.log10(blocks)
    gated = blocks[block_lufs > -70.0]
    if len(gated) == 0:
        return float("-inf")
    relative = -0.691 + 10 * np.log10(np.mean(gated)) - 10.0
    gated = blocks[(block_lufs > -70.0) & (block_lufs > relative)]
    return float(-0.691 + 10 * np.log10(np.mean(gated)))


def level(audio: np.ndarray, rate: int, target_lufs: float) -> np.ndarray:
    """Gain `audio` so it measures `target_lufs` as heard on two speakers."""
    measured = loudness(audio, rate)
    if not math.isfinite(measured):
        return audio
    gain_db = (target_lufs - DUAL_MONO_OFFSET) - measured
    return (audio * np.float32(10 ** (gain_db / 20))).astype(np.float32)


def true_peak(audio: np.ndarray) -> float:
    """Peak of the 4x oversampled signal (BS.1770 annex 2), as a linear amplitude."""
    if len(audio) == 0:
        return 0.0
    return float(np.max(np.abs(dsp.resample_poly(audio, 4, 1))))


PEAK_BLOCK = 2048
HOT_FLOOR = 10 ** (-4 / 20)
"""Blocks whose sample peak is 4 dB or more below the ceiling are not oversampled: a band-limited
signal hides about 3 dB at most between its samples (a sine at a quarter of the rate, sampled at
45 degrees). Oversampling only the blocks above it costs a third less than from 6 dB below."""
_HALF = 40
"""Samples of context on each side of an oversampled run; the 4x filter reaches 10 of them."""


def oversampled_peaks(audio: np.ndarray, floor: float) -> np.ndarray:
    """Each sample's magnitude, raised to the 4x oversampled (true) peak where it could matter.

    Inter-sample peaks exceed the sample peak by a few dB at most, so only runs of blocks whose
    sample peak is above `floor` are oversampled: in levelled speech that is part of the signal,
    and oversampling is the limiter's main cost.
    """
    peaks = np.abs(audio)
    n = len(audio)
    blocks = -(-n // PEAK_BLOCK)
    block_max = np.pad(peaks, (0, blocks * PEAK_BLOCK - n)).reshape(blocks, PEAK_BLOCK).max(axis=1)
    hot = np.flatnonzero(block_max > floor)
    if len(hot) == 0:
        return peaks
    # Runs of consecutive hot blocks, each oversampled in one call.
    breaks = np.flatnonzero(np.diff(hot) > 1)
    for first, last in zip(np.r_[hot[0], hot[breaks + 1]], np.r_[hot[breaks], hot[-1]], strict=True):
        lo, hi = first * PEAK_BLOCK, min(n, (last + 1) * PEAK_BLOCK)
        a, b = max(0, lo - _HALF), min(n, hi + _HALF)
        over = np.abs(dsp.resample_poly(audio[a:b], 4, 1)).reshape(-1, 4).max(axis=1)
        peaks[lo:hi] = np.maximum(peaks[lo:hi], over[lo - a : hi - a])
    return peaks


def limit(
    audio: np.ndarray, ceiling_dbtp: float, rate: int = SAMPLE_RATE, window: float = 0.004
) -> np.ndarray:
    """A look-ahead true-peak limiter: never lets the 4x oversampled peak exceed the ceiling.

    The gain each sample needs is taken as the minimum over a window around it and then smoothed
    by a moving average of the same width. Any average of those minima is still at or below
    every requirement in reach, so peaks are held, and gain changes ramp over `window` seconds
    instead of clicking.
    """
    if len(audio) == 0:
        return audio
    ceiling = 10 ** ((ceiling_dbtp - TRUE_PEAK_MARGIN) / 20)
    peaks = oversampled_peaks(audio, ceiling * HOT_FLOOR)
    if peaks.max() <= ceiling:
        return audio
    need = np.minimum(1.0, ceiling / np.maximum(peaks, 1e-9))
    size = 2 * max(1, int(window * rate / 2)) + 1
    gain = dsp.uniform_filter1d(dsp.minimum_filter1d(need, size, mode="nearest"), size, mode="nearest")
    out = (audio * gain).astype(np.float32)
    # The average can sit a hair above the minimum in float rounding: clamp what remains.
    return np.clip(out, -ceiling, ceiling)
