"""What the commands print (issue 14): warnings only where they matter and never wrapped mid-sentence,
a build that says what it is doing when not on a terminal, `check --loudness` with its numbers, and
`make` saying what its long first install does."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import imageio_ffmpeg
import pytest

from podcast.publish.check.media import measure_loudness

REPO = Path(__file__).resolve().parent.parent
PLACEHOLDER = "base_url 'https://example.com/podcast/' is a placeholder; set it to where the site will be served"


def podcast(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The CLI with a narrow terminal width, which rich would wrap a long warning at."""
    env = dict(os.environ, COLUMNS="40")
    return subprocess.run([sys.executable, "-m", "podcast", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600, check=False)


@pytest.fixture(scope="module")
def placeholder_show(tmp_path_factory: pytest.TempPathFactory) -> Path:
    parent = tmp_path_factory.mktemp("new-show")
    assert podcast(parent, "init", "show").returncode == 0
    return parent / "show"


@pytest.mark.parametrize("args", [("voices",), ("check",), ("say", "Hello.", "-o", "hello.mp3")])
def test_only_publishing_warns_of_a_placeholder_base_url(placeholder_show: Path, args: tuple[str, ...]) -> None:
    result = podcast(placeholder_show, *args)
    assert "placeholder" not in result.stderr + result.stdout


def test_publish_warns_of_a_placeholder_base_url_on_one_line(placeholder_show: Path) -> None:
    result = podcast(placeholder_show, "publish")
    lines = [line for line in result.stderr.splitlines() if "placeholder" in line]
    assert len(lines) == 1 and lines[0].startswith("warning: ") and lines[0].endswith(PLACEHOLDER), result.stderr


def test_build_off_a_terminal_says_what_it_renders(show: Path) -> None:
    toml = show / "episodes" / "first-week" / "episode.toml"
    toml.write_text(toml.read_text("utf-8").replace("See you next week.", "See you on Friday."), "utf-8")
    result = podcast(show, "build", "episodes/first-week")
    assert result.returncode == 0, result.stderr
    progress = [line for line in result.stderr.splitlines() if line.startswith(("rendering", "rendered", "all "))]
    assert progress == ["rendering 1 of 3 sections (2 from the cache)", "rendered Outro (3/3 sections ready)"]
    again = podcast(show, "build", "episodes/first-week")
    assert again.returncode == 0
    assert not [line for line in again.stderr.splitlines() if line.startswith("render")]
    assert "0 of 3 sections spoken anew" in again.stdout


def test_check_loudness_prints_each_episodes_measure_and_its_convention(show: Path) -> None:
    result = podcast(show, "check", "--loudness")
    assert result.returncode == 0, result.stdout + result.stderr
    mp3 = "episodes/first-week/first-week.mp3"
    [line] = [line for line in result.stdout.splitlines() if line.startswith(f"{mp3}: ")]
    m = re.fullmatch(rf"{re.escape(mp3)}: (-\d+\.\d) LUFS integrated, (-\d+\.\d) dBTP true peak "
                     r"\(target -16 LUFS, peak at most -1 dBTP\)", line)
    assert m, line
    measured = measure_loudness(show / "public" / mp3)
    assert float(m.group(1)) == round(measured.integrated, 1)
    assert float(m.group(2)) == round(measured.true_peak, 1)
    assert any("dual mono" in line and "about 3 LU lower" in line for line in result.stdout.splitlines())
    # The convention it states: ffmpeg's plain ebur128 reads this mono file about 3 LU lower.
    plain = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-nostats", "-i",
                            str(show / "public" / mp3), "-af", "ebur128", "-f", "null", "-"],
                           capture_output=True, text=True, check=True).stderr
    mono = float(re.findall(r"\bI:\s+(-?\d+\.\d) LUFS", plain)[-1])
    assert 2.5 <= measured.integrated - mono <= 3.5


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_says_what_the_first_install_and_the_demo_do(tmp_path: Path) -> None:
    # -n prints what would run, -B as if nothing were installed yet; nothing is run or installed.
    dry = subprocess.run(["make", "-n", "-B", "-C", str(REPO), "demo", "VENV=" + str(tmp_path / "venv")],
                         capture_output=True, text=True, check=True).stdout.splitlines()
    pip = next(i for i, line in enumerate(dry) if "pip install" in line)
    assert any(line.startswith("echo") and "Installing papercast" in line for line in dry[:pip])
    build = next(i for i, line in enumerate(dry) if "podcast build" in line)
    assert any(line.startswith("echo") and "sample week" in line for line in dry[pip:build])


def test_a_reader_that_goes_away_ends_the_command_without_a_traceback(placeholder_show: Path) -> None:
    """`podcast voices | head -1`: the pipe closes before the report is written."""
    read, write = os.pipe()
    os.close(read)
    try:
        result = subprocess.run([sys.executable, "-m", "podcast", "voices"], cwd=placeholder_show, stdout=write,
                                stderr=subprocess.PIPE, text=True, timeout=600, check=False)
    finally:
        os.close(write)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and "BrokenPipe" not in result.stderr, result.stderr
