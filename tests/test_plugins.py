"""Engines from other packages: a voice engine and a summarizer in a package of their own, installed
with pip (offline) into a folder on PYTHONPATH and found through their entry points, exactly as a
user's plugin would be; and engines registered in this process for one test."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from mutagen.mp3 import MP3
from support.shows import ONE_PAPER_EPISODE

from podcast.audio.encode import decode
from podcast.config import voice_profile
from podcast.errors import ConfigError, EngineError
from podcast.models import Paper
from podcast.scaffold import init_show
from podcast.summarize import SUMMARIZERS, Summarizer, SummarizerSettings, summarize_papers
from podcast.tts import ENGINES, TTSEngine, engine_names, get_engine

RATE = 44_100
"""What podcast's MP3s decode to."""
WORD, GAP = 0.2, 0.05
"""The tones engine says each word as WORD seconds of tone and GAP seconds of silence (at speed 1)."""

PYPROJECT = """\
[build-system]
requires = ["setuptools"]
build-backend = "setuptools.build_meta"

[project]
name = "{dist}"
version = "0.1"
dependencies = ["papercast"]

[tool.setuptools]
py-modules = ["{module}"]

{entry_points}
"""

TONES = f'''\
"""tones: a voice engine that says each word as a short tone, and a summarizer that writes headlines."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from podcast.errors import EngineError
from podcast.summarize import Summarizer
from podcast.tts import TTSEngine, path_option

WORD, GAP = {WORD}, {GAP}
PITCHES = {{"low": 220.0, "high": 330.0}}


@dataclass(frozen=True)
class ToneOptions:
    octave: int = 0
    """Octaves up from the voice's pitch (down when negative)."""
    tuning: str = path_option()
    """A text file holding the pitch in Hz, instead of the voice's (relative: to the show folder)."""


class ToneEngine(TTSEngine):
    name = "tones"
    sample_rate = 16_000
    Options = ToneOptions

    def __init__(self, voice: str = "low", speed: float = 1.0, *, octave: int = 0, tuning: str = "") -> None:
        super().__init__(voice, speed)
        if voice not in PITCHES:
            raise EngineError(f"tones has no voice {{voice!r}}; voices: low, high")
        base = float(Path(tuning).read_text().strip()) if tuning else PITCHES[voice]
        self.pitch = base * 2.0**octave

    @classmethod
    def voices(cls) -> list[str]:
        return list(PITCHES)

    def speak(self, text: str) -> np.ndarray:
        rate = self.sample_rate
        t = np.arange(round(WORD / self.speed * rate)) / rate
        ramp = np.minimum(1.0, np.minimum(t, t[-1] - t) / 0.005)  # no clicks
        tone = 0.5 * np.sin(2 * np.pi * self.pitch * t) * ramp
        word = np.concatenate([tone, np.zeros(round(GAP / self.speed * rate))])
        return np.tile(word, len(text.split())).astype(np.float32)


class HeadlineSummarizer(Summarizer):
    name = "headline"

    def summarize(self, paper):
        return f"{{paper.title}} makes this week's headline, in {{self.settings.words}} words or fewer."


class Misnamed(ToneEngine):
    name = "misnamed-inside"


class NotAnEngine:
    name = "not-an-engine"
'''

CLONE = '''\
"""Another package that wants the name "tones"."""

from podcast.tts import TTSEngine


class Tones(TTSEngine):
    name = "tones"

    def speak(self, text):
        raise NotImplementedError
'''


@dataclass(frozen=True)
class Plugins:
    tones: Path
    """Where the tones package is installed: put it on PYTHONPATH."""
    clone: Path
    """Where a second package that also declares "tones" is installed."""


def _package(folder: Path, dist: str, module: str, source: str, entry_points: str) -> Path:
    folder.mkdir(parents=True)
    (folder / "pyproject.toml").write_text(
        PYPROJECT.format(dist=dist, module=module, entry_points=entry_points), "utf-8"
    )
    (folder / f"{module}.py").write_text(source, "utf-8")
    return folder


def _pip_install(package: Path, target: Path) -> Path:
    """`package` installed into `target` the way a user installs a plugin, but offline: the venv's own
    setuptools builds it (the dev extra brings one that builds wheels by itself)."""
    args = ["install", "--quiet", "--target", str(target), "--no-deps", "--no-index", "--no-build-isolation"]
    run = subprocess.run(
        [sys.executable, "-m", "pip", *args, str(package)], capture_output=True, text=True, check=False
    )
    if run.returncode != 0:
        pytest.fail(f"pip could not install {package.name} offline (pip install -e '.[dev]'?):\n{run.stderr}")
    return target


