"""Paths a show's TOML names stay in the show folder: a PDF, the cover, music, prompt files and voice
models outside it (by an absolute path, by '..' or by a symbolic link) are a one-line error naming
the file and the key, since what they name is read, published or sent to an LLM."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from conftest import RunCli
from fakes.arxiv import make_pdf
from support.shows import make_publishable

from podcast.config import load_episode, load_show, voice_profile
from podcast.errors import ConfigError
from podcast.research.sources import papers_of
from podcast.scaffold import init_show
from podcast.tts import ENGINES, TTSEngine, path_option

PDF_TEXT = [["The authors measure how far a recurrent network goes when it is scaled up with",
             "exponential gating and a matrix memory, and find it competitive with attention",
             "at the same size on every benchmark they tried, from language modeling onward."]]  # fmt: skip


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A fresh `podcast init` show (not built: these errors come before any audio)."""
    return make_publishable(init_show(tmp_path / "show"))


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A readable PDF beside the show folder, not in it."""
    path = tmp_path / "secret.pdf"
    path.write_bytes(make_pdf(PDF_TEXT))
    return path


def set_pdf(root: Path, pdf: str) -> Path:
    """The example episode with its first paper read from `pdf`; the episode folder."""
    folder = root / "episodes" / "first-week"
    toml = folder / "episode.toml"
    text = toml.read_text("utf-8").replace("published = 2024-05-07\n", f"published = 2024-05-07\npdf = {pdf!r}\n", 1)
    toml.write_text(text, "utf-8")
    return folder


def set_show(root: Path, before: str, line: str) -> None:
    """Put `line` into podcast.toml just before the first occurrence of `before`."""
    toml = root / "podcast.toml"
    toml.write_text(toml.read_text("utf-8").replace(before, f"{line}\n{before}", 1), "utf-8")


# -- episode.toml: pdf -------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["dotdot", "absolute", "symlink", "symlinked folder"])
def test_a_pdf_outside_the_show_is_refused(root: Path, outside: Path, how: str) -> None:
    folder = root / "episodes" / "first-week"
    if how == "dotdot":
        pdf = "../../../secret.pdf"
    elif how == "absolute":
        pdf = str(outside)
    elif how == "symlink":
        (folder / "papers").mkdir()
        os.symlink(outside, folder / "papers" / "x.pdf")
        pdf = "papers/x.pdf"
    else:
        os.symlink(outside.parent, folder / "papers")
        pdf = "papers/secret.pdf"
    set_pdf(root, pdf)
    assert (folder / pdf).is_file()  # readable as written: only the rule stops it
    with pytest.raises(ConfigError) as e:
        load_episode(folder)
    assert str(e.value) == (
        f"{folder / 'episode.toml'}: paper 1 pdf {pdf!r} leads outside the show folder {root.resolve()}; "
        "copy the PDF into the show (e.g. to papers/ beside episode.toml) and give that path "
        "(a symbolic link out of the show is refused too)"
    )


def test_a_pdf_anywhere_in_the_show_is_read(root: Path) -> None:
    (root / "papers").mkdir()
    (root / "papers" / "x.pdf").write_bytes(make_pdf(PDF_TEXT))
    (root / "shared.pdf").symlink_to(root / "papers" / "x.pdf")  # a link that stays in the show
    for pdf in ("../../papers/x.pdf", "../../shared.pdf", str(root / "papers" / "x.pdf")):
        folder = set_pdf(root, pdf)
        papers = papers_of(load_episode(folder), folder)
        assert "exponential gating and a matrix memory" in papers[0].full_text
        (folder / "episode.toml").write_text(
            re.sub(r"^pdf = .*\n", "", (folder / "episode.toml").read_text("utf-8"), flags=re.M), "utf-8"
        )


def test_the_build_stops_at_a_pdf_outside_the_show(root: Path, outside: Path, run_cli: RunCli) -> None:
    folder = set_pdf(root, "../../../secret.pdf")
    result = run_cli(root, "build", "episodes/first-week")
    assert result.returncode == 1
    [line] = result.stderr.splitlines()
    assert line.startswith(f"error: {folder / 'episode.toml'}: paper 1 pdf '../../../secret.pdf' leads outside")
    assert not (folder / "summaries").exists() and not (folder / "build").exists()


# -- podcast.toml: cover, music, prompts ------------------------------------------------------------


def set_key(root: Path, table: str, key: str, value: str) -> None:
    """Set `key` in podcast.toml's [table] (top level when `table` is empty)."""
    toml = root / "podcast.toml"
    text = toml.read_text("utf-8")
    if table:
        text = text.replace(f"\n[{table}]\n", f"\n[{table}]\n{key} = {value!r}\n", 1)
    else:
        text = f"{key} = {value!r}\n{text}"
    toml.write_text(text, "utf-8")


