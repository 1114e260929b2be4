"""Intro/outro music beds and the stinger: mixed under the voice, ducked, and timed exactly."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest

from podcast.audio.encode import decode
from podcast.audio.master import SAMPLE_RATE, loudness
from podcast.audio.mix import INTRO_MUSIC_LEAD, MUSIC_SOLO_LU, OUTRO_MUSIC_TAIL, _duck_gain, _loop
from podcast.audio.music import make_bed, make_stinger
from podcast.episode.transcript import parse_vtt
from podcast.publish.check.media import measure_loudness

RunCli = Callable[..., subprocess.CompletedProcess[str]]
EPISODE = "episodes/first-week"


def _enable_music(show: Path, **names: str) -> None:
    toml = show / "podcast.toml"
    text = toml.read_text("utf-8")
    for key, value in names.items():
        text = re.sub(rf"^# {key} = .*$", f'{key} = "{value}"', text, flags=re.M)
    toml.write_text(text, "utf-8")


def _heard(audio: np.ndarray, t0: float, t1: float) -> float:
    """Loudness (LUFS, as heard on two speakers) of a stretch of the episode."""
    return loudness(audio[int(t0 * SAMPLE_RATE) : int(t1 * SAMPLE_RATE)], SAMPLE_RATE) + 3.0103


def test_generated_music_is_deterministic_and_loopable() -> None:
    bed, stinger = make_bed(), make_stinger()
    assert np.array_equal(bed, make_bed()) and np.array_equal(stinger, make_stinger())
    assert 12 <= len(bed) / SAMPLE_RATE <= 20 and 1 <= len(stinger) / SAMPLE_RATE <= 2
    looped = _loop(bed, 3 * len(bed))
    assert len(looped) == 3 * len(bed) and np.all(np.isfinite(looped))
    # No repeat starts with a click: the cross-faded joins stay within the bed's own range.
    assert np.max(np.abs(looped)) <= np.max(np.abs(bed)) * 1.5


def test_ducking_lowers_the_bed_only_while_someone_speaks() -> None:
    voice = np.zeros(6 * SAMPLE_RATE, np.float32)
    voice[2 * SAMPLE_RATE : 4 * SAMPLE_RATE] = 0.3 * np.sin(np.arange(2 * SAMPLE_RATE) / 10)
    gain = _duck_gain(voice, -16.0)
    assert gain[int(0.5 * SAMPLE_RATE)] == pytest.approx(1.0, abs=1e-3)
    assert gain[3 * SAMPLE_RATE] == pytest.approx(10 ** (-16 / 20), rel=0.05)
    assert gain[int(5.5 * SAMPLE_RATE)] == pytest.approx(1.0, abs=1e-3)


def _rms_db(audio: np.ndarray, t0: float, t1: float) -> float:
    stretch = audio[int(t0 * SAMPLE_RATE) : int(t1 * SAMPLE_RATE)].astype(np.float64)
    return float(10 * np.log10(np.mean(np.square(stretch)) + 1e-20))


def test_music_plays_before_the_first_word_ducks_under_speech_and_keeps_loudness(
    show: Path, run_cli: RunCli
) -> None:
    """The levels are the design's (music alone 4 LU under the voice, ducked by 16 dB more while
    anyone speaks), each checked with a margin of a few dB: the audio is the same in every run
    (the voices are seeded), so the margins only absorb what differs from one stretch of the bed
    or one sentence to the next, and a bug that changes a level by a design's worth breaks them."""
    (show / "music").mkdir(exist_ok=True)
    _enable_music(show, intro_music="music/bed.mp3", outro_music="music/bed.mp3", stinger="music/stinger.mp3")
    built = run_cli(show, "build", EPISODE)
    assert built.returncode == 0, built.stderr
    assert "0 of 3 sections spoken anew" in built.stdout, "music must not re-synthesize the voices"
    build = show / EPISODE / "build"
    audio = decode(str(build / "first-week.mp3"))
    cues = parse_vtt((build / "transcript.vtt").read_text("utf-8"))
    chapters = json.loads((build / "chapters.json").read_text("utf-8"))["chapters"]
    assert chapters[0]["startTime"] == 0 and len(chapters) == 3
    intro = [c for c in cues if c.end <= chapters[1]["startTime"]]
    target = -16.0
    # The host starts after the music's solo lead, and the transcript knows it.
    assert INTRO_MUSIC_LEAD <= cues[0].start <= INTRO_MUSIC_LEAD + 0.2
    # Alone, the bed sits MUSIC_SOLO_LU under the target (measured -19.2 for -20); the voice over it
    # at the target (-16.2), so the music is clearly under it (a 3 LU gap measured, 4 designed).
    music_alone = _heard(audio, 0.5, INTRO_MUSIC_LEAD - 0.5)
    speech = _heard(audio, intro[0].start, intro[-1].end)
    assert abs(music_alone - (target + MUSIC_SOLO_LU)) <= 1.5, music_alone
    assert abs(speech - target) <= 1.0, speech
    assert music_alone < speech - 2, (music_alone, speech)
    # Between the host's lines (0.55 s, before the bed's fade-out at the section's end) only the
    # ducked bed plays: music_gain - MUSIC_SOLO_LU = 16 dB under the bed alone (measured 15).
    # Unducked it would be 0 dB under; no bed at all, 100 or more.
    pauses = [(a.end, b.start) for a, b in pairwise(intro)
              if b.start - a.end >= 0.5 and b.start < chapters[1]["startTime"] - 2.5]
    assert pauses, [(c.start, c.end) for c in intro]
    solo = _rms_db(audio, 0.5, INTRO_MUSIC_LEAD - 0.5)
    for t0, t1 in pauses:
        assert -21 <= _rms_db(audio, t0 + 0.05, t1 - 0.05) - solo <= -11, (t0, t1)
    # After the last word, the bed rises again for the outro's tail (measured -22.9; ducked: -36).
    end = len(audio) / SAMPLE_RATE
    assert end - cues[-1].end >= OUTRO_MUSIC_TAIL - 0.1
    assert -27 < _heard(audio, cues[-1].end + 1.0, cues[-1].end + 2.5) < -17
    # The whole episode, music included (measured -16.4 LUFS, -1.9 dBTP).
    measured = measure_loudness(build / "first-week.mp3")
    assert abs(measured.integrated - target) <= 1.0 and measured.true_peak <= -1.0, measured


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "'music/nope.mp3' not found"), (b"this is not audio", "'music/nope.mp3' is not an audio file")],
)
def test_a_missing_or_non_audio_music_file_is_a_clear_error(
    show: Path, run_cli: RunCli, content: bytes | None, message: str
) -> None:
    if content is not None:
        (show / "music" / "nope.mp3").write_bytes(content)
    before = (show / EPISODE / "build" / "first-week.mp3").read_bytes()
    _enable_music(show, intro_music="music/nope.mp3")
    result = run_cli(show, "build", EPISODE)
    assert result.returncode == 1
    assert result.stderr.startswith("error: podcast.toml [audio] intro_music: ") and message in result.stderr
    assert result.stderr.count("\n") == 1
    assert (show / EPISODE / "build" / "first-week.mp3").read_bytes() == before
