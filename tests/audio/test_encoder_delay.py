"""Where encoded audio is heard: each MP3 chunk is decoded 1105 samples (LAME's 576 and the
decoder's 529) after its first frame starts, so a sentence's time in the transcript is its time in
the mixed audio plus those samples (tests/episode/test_chapter_timing.py checks the transcripts)."""

from __future__ import annotations

import numpy as np

from podcast.audio.encode import count_frames, decode, encode_chunk

HEARD_AFTER = 1105
"""Samples from a chunk's first frame to its first sample as decoded (measured here)."""


def _lag(decoded: np.ndarray, sent: np.ndarray, at: int, search: int = 3000) -> int:
    """Samples by which `sent`, placed at `at`, is late in `decoded` (the cross-correlation peak)."""
    return max(range(search), key=lambda lag: float(np.dot(decoded[at + lag : at + lag + len(sent)], sent)))


def test_a_chunk_is_heard_1105_samples_after_its_first_frame_in_a_stream_of_chunks() -> None:
    rng = np.random.default_rng(0)
    bursts = [rng.standard_normal(10000).astype(np.float32) * 0.2 for _ in range(2)]
    first, second = np.zeros(44100, np.float32), np.zeros(30000, np.float32)
    first[10000:20000], second[5000:15000] = bursts
    a, b = encode_chunk(first, 96), encode_chunk(second, 128)
    decoded = decode(a + b)
    assert len(decoded) == (count_frames(a) + count_frames(b)) * 1152
    assert _lag(decoded, bursts[0], 10000) == HEARD_AFTER
    assert _lag(decoded, bursts[1], count_frames(a) * 1152 + 5000) == HEARD_AFTER
