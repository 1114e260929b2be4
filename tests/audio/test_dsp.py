"""podcast.audio.dsp against what it replaces: scipy.signal, scipy.ndimage and pyloudnorm (test-time only).

Mastering must not change when the primitives move to numpy: each function is compared with its
scipy original on random and speech-like signals, edge cases included, and loudness with the
measurement of BS.1770 written in the test from the standard, and with pyloudnorm's meter.
"""

from __future__ import annotations

import itertools
import math
import subprocess
import sys
import tracemalloc

import numpy as np
import pytest
import scipy.ndimage as ndimage
import scipy.signal as signal
from pyloudnorm import Meter

from podcast.audio import dsp
from podcast.audio.master import SAMPLE_RATE, limit, loudness, oversampled_peaks, resample, true_peak
from podcast.audio.mix import _duck_gain

RATES = (16000, 22050, 24000, 44100, 48000)
LENGTHS = (0, 1, 2, 5, 17, 80, 81, 1001, 24001)


def speech_like(seconds: float, rate: int, seed: int = 0) -> np.ndarray:
    """Voiced syllables (a gliding pitch through vowel formants), hiss for fricatives, and pauses."""
    rng = np.random.default_rng(seed)
    n = round(seconds * rate)
    t = np.arange(n) / rate
    f0 = 125 + 25 * np.sin(2 * np.pi * 0.6 * t) + 10 * np.sin(2 * np.pi * 2.3 * t + 1)
    phase = 2 * np.pi * np.cumsum(f0) / rate
    voiced = np.zeros(n)
    for k in range(1, 40):
        hz = 150 * k
        if hz >= rate / 2 - 500:
            break
        # Formants near 500, 1500 and 2500 Hz over a spectrum falling 6 dB an octave.
        gain = sum(math.exp(-(((hz - f) / 200) ** 2)) for f in (500, 1500, 2500)) + 0.05
        voiced += gain / k * np.sin(k * phase + rng.uniform(0, 2 * np.pi))
    syllables = (0.5 + 0.5 * np.sin(2 * np.pi * 3.7 * t + rng.uniform(0, 6))) ** 2
    hiss = np.diff(rng.standard_normal(n + 1)) * (rng.random(n // 2000 + 1) < 0.2).repeat(2000)[:n]
    audio = voiced * syllables * 0.15 + hiss * 0.02
    # A pause every few seconds, as between sentences.
    for start in rng.integers(0, max(1, n - rate // 2), size=int(seconds // 3)):
        audio[start : start + rng.integers(rate // 5, rate // 2)] = 0.0
    return audio.astype(np.float32)


def noise(n: int, seed: int = 1) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal(n) * 0.3).astype(np.float32)


# -- firwin and resample_poly ----------------------------------------------------------------------


@pytest.mark.parametrize(("numtaps", "cutoff"), [(81, 1 / 4), (41, 1 / 2), (2941, 1 / 147), (8821, 1 / 441), (3, 0.9)])
def test_firwin_is_scipys_kaiser_design(numtaps: int, cutoff: float) -> None:
    ours = dsp.firwin(numtaps, cutoff, 5.0)
    theirs = signal.firwin(numtaps, cutoff, window=("kaiser", 5.0))
    assert np.max(np.abs(ours - theirs)) < 1e-12


@pytest.mark.parametrize(("up", "down"), [(2, 1), (147, 80), (441, 160), (4, 1), (147, 160), (160, 147), (3, 7), (1, 2), (441, 320)])
@pytest.mark.parametrize("n", LENGTHS)
def test_resample_poly_matches_scipy(up: int, down: int, n: int) -> None:
    x = noise(n)
    ours, theirs = dsp.resample_poly(x, up, down), signal.resample_poly(x, up, down)
    assert ours.dtype == np.float32 and ours.shape == theirs.shape
    if n:
        assert np.max(np.abs(ours - theirs)) < 1e-5


@pytest.mark.parametrize("rate", (*RATES, 32000, 11025, 8000))
def test_resampling_a_voice_to_44100_matches_scipy(rate: int) -> None:
    x = speech_like(3.3, rate)
    ours = resample(x, rate)
    g = math.gcd(rate, SAMPLE_RATE)
    theirs = signal.resample_poly(x, SAMPLE_RATE // g, rate // g).astype(np.float32)
    assert ours.dtype == np.float32 and ours.shape == theirs.shape
    assert np.max(np.abs(ours - theirs)) < 1e-5


def test_resample_poly_handles_a_long_line_in_pieces_and_odd_ratios() -> None:
    x = speech_like(25, 24000)  # longer than one chunk of matrix products
    assert np.max(np.abs(dsp.resample_poly(x, 147, 80) - signal.resample_poly(x, 147, 80))) < 1e-5
    short = noise(300)  # a ratio whose filter (2 x 44100 taps) is far longer than the signal
    theirs = signal.resample_poly(short, 44100, 44099)
    assert np.max(np.abs(dsp.resample_poly(short, 44100, 44099) - theirs)) < 1e-5
    x64 = noise(1000).astype(np.float64)
    assert dsp.resample_poly(x64, 2, 1).dtype == np.float32
    assert np.array_equal(dsp.resample_poly(x64, 3, 3), x64.astype(np.float32))


def test_true_peak_and_oversampled_peaks_match_scipys_upfirdn() -> None:
    x = speech_like(4, 24000) * 4
    assert true_peak(x) == pytest.approx(float(np.max(np.abs(signal.resample_poly(x, 4, 1)))), abs=1e-6)
    assert true_peak(x[:0]) == 0.0
    # The peaks the limiter sees, as the scipy version computed them (the old upfirdn code).
    fir = (signal.firwin(81, 1 / 4, window=("kaiser", 5.0)) * 4).astype(np.float32)
    expected = np.abs(x)
    floor = 0.2
    n, block = len(x), 2048
    for lo in range(0, n, block):
        hi = min(n, lo + block)
        if np.max(np.abs(x[lo:hi])) > floor:
            a, b = max(0, lo - 40), min(n, hi + 40)
            over = np.abs(signal.upfirdn(fir, x[a:b], up=4))[40:][: 4 * (b - a)].reshape(-1, 4).max(axis=1)
            expected[lo:hi] = np.maximum(expected[lo:hi], over[lo - a : hi - a])
    assert np.max(np.abs(oversampled_peaks(x, floor) - expected)) < 1e-6


# -- K-weighting and loudness ---------------------------------------------------------------------


@pytest.mark.parametrize("rate", (8000, 11025, *RATES, 32000, 96000))
def test_k_weighting_coefficients_are_pyloudnorms(rate: int) -> None:
    meter = Meter(rate)
    expected = [(meter._filters[k].b, meter._filters[k].a) for k in ("high_shelf", "high_pass")]
    for (b, a), (eb, ea) in zip(dsp.k_weighting(rate), expected, strict=True):
        assert np.max(np.abs(b - eb)) < 1e-12 and np.max(np.abs(a - ea)) < 1e-12


@pytest.mark.parametrize("rate", RATES)
def test_k_weighter_carries_state_like_lfilter(rate: int) -> None:
    x = speech_like(7, rate).astype(np.float64)
    x[: rate // 3] += 0.5  # a step: the high pass's slow tail crosses the piece boundaries
    expected = x
    for b, a in dsp.k_weighting(rate):
        expected = signal.lfilter(b, a, expected)
    weigh = dsp.k_weighter(rate)
    # Pieces shorter than the impulse response, empty, one sample, and longer than an FFT block.
    cuts = [0, 1, 1, 100, 2600, 2600, 60000, 60001, len(x)]
    ours = np.concatenate([weigh(x[a:b]) for a, b in itertools.pairwise(cuts)])
    assert ours.shape == x.shape
    assert np.max(np.abs(ours - expected)) < 1e-9 * np.max(np.abs(expected))


def reference_loudness(audio: np.ndarray, rate: int) -> float:
    """ITU-R BS.1770-4 integrated loudness, written from the standard and sharing no code with
    master.loudness: pyloudnorm's K-weighting coefficients applied by scipy.signal.lfilter to the
    whole signal in float64, then 400 ms blocks every 100 ms, the absolute gate at -70 LKFS and the
    relative gate 10 LU under the loudness of the blocks above it."""
    meter = Meter(rate)
    y = audio.astype(np.float64)
    for name in ("high_shelf", "high_pass"):
        y = signal.lfilter(meter._filters[name].b, meter._filters[name].a, y)
    size, step = round(0.4 * rate), round(0.1 * rate)
    powers = np.array([np.mean(y[j : j + size] ** 2) for j in range(0, len(y) - size + 1, step)])
    if len(powers) == 0 or not np.any(powers > 0):
        return float("-inf")
    with np.errstate(divide="ignore"):
        block_lkfs = -0.691 + 10 * np.log10(powers)
    above = powers[block_lkfs > -70]
    if len(above) == 0:
        return float("-inf")
    relative = -0.691 + 10 * np.log10(np.mean(above)) - 10
    return float(-0.691 + 10 * np.log10(np.mean(powers[(block_lkfs > -70) & (block_lkfs > relative)])))


def test_the_reference_meter_reads_the_standard_s_calibration_tone() -> None:
    """A 997 Hz sine at -20 dBFS RMS reads -20 LKFS (BS.1770's calibration), and the relative gate
    works: adding as long again 30 dB quieter moves it under 0.3 LU (ungated, the mean power would
    halve: -3 LU)."""
    rate = 48000
    t = np.arange(5 * rate) / rate
    tone = 10 ** (-20 / 20) * np.sqrt(2) * np.sin(2 * np.pi * 997 * t)
    assert reference_loudness(tone, rate) == pytest.approx(-20.0, abs=0.1)
    quiet = np.concatenate([tone, tone * 10 ** (-30 / 20)])
    assert reference_loudness(quiet, rate) == pytest.approx(reference_loudness(tone, rate), abs=0.3)


@pytest.mark.parametrize("rate", RATES)
@pytest.mark.parametrize("seconds", [0.05, 0.39, 1.0, 10.05, 23.7])
def test_loudness_matches_the_reference(rate: int, seconds: float) -> None:
    x = speech_like(seconds, rate, seed=round(seconds * 100))
    if seconds < 0.4:
        # A clip shorter than one gating block is measured repeated to fill one (documented).
        expected = reference_loudness(np.tile(x, math.ceil(0.5 * rate / len(x))), rate)
    else:
        expected = reference_loudness(x, rate)
    assert loudness(x, rate) == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize("rate", (22050, 24000, 44100))
def test_loudness_agrees_with_pyloudnorm(rate: int) -> None:
    x = speech_like(12, rate, seed=3)
    assert loudness(x, rate) == pytest.approx(Meter(rate).integrated_loudness(x.astype(np.float64)), abs=1e-3)


def test_loudness_of_silence_and_tiny_clips() -> None:
    assert loudness(np.zeros(48000, np.float32), 24000) == float("-inf")
    assert loudness(np.zeros(0, np.float32), 24000) == float("-inf")
    # Shorter than a block: measured as the clip repeated to fill one.
    tiny = np.full(10, 1e-6, np.float32)
    assert loudness(tiny, 24000) == pytest.approx(reference_loudness(np.tile(tiny, 1200), 24000), abs=1e-6)
    one = np.ones(1, np.float32)
    assert loudness(one, 24000) == pytest.approx(reference_loudness(np.tile(one, 12000), 24000), abs=1e-6)


def test_loudness_of_a_long_line_needs_little_memory() -> None:
    rate = 44100
    x = np.tile(speech_like(10, rate, seed=5), 30)  # 5 minutes
    tracemalloc.start()
    try:
        measured = loudness(x, rate)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 32 * 2**20, peak
    assert measured == pytest.approx(reference_loudness(x, rate), abs=1e-6)


# -- sliding-window filters -------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["nearest", "reflect"])
@pytest.mark.parametrize("size", [1, 2, 3, 4, 97, 2205])
@pytest.mark.parametrize("n", [0, 1, 2, 5, 96, 97, 98, 1001])
def test_window_filters_match_ndimage(mode: str, size: int, n: int) -> None:
    x = noise(n, seed=size + n)
    for ours, theirs in [
        (dsp.minimum_filter1d, ndimage.minimum_filter1d),
        (dsp.maximum_filter1d, ndimage.maximum_filter1d),
    ]:
        got, expected = ours(x, size, mode=mode), theirs(x, size, mode=mode)
        assert got.dtype == expected.dtype and np.array_equal(got, expected)
    got, expected = dsp.uniform_filter1d(x, size, mode=mode), ndimage.uniform_filter1d(x, size, mode=mode)
    assert got.dtype == expected.dtype and got.shape == expected.shape
    assert n == 0 or np.max(np.abs(got - expected)) < 1e-6


@pytest.mark.parametrize(("size", "mode"), [(97, "nearest"), (2205, "reflect"), (13230, "reflect"), (35280, "reflect")])
def test_window_filters_match_ndimage_across_chunks(size: int, mode: str) -> None:
    """The sizes mastering and ducking use, on a signal several chunks long."""
    x = speech_like(25, SAMPLE_RATE) ** 2
    assert len(x) > 4 * dsp._CHUNK
    for ours, theirs in [
        (dsp.minimum_filter1d, ndimage.minimum_filter1d),
        (dsp.maximum_filter1d, ndimage.maximum_filter1d),
    ]:
        assert np.array_equal(ours(x, size, mode=mode), theirs(x, size, mode=mode))
    assert np.max(np.abs(dsp.uniform_filter1d(x, size, mode=mode) - ndimage.uniform_filter1d(x, size, mode=mode))) < 1e-6


def test_window_filters_reject_what_they_do_not_do() -> None:
    with pytest.raises(ValueError, match="mode"):
        dsp.uniform_filter1d(np.ones(4), 3, mode="wrap")
    with pytest.raises(ValueError, match="size"):
        dsp.minimum_filter1d(np.ones(4), 0)


# -- the mastering that uses them --------------------------------------------------------------------


def test_limiter_and_ducking_match_their_scipy_versions() -> None:
    rate = 24000
    x = speech_like(8, rate, seed=7) * 5  # peaks well over the ceiling
    ceiling = 10 ** ((-1.0 - 1.0) / 20)
    need = np.minimum(1.0, ceiling / np.maximum(oversampled_peaks(x, ceiling * 10 ** (-4 / 20)), 1e-9))
    size = 2 * max(1, int(0.004 * rate / 2)) + 1
    gain = ndimage.uniform_filter1d(ndimage.minimum_filter1d(need, size, mode="nearest"), size, mode="nearest")
    expected = np.clip((x * gain).astype(np.float32), -ceiling, ceiling)
    assert np.max(np.abs(limit(x, -1.0, rate) - expected)) < 1e-6

    voice = resample(speech_like(6, rate, seed=8), rate)
    power = ndimage.uniform_filter1d(voice**2, int(0.05 * SAMPLE_RATE))
    speaking = ndimage.maximum_filter1d((power > 10 ** (-55 / 10)).astype(np.float32), int(0.8 * SAMPLE_RATE))
    duck = ndimage.uniform_filter1d(1 + (10 ** (-16 / 20) - 1) * speaking, int(0.3 * SAMPLE_RATE))
    assert np.max(np.abs(_duck_gain(voice, -16.0) - duck)) < 1e-6


def test_mastering_and_mixing_never_import_scipy_or_pyloudnorm() -> None:
    """The render parent masters every chunk: scipy would add about 100 MB to it."""
    code = """
import sys
import numpy as np
import podcast.audio.mix as mix
from podcast.audio.clips import Music, SpokenLine
from podcast.settings import AudioSettings
from podcast.audio.master import level, limit, loudness, resample, true_peak
from podcast.audio.music import make_bed, make_stinger

x = (np.random.default_rng(0).standard_normal(48000) * 0.3).astype(np.float32)
loudness(x, 24000); level(x, 24000, -16.0); limit(x, -1.0, 24000); true_peak(x)
resample(x, 24000); resample(x, 22050); resample(x, 16000)
line = SpokenLine("host", 24000, x, ((0, 24000), (30000, 48000)), ("One.", "Two."))
for music in (None, Music("intro", make_bed(), "b"), Music("outro", make_bed(), "b"),
              Music("stinger", make_stinger(), "s")):
    mix.mix_section([line, line], AudioSettings(), music=music)
print(sorted(m for m in sys.modules if m.startswith(("scipy", "pyloudnorm"))))
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]", result.stdout