@pytest.fixture(scope="module")
def plugins(tmp_path_factory: pytest.TempPathFactory) -> Plugins:
    src = tmp_path_factory.mktemp("src")
    tones = _package(
        src / "papercast-tones",
        "papercast-tones",
        "papercast_tones",
        TONES,
        '[project.entry-points."papercast.tts"]\n'
        'tones = "papercast_tones:ToneEngine"\n'
        'misnamed = "papercast_tones:Misnamed"\n'
        'not-an-engine = "papercast_tones:NotAnEngine"\n\n'
        '[project.entry-points."papercast.summarizers"]\n'
        'headline = "papercast_tones:HeadlineSummarizer"\n',
    )
    clone = _package(
        src / "tones-clone",
        "tones-clone",
        "tones_clone",
        CLONE,
        '[project.entry-points."papercast.tts"]\ntones = "tones_clone:Tones"\n',
    )
    site = tmp_path_factory.mktemp("site")
    return Plugins(_pip_install(tones, site / "tones"), _pip_install(clone, site / "clone"))


def podcast(cwd: Path, *args: str, path: list[Path], home: Path) -> subprocess.CompletedProcess[str]:
    """`podcast ARGS` in `cwd` with the packages in `path` importable, as a user runs it."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(map(str, path)), "XDG_CACHE_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "podcast", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def _rows(output: str) -> dict[str, list[str]]:
    return {cols[0]: cols for line in output.splitlines() if line.startswith("  ") and (cols := line.split())}


def _tone_seconds(audio: np.ndarray) -> float:
    """How long the audio sounds (10 ms frames above -30 dBFS), pauses left out."""
    frames = audio[: len(audio) // 441 * 441].reshape(-1, 441)
    return float(np.sum(np.sqrt(np.mean(frames**2, axis=1)) > 10 ** (-30 / 20))) * 0.01


def _share(audio: np.ndarray, hz: float) -> float:
    """The share of the audio's energy within 15 Hz of `hz` (a 0.2 s tone is about 10 Hz wide)."""
    power = np.abs(np.fft.rfft(audio)) ** 2
    freqs = np.fft.rfftfreq(len(audio), 1 / RATE)
    return float(power[np.abs(freqs - hz) <= 15].sum() / power.sum())


# -- discovery ------------------------------------------------------------------------------------


def test_listing_reads_metadata_and_imports_no_engine(plugins: Plugins, tmp_path: Path) -> None:
    code = (
        "import sys; from podcast.tts import ENGINES, engine_names; from podcast.summarize import names; "
        "print(engine_names(), names(), ENGINES.provider('tones')); "
        "print(sorted(m for m in sys.modules if m.startswith(('papercast_tones', 'podcast.tts.'))))"
    )
    env = {**os.environ, "PYTHONPATH": str(plugins.tones)}
    run = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    names, imported = run.stdout.splitlines()
    assert names == (
        "['coqui', 'hibari', 'misnamed', 'not-an-engine', 'openai', 'piper', 'tones'] "
        "['extractive', 'headline', 'openai'] "
        "Provider(name='tones', package='papercast-tones', target='papercast_tones:ToneEngine')"
    )
    assert imported == "['podcast.tts.base']"


