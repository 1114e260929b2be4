"""MP3 files read from their MPEG frame headers, without decoding: the one frame reader.

An MPEG-1 Layer III frame starts with a 4-byte header that gives its bitrate, sample rate and
padding, hence its length, so walking a stream reads 4 bytes per frame: an hour of audio in well
under a second. The encoder counts the frames of each chunk it writes (a chunk's start in the
episode is the frame count before it) and `podcast check` measures a published episode this way.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from podcast.errors import AudioError

SAMPLES_PER_FRAME = 1152
"""Samples each MPEG-1 Layer III frame decodes to."""
MONO = 3
"""The channel mode of a mono frame."""

_KBPS = (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)
"""MPEG-1 Layer III bitrates by header index; 0 is 'free format', which a frame length cannot come from."""
_RATES = (44100, 48000, 32000, 0)


class FrameError(AudioError):
    """The bytes at `pos` are not the next MPEG-1 Layer III frame; the message says why."""

    def __init__(self, pos: int, reason: str) -> None:
        super().__init__(reason)
        self.pos = pos
        """Offset of the first byte that is not part of a whole frame."""


@dataclass(frozen=True)
class FrameHeader:
    """What one frame's 4-byte header says."""

    kbps: int
    sample_rate: int
    channel_mode: int
    """MPEG channel mode: 3 (MONO) is mono."""
    protected: bool
    """A 16-bit CRC follows the header."""
    length: int
    """Bytes of the whole frame, header included."""


@dataclass(frozen=True)
class Mp3Stream:
    """What the frame headers of an MP3 say, read without decoding it."""

    frames: int
    """Audio frames (a Xing/Info header frame is not counted: decoders skip it)."""
    bitrates: frozenset[int]
    """kbps of every frame: one value for constant bitrate."""
    sample_rates: frozenset[int]
    channel_modes: frozenset[int]
    """MPEG channel mode per frame: 3 is mono."""
    error: str = ""
    """Where and why the frame stream broke off; empty for a clean stream."""

    @property
    def seconds(self) -> float:
        """The decoded length: SAMPLES_PER_FRAME samples per frame."""
        return self.frames * SAMPLES_PER_FRAME / min(self.sample_rates) if self.frames else 0.0


def read_header(data: bytes, pos: int, end: int | None = None) -> FrameHeader:
    """The header of the frame at `pos`; FrameError when no whole MPEG-1 Layer III frame starts there.

    >>> read_header(bytes([0xFF, 0xFB, 0x70, 0xC4]) + bytes(310), 0).length
    313
    """
    end = len(data) if end is None else end
    header = data[pos : min(pos + 4, end)]
    if len(header) < 4 or header[0] != 0xFF or (header[1] & 0xE0) != 0xE0:
        raise FrameError(pos, f"byte {pos} is not the start of an MPEG audio frame")
    if (header[1] >> 3) & 3 != 3 or (header[1] >> 1) & 3 != 1:
        raise FrameError(pos, f"the frame at byte {pos} is not MPEG-1 Layer III")
    kbps = _KBPS[header[2] >> 4] if header[2] >> 4 < len(_KBPS) else 0
    rate = _RATES[(header[2] >> 2) & 3]
    if not kbps or not rate:
        raise FrameError(pos, f"the frame at byte {pos} has a free or invalid bitrate or sample rate")
    length = 144 * kbps * 1000 // rate + ((header[2] >> 1) & 1)
    if pos + length > end:
        raise FrameError(pos, f"the last frame (byte {pos}) is cut short")
    return FrameHeader(kbps, rate, header[3] >> 6, not (header[1] & 1), length)


def walk_frames(data: bytes, start: int = 0, end: int | None = None) -> Iterator[tuple[int, FrameHeader]]:
    """(offset, header) of each frame from `start` to `end`, which must hold whole frames and nothing
    else: FrameError at the first byte that breaks the stream, after the frames before it."""
    pos, end = start, len(data) if end is None else end
    while pos < end:
        header = read_header(data, pos, end)
        yield pos, header
        pos += header.length


def count_frames(data: bytes) -> int:
    """Frames of a bare frame stream, such as the encoder's output; FrameError on anything else.

    >>> count_frames(b"")
    0
    """
    try:
        return sum(1 for _ in walk_frames(data))
    except FrameError as e:
        raise FrameError(e.pos, f"not a bare MP3 frame stream: {e}") from None


def id3v2_size(data: bytes) -> int:
    """Bytes taken by an ID3v2 tag at the start of `data` (header, body and footer); 0 when none.

    >>> id3v2_size(b"ID3\\x03\\x00\\x00\\x00\\x00\\x01\\x7f" + bytes(255))
    265
    >>> id3v2_size(b"\\xff\\xfb\\x90\\xc4")
    0
    """
    if len(data) < 10 or not data.startswith(b"ID3"):
        return 0
    size = 0
    for b in data[6:10]:  # "syncsafe": 7 bits per byte, so no byte looks like an MPEG sync
        size = (size << 7) | (b & 0x7F)
    footer = 10 if data[5] & 0x10 else 0
    return 10 + size + footer


def scan_mp3(data: bytes) -> Mp3Stream:
    """Walk the frames of an MP3 file's bytes, after its ID3v2 tag and before a trailing ID3v1 tag.

    Any other byte that is not a frame is reported in `error`, with the frames before it counted.
    """
    start, end = id3v2_size(data), len(data)
    if end - start >= 128 and data[end - 128 : end - 125] == b"TAG":
        end -= 128
    frames = 0
    bitrates: set[int] = set()
    rates: set[int] = set()
    modes: set[int] = set()
    try:
        for pos, header in walk_frames(data, start, end):
            if pos == start and _is_info_frame(data, pos, header):
                continue
            frames += 1
            bitrates.add(header.kbps)
            rates.add(header.sample_rate)
            modes.add(header.channel_mode)
    except FrameError as e:
        error = str(e)
    else:
        error = ""
    return Mp3Stream(frames, frozenset(bitrates), frozenset(rates), frozenset(modes), error)


def _is_info_frame(data: bytes, pos: int, header: FrameHeader) -> bool:
    """A Xing/Info (LAME) or VBRI header frame: metadata that decoders skip, not audio."""
    side_info = 17 if header.channel_mode == MONO else 32
    xing = pos + 4 + (2 if header.protected else 0) + side_info
    return data[xing : xing + 4] in (b"Xing", b"Info") or data[pos + 36 : pos + 40] == b"VBRI"
