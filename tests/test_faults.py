"""Faults during a build: a voice failing mid-episode, and a build killed at any moment."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fakes.flaky_engine import FlakyEngine
from mutagen.id3 import ID3

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
    """Everything in build/ is a complete file of one build: the record is there and matches its
    MP3 (size, chapters), the MP3 decodes cleanly, the JSON and the transcripts parse."""
    for f in build.iterdir():
        assert not f.name.startswith("."), f"partial file left in build/: {f.name}"
    record = json.loads((build / "episode.json").read_text("utf-8"))
    mp3 = build / record["audio"]
    assert mp3.stat().st_size == record["audio_bytes"], "the MP3 is not the one episode.json describes"
    chapters = [(c.sub_frames["TIT2"].text[0], c.start_time) for c in ID3(mp3).getall("CHAP")]
    assert chapters == [(c["title"], round(c["start"] * 1000)) for c in record["chapters"]]
    decoded = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(mp3), "-f", "null", "-"], capture_output=True, text=True
    )
    assert decoded.stderr == ""
    json.loads((build / "chapters.json").read_text("utf-8"))
    parse_vtt((build / "transcript.vtt").read_text("utf-8"))
    parse_srt((build / "transcript.srt").read_text("utf-8"))


STAGES = {
    "writing the MP3": re.compile(r"\.first-week\.mp3\..*\.part"),
    "writing the transcripts": re.compile(r"\.transcript\.(vtt|srt|json)\..*\.part"),
    "writing episode.json, every other file staged": re.compile(r"\.episode\.json\..*\.part"),
}
"""When to kill a build: as soon as its staging folder (.cache/staging/<slug>-*) or build/ holds a
hidden .part file of that output. The build writes each file in staging as a .part file renamed
when whole, and moves them all into build/ at the end, episode.json last; build/ should never see
a .part file."""


def _build_killed_when(show: Path, stage: re.Pattern[str]) -> bool:
    """Run a build and SIGKILL it (and its workers) the moment its staging folder or build/ holds
    a file matching `stage`. True when the kill landed mid-write: the build's staging folder outlived it
    (a build that ends in any other way removes it). Folders of builds killed before are not its."""
    staging = show / ".cache" / "staging"
    before = set(staging.glob("first-week-*"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "podcast", "build", EPISODE],
        cwd=show,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        while proc.poll() is None:
            with contextlib.suppress(FileNotFoundError):  # folders come and go
                # build/ too: a file written there in place, not moved in whole, must be caught.
                watched = [*(set(staging.glob("first-week-*")) - before), show / EPISODE / "build"]
                if any(stage.fullmatch(f.name) for d in watched for f in d.iterdir()):
                    os.killpg(proc.pid, signal.SIGKILL)
                    break
            time.sleep(0.0005)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    return proc.returncode == -signal.SIGKILL and bool(set(staging.glob("first-week-*")) - before)


def test_a_build_killed_mid_write_leaves_whole_files(show: Path) -> None:
    """A build killed in each stage of writing its outputs leaves build/ whole. The kill is timed
    by what the build has written, not by the clock, and only a kill known to have landed inside
    the write window counts (a slow or busy machine only makes that window longer). The summary is
    new, so until a build finishes, what it writes differs from what build/ holds."""
    build = show / EPISODE / "build"
    _write_summary(
        show,
        "A new version of this summary, which the voices have not read yet.",
        "A second paragraph so that there is something to synthesize and encode.",
    )
    for stage, pattern in STAGES.items():
        tries: list[bool] = []
        while len(tries) < 5 and not any(tries):
            tries.append(_build_killed_when(show, pattern))
            _outputs_are_whole(build)
        assert any(tries), f"no build was killed while {stage} in {len(tries)} tries"
    finished = subprocess.run(
        [sys.executable, "-m", "podcast", "build", EPISODE], cwd=show, capture_output=True, text=True
    )
    assert finished.returncode == 0, finished.stderr
    _outputs_are_whole(build)
    assert "A new version of this summary" in (build / "transcript.vtt").read_text("utf-8")
    assert not any((show / ".cache" / "staging").glob("first-week-*")), "a killed build's staging was kept"