def test_uninstalled_papercast_finds_no_engine_and_says_why(tmp_path: Path) -> None:
    # -S: no site-packages, so no package metadata, papercast's own included; the package is copied
    # alone, since an editable install leaves papercast.egg-info (metadata) beside it in the checkout.
    code = "from podcast.tts import get_engine; get_engine('piper')"
    shutil.copytree(Path(__file__).parents[1] / "podcast", tmp_path / "src" / "podcast")
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "src")}
    run = subprocess.run(
        [sys.executable, "-S", "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert run.stderr.splitlines()[-1] == (
        "podcast.errors.EngineError: unknown TTS engine 'piper'; "
        "known: none (install papercast to find its own: pip install -e .)"
    )


def test_voices_lists_each_engine_with_its_package(plugins: Plugins, tmp_path: Path) -> None:
    run = podcast(tmp_path, "voices", path=[plugins.tones], home=tmp_path)
    assert run.returncode == 0, run.stderr
    rows = _rows(run.stdout)
    assert rows["tones"][:5] == ["tones", "papercast-tones", "yes", "low,", "high"]
    assert rows["piper"][:3] == ["piper", "papercast", "yes"]
    # An entry point that names the wrong thing is listed, unusable, with what is wrong.
    assert rows["misnamed"][1:3] == ["papercast-tones", "no"]
    assert "Misnamed is named 'misnamed-inside', not 'misnamed'" in run.stdout
    assert rows["not-an-engine"][1:3] == ["papercast-tones", "no"]
    assert "is not a TTSEngine subclass" in run.stdout


def test_unknown_engine_names_the_ones_found(plugins: Plugins, tmp_path: Path) -> None:
    run = podcast(
        tmp_path, "say", "Hi.", "--engine", "tone", "-o", "x.mp3", path=[plugins.tones], home=tmp_path
    )
    assert run.returncode == 1
    assert run.stderr.splitlines() == [
        "error: --engine tone: unknown TTS engine 'tone'; "
        "known: coqui, hibari, misnamed, not-an-engine, openai, piper, tones"
    ]


def test_a_name_two_packages_declare_is_an_error_naming_both(plugins: Plugins, tmp_path: Path) -> None:
    both = [plugins.tones, plugins.clone]
    run = podcast(tmp_path, "say", "Hi.", "--engine", "tones", "-o", "x.mp3", path=both, home=tmp_path)
    assert run.returncode == 1
    assert run.stderr.splitlines() == [
        "error: --engine tones: TTS engine 'tones' is declared by two packages: "
        "papercast-tones (papercast_tones:ToneEngine) and tones-clone (tones_clone:Tones); "
        "uninstall one of them"
    ]
    assert not (tmp_path / "x.mp3").exists()
    listed = _rows(podcast(tmp_path, "voices", path=both, home=tmp_path).stdout)
    assert listed["tones"][1:4] == ["papercast-tones,", "tones-clone", "no"]
    # The other engines are unaffected.
    assert listed["piper"][:3] == ["piper", "papercast", "yes"]


# -- speaking and building with them ----------------------------------------------------------------


def test_say_speaks_through_the_plugin(plugins: Plugins, tmp_path: Path) -> None:
    text = "One two three four. Five six seven."
    args = ("say", text, "--engine", "tones", "--voice", "low", "-o", "x.mp3")
    run = podcast(tmp_path, *args, path=[plugins.tones], home=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "as tones low (tones low)" in run.stdout
    audio = decode(str(tmp_path / "x.mp3"))
    assert _tone_seconds(audio) == pytest.approx(7 * WORD, abs=0.1)  # seven words, silence between
    assert _share(audio, 220.0) > 0.8  # the low voice, nobody else
    spoken = 7 * (WORD + GAP)
    assert spoken < MP3(tmp_path / "x.mp3").info.length < spoken + 3.0


@pytest.fixture
def show(tmp_path: Path) -> Path:
    """The `podcast init` show with both voices and the summarizer from the tones package."""
    root = init_show(tmp_path / "show")
    (root / "tunings").mkdir()
    (root / "tunings" / "a.txt").write_text("440\n", "utf-8")
    (root / "voices" / "host.toml").write_text(
        'name = "Hal"\nengine = "tones"\nvoice = "high"\ntuning = "tunings/a.txt"\n', "utf-8"
    )
    (root / "voices" / "cohost.toml").write_text(
        'name = "Lo"\nengine = "tones"\nvoice = "low"\noctave = -1\n', "utf-8"
    )
    toml = root / "podcast.toml"
    toml.write_text(toml.read_text("utf-8").replace("[summarizer]\n", '[summarizer]\nengine = "headline"\n'), "utf-8")
    (root / "episodes" / "first-week" / "episode.toml").write_text(ONE_PAPER_EPISODE, "utf-8")
    return root


def test_a_build_uses_the_plugins_voice_and_summarizer(plugins: Plugins, show: Path, tmp_path: Path) -> None:
    run = podcast(show, "build", "episodes/first-week", path=[plugins.tones], home=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "summaries by headline" in run.stdout.splitlines()[-1]
    summary = (show / "episodes" / "first-week" / "summaries" / "2405.04517.md").read_text("utf-8")
    assert (
        "xLSTM: Extended Long Short-Term Memory makes this week's headline, in 130 words or fewer." in summary
    )
    audio = decode(str(show / "episodes" / "first-week" / "build" / "first-week.mp3"))
    host, cohost = _share(audio, 440.0), _share(audio, 110.0)  # tuning file; an octave below low
    assert host > 0.1 and cohost > 0.1 and host + cohost > 0.9


def test_profile_paths_are_the_show_folders_and_options_are_strict(
    plugins: Plugins, show: Path, tmp_path: Path
) -> None:
    # From a folder below the show, tunings/a.txt is found only as the show's.
    below = show / "episodes"
    run = podcast(below, "say", "Hello there.", "-o", "hi.mp3", path=[plugins.tones], home=tmp_path)
    assert run.returncode == 0, run.stderr
    assert _share(decode(str(below / "hi.mp3")), 440.0) > 0.8

    host = show / "voices" / "host.toml"
    for line, expected in [
        ("octave = 1.5", f"error: {host}: octave: expected an integer, got float 1.5"),
        ("pitch = 2", f"error: {host}: the tones engine does not use 'pitch'; remove it (allowed: "
                      "engine, voice, name, speed, octave, tuning)"),
    ]:  # fmt: skip
        host.write_text(f'engine = "tones"\nvoice = "high"\n{line}\n', "utf-8")
        failed = podcast(show, "voices", path=[plugins.tones], home=tmp_path)
        assert (failed.returncode, failed.stderr.splitlines()) == (1, [expected])


# -- in this process ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class HumOptions:
    hz: float = 100.0
    """The hum's pitch."""


class Hum(TTSEngine):
    name = "test-hum"
    sample_rate = 8000
    Options = HumOptions

    def __init__(self, voice: str, speed: float = 1.0, *, hz: float = 100.0) -> None:
        super().__init__(voice, speed)
        self.hz = hz

    def speak(self, text: str) -> np.ndarray:
        return np.sin(2 * np.pi * self.hz * np.arange(800) / 8000).astype(np.float32)


@pytest.fixture
def hum() -> Iterator[type[Hum]]:
    with ENGINES.registered(Hum) as cls:
        yield cls


def test_an_engine_registered_for_one_test(hum: type[Hum]) -> None:
    assert get_engine("test-hum") is hum and "test-hum" in engine_names()
    profile = voice_profile("hum", {"engine": "test-hum", "voice": "any", "hz": 220}, "voices/hum.toml")
    assert profile.settings == (("hz", 220.0),)  # a float option takes an integer, as TOML writes it
    assert voice_profile("hum", {"engine": "test-hum", "voice": "any", "hz": 100.0}, "x").settings == ()
    with pytest.raises(ConfigError, match=r"^voices/hum.toml: hz: expected a number, got str 'high'$"):
        voice_profile("hum", {"engine": "test-hum", "voice": "any", "hz": "high"}, "voices/hum.toml")


def test_the_registration_ends_with_its_block() -> None:
    with ENGINES.registered(Hum):
        assert "test-hum" in engine_names()
    assert "test-hum" not in engine_names()
    with pytest.raises(EngineError, match=r"^unknown TTS engine 'test-hum'; known: coqui, .*piper") as e:
        get_engine("test-hum")
    assert "test-hum," not in str(e.value) and not str(e.value).endswith("test-hum")


def test_a_registered_name_must_be_free_and_the_class_an_engine() -> None:
    class Piper(Hum):
        name = "piper"

    with pytest.raises(ValueError, match=r"'piper' is built in \(podcast.tts.piper:PiperEngine\)"):
        ENGINES.register(Piper)
    with pytest.raises(TypeError, match="is not a TTSEngine subclass"):
        ENGINES.register(Paper)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"Loud.__init__ must take its options as keyword arguments: hz"):

        class Loud(TTSEngine):
            Options = HumOptions

            def speak(self, text: str) -> np.ndarray:
                return np.zeros(1, np.float32)


def test_a_summarizer_registered_for_one_block() -> None:
    class Shout(Summarizer):
        name = "test-shout"

        def summarize(self, paper: Paper) -> str:
            return paper.title.upper() + "!"

    paper = Paper("1", "Attention", abstract="It is all you need.")
    with SUMMARIZERS.registered(Shout):
        summaries = summarize_papers([paper], SummarizerSettings(engine="test-shout"))
    assert [s.text for s in summaries] == ["ATTENTION!"]
    with pytest.raises(EngineError, match=re.escape("unknown summarizer 'test-shout'")):
        summarize_papers([paper], SummarizerSettings(engine="test-shout"))
