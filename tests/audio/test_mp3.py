"""The one MP3 frame reader (podcast.audio.mp3) on real LAME output: whole, cut short, garbled,
behind ID3 tags, and led by a Xing/Info frame."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from mutagen.id3 import ID3, TIT2, Encoding, ID3v1SaveOptions

from podcast.audio.encode import decode, encode_chunk, run_ffmpeg
from podcast.audio.mp3 import (
    MONO,
    SAMPLES_PER_FRAME,
    FrameError,
    Mp3Stream,
    count_frames,
    id3v2_size,
    scan_mp3,
    walk_frames,
)
from podcast.errors import AudioError

RATE = 44100


def tone(seconds: float = 2.0) -> np.ndarray:
    t = np.arange(round(seconds * RATE)) / RATE
    return (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)


@pytest.fixture(scope="module")
def chunk() -> bytes:
    """A chunk as the renderer encodes one: bare CBR frames from LAME, no tag, no Info frame."""
    return encode_chunk(tone(), 96)


@pytest.mark.parametrize(("kbps", "lengths"), [(96, {313, 314}), (128, {417, 418})])
def test_a_lame_chunk_is_whole_frames_that_decode_to_their_count(kbps: int, lengths: set[int]) -> None:
    data = encode_chunk(tone(), kbps)
    headers = [h for _, h in walk_frames(data)]
    assert sum(h.length for h in headers) == len(data)
    assert {h.length for h in headers} == lengths, "at 44.1 kHz some frames carry a padding byte"
    assert {(h.kbps, h.sample_rate, h.channel_mode, h.protected) for h in headers} == {(kbps, RATE, MONO, False)}
    n = count_frames(data)
    assert n == len(headers)
    # The headers say how long it plays: a decoder outputs 1152 samples per frame.
    assert len(decode(data)) == n * SAMPLES_PER_FRAME >= len(tone())
    stream = scan_mp3(data)
    assert stream == Mp3Stream(n, frozenset({kbps}), frozenset({RATE}), frozenset({MONO}), "")
    assert stream.seconds == n * SAMPLES_PER_FRAME / RATE


def test_a_cut_stream_counts_its_whole_frames_and_says_where_it_breaks(chunk: bytes) -> None:
    offsets = [pos for pos, _ in walk_frames(chunk)]
    cut = chunk[:-100]
    stream = scan_mp3(cut)
    assert stream.frames == len(offsets) - 1
    assert stream.error == f"the last frame (byte {offsets[-1]}) is cut short"
    with pytest.raises(FrameError) as raised:
        count_frames(cut)
    assert raised.value.pos == offsets[-1] and isinstance(raised.value, AudioError)
    assert str(raised.value) == f"not a bare MP3 frame stream: the last frame (byte {offsets[-1]}) is cut short"

    half_a_header = chunk + b"\xff\xfb"
    assert scan_mp3(half_a_header).error == f"byte {len(chunk)} is not the start of an MPEG audio frame"


@pytest.mark.parametrize(
    ("garbage", "reason"),
    [
        (bytes(range(256)) * 4, "byte 0 is not the start of an MPEG audio frame"),
        (b"RIFF" + bytes(600), "byte 0 is not the start of an MPEG audio frame"),
        (b"\xff\xf3\x90\xc4" + bytes(600), "the frame at byte 0 is not MPEG-1 Layer III"),  # MPEG-2
        (b"\xff\xfd\x90\xc4" + bytes(600), "the frame at byte 0 is not MPEG-1 Layer III"),  # Layer II
        (b"\xff\xfb\x00\xc4" + bytes(600), "the frame at byte 0 has a free or invalid bitrate or sample rate"),
        (b"\xff\xfb\xf0\xc4" + bytes(600), "the frame at byte 0 has a free or invalid bitrate or sample rate"),
        (b"\xff\xfb\x9c\xc4" + bytes(600), "the frame at byte 0 has a free or invalid bitrate or sample rate"),
    ],
)
def test_bytes_that_are_not_a_frame_are_named(garbage: bytes, reason: str) -> None:
    assert scan_mp3(garbage) == Mp3Stream(0, frozenset(), frozenset(), frozenset(), reason)
    assert scan_mp3(garbage).seconds == 0.0
    with pytest.raises(FrameError, match=reason) as raised:
        count_frames(garbage)
    assert raised.value.pos == 0


def test_garbage_inside_a_stream_stops_the_count_where_it_starts(chunk: bytes) -> None:
    tenth = [pos for pos, _ in walk_frames(chunk)][10]
    spliced = chunk[:tenth] + b"junk" + chunk[tenth:]
    stream = scan_mp3(spliced)
    assert (stream.frames, stream.error) == (10, f"byte {tenth} is not the start of an MPEG audio frame")
    with pytest.raises(FrameError) as raised:
        count_frames(spliced)
    assert raised.value.pos == tenth


def test_frames_are_read_after_an_id3v2_tag_and_before_an_id3v1_tag(chunk: bytes, tmp_path: Path) -> None:
    path = tmp_path / "tagged.mp3"
    path.write_bytes(chunk)
    tags = ID3()
    tags.add(TIT2(encoding=Encoding.UTF8, text=["Week 19"]))
    tags.save(path, v2_version=3)
    data = path.read_bytes()
    size = id3v2_size(data)
    assert size == ID3(path).size and data[size:] == chunk
    assert scan_mp3(data) == scan_mp3(chunk) and scan_mp3(data).error == ""
    with pytest.raises(FrameError, match="not a bare MP3 frame stream: byte 0 "):
        count_frames(data)  # the encoder's output never has a tag: one there is a fault

    tags.save(path, v1=ID3v1SaveOptions.CREATE, v2_version=3)
    data = path.read_bytes()
    assert data[-128:-125] == b"TAG" and data[size:-128] == chunk
    assert scan_mp3(data) == scan_mp3(chunk)


def test_a_leading_info_frame_is_not_counted_as_audio(tmp_path: Path) -> None:
    # ffmpeg's LAME writes a Xing/Info frame first when it can seek back into the file it wrote.
    path = tmp_path / "ffmpeg.mp3"
    run_ffmpeg(["-f", "f32le", "-ar", str(RATE), "-ac", "1", "-i", "pipe:0", "-c:a", "libmp3lame",
                "-b:a", "96k", str(path)], tone().tobytes())
    data = path.read_bytes()
    first = id3v2_size(data)
    assert data[first + 4 + 17 : first + 4 + 21] == b"Info", "mono, no CRC: the tag follows 17 bytes of side info"
    stream = scan_mp3(data)
    assert stream.frames == count_frames(data[first:]) - 1
    assert stream.error == "" and stream.bitrates == {96}
