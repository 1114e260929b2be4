"""MP3 encoding with LAME (the lameenc wheel), in independently decodable chunks; decoding with the
ffmpeg that the imageio-ffmpeg wheel ships.

Each chunk of an episode is encoded on its own as constant-bitrate MPEG-1 Layer III frames with
no Xing/LAME header and no ID3 tag. Such chunks concatenate into one valid stream whose decoded
length is exactly 1152 samples per frame, so a chunk's start time in the episode is the frame
count before it, and an edit to one line re-encodes only that line's chunk.

LAME runs in-process and releases the GIL, so encoder threads run beside synthesis without an
ffmpeg process per chunk (each cost 30-50 MB of resident memory and a process start).
"""

from __future__ import annotations

import subprocess

import numpy as np

from podcast.audio.clips import SAMPLE_RATE
from podcast.audio.mp3 import SAMPLES_PER_FRAME, count_frames
from podcast.errors import AudioError

# The frame reader's SAMPLES_PER_FRAME and count_frames are offered here as well: the renderer counts
# the frames of each chunk it encodes.
__all__ = [
    "ENCODER_DELAY",
    "LAME_QUALITY",
    "SAMPLES_PER_FRAME",
    "count_frames",
    "decode",
    "encode_chunk",
    "ffmpeg_exe",
    "run_ffmpeg",
]

ENCODER_DELAY = 1105
"""Samples of silence LAME puts before the audio (576 + 529); decoders keep it without a LAME tag."""


def ffmpeg_exe() -> str:
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


def run_ffmpeg(args: list[str], data: bytes | None = None) -> bytes:
    """Run ffmpeg quietly; on failure raise AudioError with the command and what ffmpeg said."""
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", *args]
    try:
        proc = subprocess.run(cmd, input=data, capture_output=True, check=False)
    except OSError as e:
        raise AudioError(f"cannot run ffmpeg ({cmd[0]}): {e}") from e
    if proc.returncode != 0:
        err = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise AudioError(f"ffmpeg failed: {' '.join(cmd[3:])}: {err[-1] if err else 'no message'}")
    return proc.stdout


LAME_QUALITY = 3
"""LAME's own default (what ffmpeg's libmp3lame uses when not told otherwise): 0 best, 9 fastest."""
LAME_MONO_GAIN = 0.95
"""LAME plays a mono encoding back at 0.95 of its input's amplitude (-0.45 dB at every frequency,
level and bitrate we use; ffmpeg's libmp3lame does the same), so the input is raised by as much:
the episode then plays at the loudness it was mastered to, and its peaks stay where the limiter
put them."""


def encode_chunk(audio: np.ndarray, bitrate: int) -> bytes:
    """Mono float32 at 44.1 kHz -> CBR MP3 frames (no header frames)."""
    import lameenc

    pcm = (np.clip(audio / LAME_MONO_GAIN, -1.0, 1.0) * 32767).round().astype("<i2").tobytes()
    try:
        encoder = lameenc.Encoder()
        encoder.set_bit_rate(bitrate)
        encoder.set_in_sample_rate(SAMPLE_RATE)
        encoder.set_out_sample_rate(SAMPLE_RATE)
        encoder.set_channels(1)
        encoder.set_quality(LAME_QUALITY)
        return bytes(encoder.encode(pcm) + encoder.flush())
    except RuntimeError as e:  # lameenc reports a rejected setting or a failed encode this way
        raise AudioError(f"MP3 encoding at {bitrate} kbps failed: {e}") from None


def decode(path_or_bytes: str | bytes) -> np.ndarray:
    """Decode an MP3 to mono float32 at 44.1 kHz (for checks and tests)."""
    if isinstance(path_or_bytes, bytes):
        out = run_ffmpeg(
            ["-f", "mp3", "-i", "pipe:0", "-f", "f32le", "-ac", "1", "-ar", str(SAMPLE_RATE), "pipe:1"],
            path_or_bytes,
        )
    else:
        out = run_ffmpeg(["-i", path_or_bytes, "-f", "f32le", "-ac", "1", "-ar", str(SAMPLE_RATE), "pipe:1"])
    return np.frombuffer(out, dtype="<f4")
