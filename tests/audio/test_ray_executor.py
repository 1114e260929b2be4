"""The Ray executor (issue 16): `podcast build --executor ray` against a real Ray cluster on 127.0.0.1.

The cluster is one head node with 2 CPUs on 127.0.0.1 (support.ray_cluster). Every build is the real CLI in
a subprocess, connecting through RAY_ADDRESS as a user's would. The tests that need the cluster take
minutes: they are marked `ray` and run by `make test-ray` (CI runs it after `make test`).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import wait
from contextlib import ExitStack
from pathlib import Path

import pytest
from support.ray_cluster import LOOPBACK, loopback_head
from support.shows import FIRST_EPISODE, ONE_PAPER_EPISODE, make_publishable

THREE_PAPERS = ONE_PAPER_EPISODE + '''
[[papers]]
id = "2404.19756"
title = "KAN: Kolmogorov-Arnold Networks"
authors = ["Ziming Liu", "Max Tegmark"]
url = "https://arxiv.org/abs/2404.19756"
abstract = """Learnable activation functions on the edges replace the fixed ones on the nodes. \
Small networks of this kind fit scientific formulas with fewer parameters."""

[[papers]]
id = "2405.00732"
title = "LoRA Land: 310 Fine-tuned LLMs that Rival GPT-4"
authors = ["Justin Zhao"]
url = "https://arxiv.org/abs/2405.00732"
abstract = """Small models fine-tuned with low-rank adapters beat larger general models on narrow tasks. \
They can be served together on one GPU."""
'''
BUILT = ("week.mp3", "transcript.vtt", "transcript.srt", "transcript.json", "chapters.json")


@pytest.fixture(scope="module")
def cluster() -> Iterator[tuple[str, int]]:
    """A Ray head on 127.0.0.1 with 2 CPUs: (its address, its raylet's pid)."""
    with loopback_head(cpus=2) as head:
        yield head


def make_show(parent: Path, episode: str = THREE_PAPERS) -> Path:
    """`podcast init`'s show, its episode made `episode` and renamed `week`."""
    subprocess.run([sys.executable, "-m", "podcast", "init", "show"], cwd=parent, check=True, capture_output=True)
    root = make_publishable(parent / "show")
    week = (root / "episodes" / FIRST_EPISODE).rename(root / "episodes" / "week")
    (week / "episode.toml").write_text(episode, "utf-8")
    return root


def podcast(cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "podcast", *args],
        cwd=cwd,
        env={**os.environ, **LOOPBACK, **(env or {})},
        capture_output=True,
        text=True,
        timeout=900,
    )


