"""A built episode plays at the loudness it was asked for, measured by a meter that is not ours.

The episode is decoded by ffmpeg (not podcast.audio.encode.decode) and measured by pyloudnorm's
BS.1770 meter (not podcast.audio.master.loudness); the true peak is scipy's 4x oversampled peak.
The target is stated as heard on two speakers, so the mono file is measured as dual mono: the same
signal on both channels, whose powers BS.1770 adds (+3.01 LU over one channel).
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pyloudnorm
import pytest
from scipy.signal import resample_poly
from support.shows import FIRST_EPISODE

RunCli = Callable[..., subprocess.CompletedProcess[str]]
RATE = 44100
TOLERANCE_LU = 0.5


def _decoded(mp3: Path) -> np.ndarray:
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(mp3), "-f", "f64le", "-ac", "1",
           "-ar", str(RATE), "-"]
    return np.frombuffer(subprocess.run(cmd, capture_output=True, check=True).stdout, "<f8")


def _dual_mono_lufs(audio: np.ndarray) -> float:
    return float(pyloudnorm.Meter(RATE).integrated_loudness(np.stack([audio, audio], axis=1)))


def _true_peak_dbtp(audio: np.ndarray) -> float:
    return float(20 * np.log10(np.max(np.abs(resample_poly(audio, 4, 1)))))


def _episode_mp3(show: Path) -> Path:
    build = show / "episodes" / FIRST_EPISODE / "build"
    return build / json.loads((build / "episode.json").read_text("utf-8"))["audio"]


def test_the_meter_measures_a_known_tone_as_dual_mono() -> None:
    """The reference itself: a 1 kHz sine at -18 dBFS RMS measures -18.0 LUFS on one channel
    (BS.1770's calibration, with K-weighting's +0.69 dB at 1 kHz offset by its -0.691), so -15.0 as
    dual mono."""
    t = np.arange(10 * RATE) / RATE
    sine = 10 ** (-18 / 20) * np.sqrt(2) * np.sin(2 * np.pi * 1000 * t)
    assert _dual_mono_lufs(sine) == pytest.approx(-18.0 + 3.0103, abs=0.05)


def test_the_default_build_plays_at_minus_16_lufs_under_a_minus_1_dbtp_ceiling(built_show: Path) -> None:
    audio = _decoded(_episode_mp3(built_show))
    assert len(audio) > 20 * RATE
    measured, peak = _dual_mono_lufs(audio), _true_peak_dbtp(audio)
    assert abs(measured - -16.0) <= TOLERANCE_LU, f"{measured:.2f} LUFS (dual mono), target -16"
    assert peak <= -1.0, f"true peak {peak:.2f} dBTP, ceiling -1"


def test_a_show_s_own_target_and_ceiling_are_what_it_gets(show: Path, run_cli: RunCli) -> None:
    """A quieter target and a lower ceiling than the defaults (so a fixed -16 or -1 cannot pass)."""
    toml = show / "podcast.toml"
    text = re.sub(r"^# loudness = .*$", "loudness = -20.0", toml.read_text("utf-8"), flags=re.M)
    toml.write_text(re.sub(r"^# true_peak = .*$", "true_peak = -6.0", text, flags=re.M), "utf-8")
    built = run_cli(show, "build", f"episodes/{FIRST_EPISODE}")
    assert built.returncode == 0, built.stderr
    audio = _decoded(_episode_mp3(show))
    measured, peak = _dual_mono_lufs(audio), _true_peak_dbtp(audio)
    assert abs(measured - -20.0) <= TOLERANCE_LU, f"{measured:.2f} LUFS (dual mono), target -20"
    assert peak <= -6.0, f"true peak {peak:.2f} dBTP, ceiling -6"
