"""The few DSP primitives mastering and mixing need, in numpy alone.

scipy.signal costs the render parent about 76 MB of resident memory and scipy.ndimage 28 MB, for
a resampler, two biquads and three sliding-window filters; pyloudnorm imports scipy.signal too.
Each function here reproduces its scipy (or pyloudnorm) namesake's default behaviour for the way
papercast calls it, to float rounding; tests/audio/test_dsp.py holds them to the originals.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

_CHUNK = 1 << 18
"""Elements of scratch per step of the chunked filters: memory stays a few MB however long the audio."""
_SERIAL = 1 << 18
"""Largest matrix product (m*n*k) OpenBLAS computes on the calling thread. Bigger ones are threaded,
which for these thin products on a machine busy synthesizing voices is several times slower."""


# -- resampling ----------------------------------------------------------------------------------


def firwin(numtaps: int, cutoff: float, beta: float) -> np.ndarray:
    """Kaiser-windowed low-pass FIR with unit gain at DC (scipy.signal.firwin with a kaiser window).

    `cutoff` is relative to the Nyquist frequency, as in scipy.

    >>> h = firwin(81, 0.25, 5.0)
    >>> len(h), round(float(h.sum()), 12), bool(np.allclose(h, h[::-1]))
    (81, 1.0, True)
    """
    m = np.arange(numtaps) - (numtaps - 1) / 2
    h = cutoff * np.sinc(cutoff * m) * np.kaiser(numtaps, beta)
    return h / h.sum()


class _Polyphase(NamedTuple):
    """resample_poly's filter laid out so that outputs come out `period` at a time, as matrix products.

    Output k is the dot product of the filter's phase k % up with x[o_k:][:taps], o_k =
    ceil((k*down - half) / up). A row of `period` outputs (a multiple of `up`) reads a window of
    `width` samples of x starting at `first` + row * `stride`. Outputs whose windows lie close
    together form a group, one product each: (column of the row's window, first output, taps
    with a column per output).
    """

    first: int
    width: int
    period: int
    stride: int
    groups: tuple[tuple[int, int, np.ndarray], ...]


@functools.cache
def _polyphase(up: int, down: int) -> _Polyphase:
    half = 10 * max(up, down)
    # scipy casts the design to the signal's dtype before scaling by `up`: so do we, bit for bit.
    h = firwin(2 * half + 1, 1 / max(up, down), 5.0).astype(np.float32) * np.float32(up)
    taps = 2 * half // up + 1
    # A group's windows start within about `taps` samples of each other, so at most half of its
    # products are with zeros. With few phases (2x, 4x) a row spans several periods, so the
    # windows, which repeat each input sample width/stride times, stay about twice the input.
    size = max(1, math.ceil(taps * up / down))
    period = up * math.ceil(size / up)
    offsets = [-((half - k * down) // up) for k in range(period)]
    groups = []
    for k0 in range(0, period, size):
        ks = range(k0, min(period, k0 + size))
        width = offsets[ks[-1]] - offsets[k0] + taps
        bank = np.zeros((width, len(ks)), np.float32)
        for column, k in enumerate(ks):
            idx = half + k * down - (offsets[k] + np.arange(taps)) * up
            ok = idx >= 0
            bank[offsets[k] - offsets[k0] + np.flatnonzero(ok), column] = h[idx[ok]]
        bank.flags.writeable = False
        groups.append((offsets[k0] - offsets[0], k0, bank))
    width = offsets[-1] - offsets[0] + taps
    return _Polyphase(offsets[0], width, period, period // up * down, tuple(groups))


def resample_poly(x: np.ndarray, up: int, down: int) -> np.ndarray:
    """scipy.signal.resample_poly(x, up, down) with its defaults (Kaiser beta 5, zero padding), float32.

    Polyphase: each output sample costs only the filter taps that meet input samples, about
    20 of them, and the work goes through matrix products in chunks of a few MB.

    >>> resample_poly(np.ones(100, np.float32), 147, 80).shape
    (184,)
    >>> y = resample_poly(np.ones(1000, np.float32), 2, 1)
    >>> bool(np.allclose(y[100:-100], 1.0, atol=1e-3))
    True
    """
    g = math.gcd(up, down)
    up, down = up // g, down // g
    x = np.asarray(x, np.float32)
    if up == down == 1:
        return x.copy()
    n_out = -(-len(x) * up // down)
    pp = _polyphase(up, down)
    rows = -(-n_out // pp.period)
    out = np.empty((rows, pp.period), np.float32)
    step = max(1, min(_CHUNK // pp.width, _SERIAL // max(bank.size for _, _, bank in pp.groups)))
    for q0 in range(0, rows, step):
        q1 = min(rows, q0 + step)
        window = _windows(x, pp.first + q0 * pp.stride, q1 - q0, pp.stride, pp.width)
        for col, k0, bank in pp.groups:
            width, outputs = bank.shape
            out[q0:q1, k0 : k0 + outputs] = window[:, col : col + width] @ bank
    return out.reshape(-1)[:n_out]


def _windows(x: np.ndarray, start: int, rows: int, stride: int, width: int) -> np.ndarray:
    """Rows of `width` samples of x, row i from start + i*stride, zeros outside x; contiguous."""
    stop = start + (rows - 1) * stride + width
    lo, hi = max(0, start), min(len(x), stop)
    span = x[lo:hi]
    if lo != start or hi != stop:
        zeros_before, zeros_after = lo - start, stop - max(hi, start)
        span = np.concatenate([np.zeros(zeros_before, x.dtype), span, np.zeros(zeros_after, x.dtype)])
    view = np.lib.stride_tricks.sliding_window_view(span, width)[::stride]
    return np.ascontiguousarray(view[:rows])


# -- K-weighting ---------------------------------------------------------------------------------


def k_weighting(rate: int) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """(b, a) of pyloudnorm's ITU-R BS.1770 K-weighting biquads: the high shelf, then the high pass.

    RBJ cookbook designs with pyloudnorm's parameters (its Meter(rate) default "K-weighting").

    >>> (b, a), _ = k_weighting(48000)
    >>> round(float(a[0]), 12), round(float(b.sum() / a.sum()), 6)  # unit gain at DC
    (1.0, 1.0)
    """
    return _rbj_high_shelf(4.0, 1 / math.sqrt(2), 1500.0, rate), _rbj_high_pass(0.5, 38.0, rate)


def _rbj_high_shelf(gain_db: float, q: float, fc: float, rate: int) -> tuple[np.ndarray, np.ndarray]:
    g = 10 ** (gain_db / 40)
    w0 = 2 * math.pi * fc / rate
    cos, alpha = math.cos(w0), math.sin(w0) / (2 * q)
    s = 2 * math.sqrt(g) * alpha
    plus, minus = g + 1, g - 1
    b = g * np.array([plus + minus * cos + s, -2 * (minus + plus * cos), plus + minus * cos - s])
    a = np.array([plus - minus * cos + s, 2 * (minus - plus * cos), plus - minus * cos - s])
    return b / a[0], a / a[0]


def _rbj_high_pass(q: float, fc: float, rate: int) -> tuple[np.ndarray, np.ndarray]:
    w0 = 2 * math.pi * fc / rate
    cos, alpha = math.cos(w0), math.sin(w0) / (2 * q)
    b = np.array([(1 + cos) / 2, -(1 + cos), (1 + cos) / 2])
    a = np.array([1 + alpha, -2 * cos, 1 - alpha])
    return b / a[0], a / a[0]


IR_FLOOR = 1e-12
"""The K-weighting impulse response is cut where all that follows is below this fraction of its peak:
its poles decay within about 0.1 s, and what is cut changes a loudness by far less than 1e-6 LU."""


@functools.cache
def _k_spectrum(rate: int) -> tuple[int, int, np.ndarray]:
    """(FFT size, response length, spectrum) of the truncated K-weighting impulse response."""
    # The cascade's frequency response on a grid long enough (seconds) that the aliased impulse
    # response from its inverse FFT is the true one to float rounding.
    n = 1 << max(16, math.ceil(math.log2(4 * rate)))
    z = np.exp(-2j * np.pi * np.fft.rfftfreq(n))
    response = np.ones_like(z)
    for b, a in k_weighting(rate):
        response *= np.polyval(b[::-1], z) / np.polyval(a[::-1], z)
    h = np.fft.irfft(response, n)
    tail = np.maximum.accumulate(np.abs(h)[::-1])[::-1]
    below = tail < IR_FLOOR * tail[0]
    if below.any():
        h = h[: int(np.argmax(below))]
    # Blocks at least 4x the response keep the overlap cheap; past 2^15 numpy's FFT slows per sample.
    nfft = max(1 << 15, 1 << math.ceil(math.log2(4 * len(h))))
    spectrum = np.fft.rfft(h, nfft)
    spectrum.flags.writeable = False
    return nfft, len(h), spectrum


def k_weighter(rate: int) -> Callable[[np.ndarray], np.ndarray]:
    """A K-weighting filter (float64 out) that carries its state from one call to the next.

    What scipy.signal.lfilter does with pyloudnorm's two biquads and `zi` carried across pieces,
    done as an FFT convolution with their impulse response (numpy has no recursive filter).

    >>> f = k_weighter(24000)
    >>> x = np.random.default_rng(0).standard_normal(5000)
    >>> bool(np.allclose(np.concatenate([f(x[:1234]), f(x[1234:])]), k_weighter(24000)(x)))
    True
    """
    nfft, m, spectrum = _k_spectrum(rate)
    block = nfft - m + 1
    carry = np.zeros(m - 1)

    def apply(x: np.ndarray) -> np.ndarray:
        nonlocal carry
        out = np.empty(len(x))
        for start in range(0, len(x), block):
            piece = np.asarray(x[start : start + block], np.float64)
            y = np.fft.irfft(np.fft.rfft(piece, nfft) * spectrum, nfft)
            y[: m - 1] += carry
            out[start : start + len(piece)] = y[: len(piece)]
            carry = y[len(piece) : len(piece) + m - 1]
        return out

    return apply


# -- sliding windows (scipy.ndimage's 1-d filters, origin 0) ----------------------------------------


def minimum_filter1d(x: np.ndarray, size: int, mode: str = "reflect") -> np.ndarray:
    """The minimum over a window of `size` around each sample (scipy.ndimage.minimum_filter1d).

    >>> minimum_filter1d(np.array([3, 1, 4, 1, 5, 9, 2, 6]), 3, mode="nearest").tolist()
    [1, 1, 1, 1, 1, 2, 2, 2]
    """
    return _sliding(x, size, mode, functools.partial(_running_extreme, np.minimum))


def maximum_filter1d(x: np.ndarray, size: int, mode: str = "reflect") -> np.ndarray:
    """The maximum over a window of `size` around each sample (scipy.ndimage.maximum_filter1d).

    >>> maximum_filter1d(np.array([3, 1, 4, 1, 5, 9, 2, 6]), 4).tolist()
    [3, 4, 4, 5, 9, 9, 9, 9]
    """
    return _sliding(x, size, mode, functools.partial(_running_extreme, np.maximum))


def uniform_filter1d(x: np.ndarray, size: int, mode: str = "reflect") -> np.ndarray:
    """The mean over a window of `size` around each sample (scipy.ndimage.uniform_filter1d).

    Summed in float64 as scipy does, then returned in x's dtype.

    >>> uniform_filter1d(np.array([0.0, 0.0, 3.0, 0.0, 0.0]), 3, mode="nearest").tolist()
    [0.0, 1.0, 1.0, 1.0, 0.0]
    """
    return _sliding(x, size, mode, _running_mean)


def _running_extreme(op: np.ufunc, p: np.ndarray, size: int) -> np.ndarray:
    """op over each window of `size` in p (len(p) - size + 1 results), in O(len(p)).

    van Herk / Gil-Werman: in blocks of `size`, every window is the suffix of one block joined to
    the prefix of the next, and both come from one accumulate over the blocks.
    """
    n = len(p) - size + 1
    blocks = -(-len(p) // size)
    padded = np.empty(blocks * size, p.dtype)
    padded[: len(p)] = p
    # Only a window starting a block reaches the last one, and it ends where p does: the filler
    # past p's end is never part of a result.
    padded[len(p) :] = p[-1]
    grid = padded.reshape(blocks, size)
    prefix = op.accumulate(grid, axis=1).reshape(-1)
    suffix = op.accumulate(grid[:, ::-1], axis=1)[:, ::-1].reshape(-1)
    return op(suffix[:n], prefix[size - 1 : size - 1 + n])


def _running_mean(p: np.ndarray, size: int) -> np.ndarray:
    sums = np.empty(len(p) + 1)
    sums[0] = 0.0
    np.cumsum(p, dtype=np.float64, out=sums[1:])
    means = sums[size:] - sums[:-size]
    means /= size
    return means


def _sliding(
    x: np.ndarray, size: int, mode: str, window_op: Callable[[np.ndarray, int], np.ndarray]
) -> np.ndarray:
    """Apply `window_op` to x extended at both ends as scipy.ndimage's `mode` does, in chunks."""
    if size < 1:
        raise ValueError("size must be at least 1")
    if mode not in _EXTEND:
        raise ValueError(f"unsupported mode {mode!r}")
    x = np.asarray(x)
    n = len(x)
    out = np.empty(n, x.dtype)
    if n == 0:
        return out
    # ndimage's window has size // 2 samples before its centre: one more than after it when even.
    before, after = size // 2, size - 1 - size // 2
    step = max(_CHUNK, 4 * size)
    for s in range(0, n, step):
        e = min(n, s + step)
        lo, hi = s - before, e + after
        # Only the chunks at the ends need the extension, and indexing for it is slower than slicing.
        p = x[lo:hi] if lo >= 0 and hi <= n else x[_EXTEND[mode](np.arange(lo, hi), n)]
        out[s:e] = window_op(p, size)
    return out


def _nearest(i: np.ndarray, n: int) -> np.ndarray:
    return np.clip(i, 0, n - 1)


def _reflect(i: np.ndarray, n: int) -> np.ndarray:
    """ndimage's "reflect" (d c b a | a b c d | d c b a): mirrored about the edges, repeating."""
    i = np.mod(i, 2 * n)
    return np.where(i < n, i, 2 * n - 1 - i)


_EXTEND: dict[str, Callable[[np.ndarray, int], np.ndarray]] = {"nearest": _nearest, "reflect": _reflect}