def hashes(root: Path) -> dict[str, str]:
    build = root / "episodes" / "week" / "build"
    return {name: hashlib.sha256((build / name).read_bytes()).hexdigest() for name in BUILT}


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def local_build(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The hashes of the three-paper episode built cold with the local executor."""
    root = make_show(tmp_path_factory.mktemp("local"))
    result = podcast(root, "build", "episodes/week")
    assert result.returncode == 0, result.stderr
    return hashes(root)


@pytest.mark.ray
def test_a_ray_build_is_byte_identical_and_fills_the_line_cache(
    cluster: tuple[str, int], local_build: dict[str, str], tmp_path: Path
) -> None:
    root = make_show(tmp_path)
    result = podcast(root, "build", "--executor", "ray", "episodes/week", env={"RAY_ADDRESS": cluster[0]})
    assert result.returncode == 0, result.stderr
    assert "5 of 5 sections spoken anew" in result.stdout
    assert hashes(root) == local_build

    # The lines the cluster spoke are in this show's cache: a local build after losing every encoded
    # chunk speaks nothing and makes the same bytes.
    shutil.rmtree(root / ".cache" / "chunk")
    shutil.rmtree(root / "episodes" / "week" / "build")
    again = podcast(root, "build", "episodes/week")
    assert again.returncode == 0, again.stderr
    assert "0 of 5 sections spoken anew" in again.stdout
    assert hashes(root) == local_build


def _speaking_workers(raylet: int) -> list[int]:
    """Pids of this cluster's workers speaking a line right now (Ray names a process after its call)."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            title = (proc / "cmdline").read_bytes()
            parent = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if title.startswith(b"ray::PapercastVoice.speak") and parent == raylet:
            found.append(int(proc.name))
    return found


@pytest.mark.ray
def test_a_worker_killed_mid_line_is_replaced_and_the_episode_is_the_same(
    cluster: tuple[str, int], local_build: dict[str, str], tmp_path: Path
) -> None:
    address, raylet = cluster
    root = make_show(tmp_path)
    build = subprocess.Popen(
        [sys.executable, "-m", "podcast", "build", "--executor", "ray", "episodes/week"],
        cwd=root,
        env={**os.environ, **LOOPBACK, "RAY_ADDRESS": address},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    killed = None
    while killed is None and build.poll() is None:
        speaking = _speaking_workers(raylet)
        if speaking:
            killed = speaking[0]
            os.kill(killed, signal.SIGKILL)
        time.sleep(0.02)
    out, err = build.communicate(timeout=900)
    assert killed is not None, "the build ended before a worker could be killed mid-line"
    assert build.returncode == 0, err
    assert "5 of 5 sections spoken anew" in out
    assert hashes(root) == local_build


@pytest.mark.ray
def test_several_shows_build_in_one_command_and_a_failure_stops_none(
    cluster: tuple[str, int], tmp_path: Path
) -> None:
    shows = []
    for name in ("a", "b", "c"):
        (tmp_path / name).mkdir()
        shows.append(make_show(tmp_path / name, ONE_PAPER_EPISODE))
    (shows[2] / "episodes" / "week" / "episode.toml").write_text('title = "No date"\n', "utf-8")
    result = podcast(
        tmp_path,
        "build",
        "--executor",
        "ray",
        *(f"{s.parent.name}/show/episodes/week" for s in shows),
        env={"RAY_ADDRESS": cluster[0]},
    )
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert sorted(line.split(":")[0] for line in lines) == [
        "built a/show/episodes/week",
        "built b/show/episodes/week",
        "failed c/show/episodes/week",
    ], result.stdout
    assert "date" in next(line for line in lines if line.startswith("failed"))
    assert "error: 1 of 3 episodes failed" in result.stderr.splitlines(), result.stderr
    # Each show has its own cache; the two alike episodes came out alike.
    assert (shows[0] / ".cache" / "line").is_dir() and (shows[1] / ".cache" / "line").is_dir()
    a, b = (s / "episodes" / "week" / "build" / "week.mp3" for s in shows[:2])
    assert a.read_bytes() == b.read_bytes()
    assert not (shows[2] / "episodes" / "week" / "build").exists()


@pytest.mark.ray
def test_lines_spoken_on_the_cluster_land_in_this_cache_and_gpu_voices_ask_for_gpus(
    cluster: tuple[str, int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ray

    from podcast import cache
    from podcast.audio.ray_executor import RayExecutor
    from podcast.audio.speak import LineTask
    from podcast.errors import PodcastError
    from podcast.models import VoiceProfile
    from podcast.tts import ENGINES
    from podcast.tts.hibari import HibariEngine

    class GpuHibari(HibariEngine):
        name = "gpu-hibari"
        gpus = 1.0

    def task(engine: str) -> LineTask:
        profile = VoiceProfile("cohost", "Ava", engine, "heart")
        return LineTask(f"line-{engine}", "cohost", profile, ("Hello there.",), ("Hello there.",), "Intro",
                        0.3, tmp_path)

    monkeypatch.setenv("RAY_ADDRESS", cluster[0])
    try:
        with ExitStack() as stack:
            batch = RayExecutor().start(stack, [task("hibari")], None)
            (fut,) = batch.running
            wait([fut], timeout=600)
            assert batch.finish(fut) == "line-hibari"
        assert cache.Cache(tmp_path).get("line", "line-hibari", ".npz")
        assert list((tmp_path / "sentence").rglob("*.npz"))
        with ENGINES.registered(GpuHibari), ExitStack() as stack, pytest.raises(
            PodcastError, match=r"^voices/cohost.toml: the gpu-hibari engine needs 1 GPU per voice and the Ray cluster has 0"
        ):
            RayExecutor().start(stack, [task("gpu-hibari")], None)
    finally:
        ray.shutdown()


def test_without_ray_installed_the_build_says_how_to_install_it(tmp_path: Path) -> None:
    root = make_show(tmp_path)
    shadow = tmp_path / "shadow" / "ray"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text('raise ImportError("No module named \'ray\'", name="ray")\n', "utf-8")
    before = tree(root)
    result = podcast(root, "build", "--executor", "ray", "episodes/week", env={"PYTHONPATH": str(shadow.parent)})
    assert result.returncode == 1
    assert result.stderr.strip() == "error: --executor ray needs Ray: pip install 'papercast[ray]'"
    assert tree(root) == before


def set_executor(root: Path, executor: str) -> None:
    """`[render] executor = ...` in the show's podcast.toml, in the table podcast init lists."""
    toml = root / "podcast.toml"
    text = toml.read_text("utf-8")
    assert text.count("\n[render]\n") == 1, "podcast init's podcast.toml should have a [render] table"
    toml.write_text(text.replace("\n[render]\n", f'\n[render]\nexecutor = "{executor}"\n'), "utf-8")

def test_an_unreachable_cluster_is_one_line_and_writes_nothing(tmp_path: Path) -> None:
    root = make_show(tmp_path)
    set_executor(root, "ray")
    before = tree(root)
    result = podcast(root, "build", "episodes/week", env={"RAY_ADDRESS": "127.0.0.1:1"})
    assert result.returncode == 1
    assert result.stderr.strip().startswith("error: cannot reach the Ray cluster at 127.0.0.1:1 (RAY_ADDRESS): ")
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert tree(root) == before


def test_render_executor_must_be_local_or_ray(tmp_path: Path) -> None:
    root = make_show(tmp_path)
    set_executor(root, "dask")
    result = podcast(root, "build", "episodes/week")
    assert result.returncode == 1
    assert 'executor must be "local" or "ray", not \'dask\'' in result.stderr