@pytest.mark.parametrize(
    ("table", "key"),
    [("", "cover"), ("audio", "intro_music"), ("audio", "stinger"), ("summarizer", "prompt"), ("script", "prompt")],
)
def test_show_files_outside_the_show_are_refused(root: Path, table: str, key: str) -> None:
    (root.parent / "elsewhere.png").write_bytes(b"\x89PNG\r\n")
    set_key(root, table, key, "../elsewhere.png")
    with pytest.raises(ConfigError) as e:
        load_show(root)
    where = f"{root / 'podcast.toml'}{f' [{table}]' if table else ''}: {key}"
    assert str(e.value).startswith(f"{where} '../elsewhere.png' leads outside the show folder {root}; copy ")


def test_show_files_in_the_show_still_load(root: Path) -> None:
    (root / "prompts").mkdir()
    (root / "prompts" / "mine.md").write_text("Summarize in {words} words.\n", "utf-8")
    set_key(root, "summarizer", "prompt", "prompts/../prompts/mine.md")
    set_key(root, "audio", "intro_music", "music/bed.mp3")
    cfg = load_show(root)
    assert cfg.summarizer.prompt == str(root / "prompts/../prompts/mine.md")
    assert cfg.audio.intro_music == "music/bed.mp3"


# -- voice profiles ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Options:
    tuning: str = path_option()


class _ModelEngine(TTSEngine):
    """An engine that runs a model file, with one path option: the shape of piper's and coqui's."""

    name = "test-model"
    sample_rate = 16_000
    Options = _Options
    voice_may_be_path = True

    def __init__(self, voice: str, speed: float = 1.0, *, tuning: str = "") -> None:
        super().__init__(voice, speed)

    def speak(self, text: str) -> np.ndarray:
        return np.zeros(160, dtype=np.float32)


@pytest.mark.parametrize("key", ["voice", "tuning"])
def test_voice_paths_outside_the_show_are_refused(root: Path, outside: Path, key: str) -> None:
    where = str(root / "voices" / "host.toml")
    with ENGINES.registered(_ModelEngine):
        for value in (str(outside), "../secret.pdf", "../../secret.pdf"):
            table = {"engine": "test-model", "voice": "v", key: value}
            with pytest.raises(ConfigError) as e:
                voice_profile("host", table, where, root)
            assert str(e.value).startswith(f"{where}: {key} {value!r} leads outside the show folder")
            assert "copy the model file into the show (e.g. to voices/)" in str(e.value)


def test_voice_paths_and_names_in_the_show_load(root: Path) -> None:
    (root / "voices" / "models").mkdir()
    (root / "voices" / "models" / "m.onnx").write_bytes(b"")
    where = str(root / "voices" / "host.toml")
    with ENGINES.registered(_ModelEngine):
        table = {"engine": "test-model", "voice": "voices/models/m.onnx", "tuning": "voices/models/m.onnx"}
        profile = voice_profile("host", table, where, root)
        assert profile.voice == str(root.resolve() / "voices" / "models" / "m.onnx")
        assert profile.settings == (("tuning", profile.voice),)
        named = voice_profile("host", {"engine": "test-model", "voice": "tts_models/en/vits"}, where, root)
        assert named.voice == "tts_models/en/vits"  # a model's name, not a path: kept as written
        # Without a show (podcast say --engine --voice), a path is the user's own command-line choice.
        assert voice_profile("x", {"engine": "test-model", "voice": "/opt/m.onnx"}, "--voice").voice == "/opt/m.onnx"
