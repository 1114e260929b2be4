"""One build or publish at a time per show (issue 12, item 3): a second run waits for the first, and
the files both write (script.md, summaries/, .generated.json, the episode) come out right."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support.shows import FIRST_EPISODE

from podcast.cache import show_lock
from podcast.errors import PodcastError

EPISODE = Path("episodes") / FIRST_EPISODE
MADE = [EPISODE / "script.md", EPISODE / ".generated.json", EPISODE / "build" / f"{FIRST_EPISODE}.mp3"]


def _start(root: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "podcast", *args],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _forget_generated(root: Path) -> None:
    """Remove what a build regenerates, and the encoded chunks, so a build has real work to do."""
    for rel in MADE[:2]:
        (root / rel).unlink()
    shutil.rmtree(root / EPISODE / "summaries")
    shutil.rmtree(root / ".cache" / "chunk")


def _same_as_built(root: Path, built_show: Path) -> None:
    for rel in MADE:
        assert (root / rel).read_bytes() == (built_show / rel).read_bytes(), rel
    summaries = sorted(p.name for p in (built_show / EPISODE / "summaries").iterdir())
    assert summaries and sorted(p.name for p in (root / EPISODE / "summaries").iterdir()) == summaries
    for name in summaries:
        rel = EPISODE / "summaries" / name
        assert (root / rel).read_bytes() == (built_show / rel).read_bytes(), rel


def test_a_build_waits_while_another_holds_the_show(built_show: Path, show: Path) -> None:
    _forget_generated(show)
    with open(show / ".cache" / "lock", "a+", encoding="utf-8") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        build = _start(show, "build", str(EPISODE))
        assert build.stderr is not None
        first = build.stderr.readline()  # blocks until the build says something: it must be waiting
        assert first.startswith("waiting for another build of "), first
        assert first.rstrip().endswith(f"(pid {os.getpid()})"), first
        assert not (show / MADE[0]).exists()  # it waits before the first stage
    _out, err = build.communicate()
    assert build.returncode == 0, err
    assert "Traceback" not in err
    _same_as_built(show, built_show)


def test_two_builds_started_together_both_succeed(built_show: Path, show: Path) -> None:
    _forget_generated(show)
    # Three at once, so on a busy machine too at least two of them overlap.
    runs = [_start(show, "build", str(EPISODE)) for _ in range(3)]
    results = [(r, *r.communicate()) for r in runs]
    for run, _out, err in results:
        assert run.returncode == 0, err
        assert "Traceback" not in err
    assert not list((show / ".cache" / "staging").iterdir())
    _same_as_built(show, built_show)


def test_publish_waits_for_a_build(show: Path) -> None:
    with open(show / ".cache" / "lock", "a+", encoding="utf-8") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        publish = _start(show, "publish")
        assert publish.stderr is not None
        first = publish.stderr.readline()
        assert "waiting for another build of" in first, first
    _out, err = publish.communicate()
    assert publish.returncode == 0, err


def test_a_run_with_a_timeout_gives_up_with_one_line(tmp_path: Path) -> None:
    with open(tmp_path / "lock", "a+", encoding="utf-8") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(PodcastError) as caught, show_lock(tmp_path, "Papers & Pods", timeout=0):
            pass
    assert str(caught.value) == f"another build of Papers & Pods is running (pid {os.getpid()})"
    with show_lock(tmp_path, "Papers & Pods", timeout=0):  # released: taken at once
        assert (tmp_path / "lock").read_bytes() == b""  # taking the lock writes nothing
