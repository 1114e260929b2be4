"""Reproducible builds (issue 15): an episode built twice from nothing is the same, byte for byte.

The two builds start with no .cache and use different numbers of synthesis workers: one speaks every
line in the build's own process, in script order; the other spreads the lines over worker processes
that finish in whatever order they do. Both default voices speak (piper, whose noise is drawn from
each sentence, and hibari, seeded), music included, so the MP3, its tags, the transcripts, chapters,
manifest, feed and pages all have to come out the same.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support.shows import ONE_PAPER_EPISODE

from podcast.errors import ConfigError

SECOND_PAPER = '''
[[papers]]
id = "2405.04434"
title = "DeepSeek-V2: A Strong, Economical, and Efficient Mixture-of-Experts Language Model"
authors = ["DeepSeek-AI"]
url = "https://arxiv.org/abs/2405.04434"
abstract = """DeepSeek-V2 activates 21B of its 236B parameters for each token. \
Its attention compresses the key-value cache into a latent vector."""
'''

OUTPUTS = (
    "episodes/week/build/week.mp3",
    "episodes/week/build/chapters.json",
    "episodes/week/build/transcript.vtt",
    "episodes/week/build/transcript.srt",
    "episodes/week/build/transcript.json",
    "public/feed.xml",
)
"""What the issue names, among everything compared."""


def make_show(parent: Path) -> Path:
    """`podcast init`'s show with its music turned on and one two-paper episode."""
    subprocess.run(
        [sys.executable, "-m", "podcast", "init", "show"], cwd=parent, check=True, capture_output=True
    )
    root = parent / "show"
    toml = root / "podcast.toml"
    text = toml.read_text("utf-8")
    for key, value in [
        ("intro_music", "music/bed.mp3"),
        ("outro_music", "music/bed.mp3"),
        ("stinger", "music/stinger.mp3"),
    ]:
        text, n = re.subn(rf"^# {key} = .*$", f'{key} = "{value}"', text, flags=re.M)
        assert n == 1, f"podcast init's podcast.toml should have one '# {key} = ' line"
    toml.write_text(text, "utf-8")
    shutil.rmtree(root / "episodes" / "first-week")
    (root / "episodes" / "week").mkdir()
    (root / "episodes" / "week" / "episode.toml").write_text(ONE_PAPER_EPISODE + SECOND_PAPER, "utf-8")
    return root


def cold_build(root: Path, workers: int) -> dict[str, str]:
    """Build and publish with PODCAST_WORKERS=workers; the sha256 of every file built or published."""
    assert not (root / ".cache").exists()
    env = {**os.environ, "PODCAST_WORKERS": str(workers)}
    for args in (["build", "episodes/week"], ["publish"]):
        result = subprocess.run(
            [sys.executable, "-m", "podcast", *args],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert result.returncode == 0, result.stderr
        if args[0] == "build":
            assert re.search(r"\b(\d+) of \1 sections spoken anew", result.stdout), result.stdout
    files = [
        p for folder in ("episodes/week/build", "public") for p in (root / folder).rglob("*") if p.is_file()
    ]
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


def test_two_cold_builds_with_different_workers_are_byte_identical(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    show = make_show(tmp_path / "a")
    # The same show in another folder: where a show lives must not change what it builds either.
    other = Path(shutil.copytree(show, tmp_path / "b" / "show"))

    in_process = cold_build(show, workers=1)
    in_workers = cold_build(other, workers=3)
    assert set(OUTPUTS) <= set(in_process)
    different = sorted(
        name for name in in_process.keys() | in_workers.keys() if in_process.get(name) != in_workers.get(name)
    )
    assert not different


def test_podcast_workers_takes_a_number_of_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    from podcast.audio.render import worker_count

    monkeypatch.setenv("PODCAST_WORKERS", "3")
    assert worker_count() == 3
    monkeypatch.setenv("PODCAST_WORKERS", "")
    assert worker_count() == (os.cpu_count() or 1)
    for wrong in ("0", "-2", "two", "1.5"):
        monkeypatch.setenv("PODCAST_WORKERS", wrong)
        with pytest.raises(
            ConfigError, match=f"PODCAST_WORKERS='{re.escape(wrong)}': give a number of worker"
        ):
            worker_count()
