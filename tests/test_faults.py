"""Faults during a build: a voice failing mid-episode, and a build killed at any moment."""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fakes.flaky_engine import FlakyEngine

from podcast.audio.encode import ffmpeg_exe
from podcast.build import build_episode
from podcast.config import load_show
from podcast.episode.transcript import parse_srt, parse_vtt
from podcast.errors import EngineError

EPISODE = "episodes/first-week"
SUMMARY = "summaries/2405.04517.md"


def _use_flaky_cohost(show: Path) -> None:
    (show / "voices" / "cohost.toml").write_text('name = "Ava"\nengine = "flaky"\nvoice = "heart"\n', "utf-8")


def _write_summary(show: Path, *paragraphs: str) -> None:
    path = show / EPISODE / SUMMARY
    head = "# xLSTM: Extended Long Short-Term Memory\n<https://arxiv.org/abs/2405.04517>\n\n"
    path.write_text(head + "\n\n".join(paragraphs) + "\n", "utf-8")


def test_a_failing_voice_names_the_paper_and_text_and_the_next_build_resumes(
    show: Path, flaky_engine: type[FlakyEngine]
) -> None:
    _use_flaky_cohost(show)
    mp3 = show / EPISODE / "build" / "first-week.mp3"
    before = mp3.read_bytes()
    _write_summary(
        show,
        "A first paragraph that the voice reads without trouble.",
        "Then the BREAKDOWN sentence, which the voice cannot say.",
    )
    cfg = load_show(show)
    with pytest.raises(EngineError) as failure:
        build_episode(show / EPISODE, cfg, log=lambda m: None)
    message = str(failure.value)
    assert "xLSTM: Extended Long Short-Term Memory" in message and "BREAKDOWN sentence" in message
    assert "out of memory" in message
    assert mp3.read_bytes() == before, "a failed build touched the last good MP3"

    _write_summary(
        show,
        "A first paragraph that the voice reads without trouble.",
        "Then the repaired sentence, which the voice can say.",
    )
    report = build_episode(show / EPISODE, load_show(show), log=lambda m: None)
    paper = report.rendering.sections[1]
    # Only the repaired line is new: the host's line and the first paragraph come from the cache.
    assert paper.synthesized == 1
    assert mp3.read_bytes() != before


def _outputs_are_whole(build: Path) -> None:
    """Everything in build/ is a complete file: the MP3 decodes, JSON parses, transcripts parse."""
    for f in build.iterdir():
        assert not f.name.startswith("."), f"partial file left in build/: {f.name}"
    if not (build / "episode.json").exists():
        return
    record = json.loads((build / "episode.json").read_text("utf-8"))
    mp3 = build / record["audio"]
    assert mp3.stat().st_size == record["audio_bytes"]
    decoded = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(mp3), "-f", "null", "-"], capture_output=True, text=True
    )
    assert decoded.stderr == ""
    json.loads((build / "chapters.json").read_text("utf-8"))
    parse_vtt((build / "transcript.vtt").read_text("utf-8"))
    parse_srt((build / "transcript.srt").read_text("utf-8"))


def test_a_build_killed_at_any_moment_leaves_whole_files(show: Path) -> None:
    build = show / EPISODE / "build"
    rng = random.Random(7)
    for attempt in range(4):
        _write_summary(
            show,
            f"Version {attempt} of this summary, which the voices have not read yet.",
            "A second paragraph so that there is something to synthesize and encode.",
        )
        proc = subprocess.Popen(
            [sys.executable, "-m", "podcast", "build", EPISODE],
            cwd=show,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        time.sleep(rng.uniform(0.3, 3.0))
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # the build and its worker processes, mid-flight
        proc.wait()
        _outputs_are_whole(build)
    finished = subprocess.run(
        [sys.executable, "-m", "podcast", "build", EPISODE], cwd=show, capture_output=True, text=True
    )
    assert finished.returncode == 0, finished.stderr
    _outputs_are_whole(build)
