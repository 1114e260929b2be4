"""`podcast voices` and `podcast say`, run as a user runs them, against the real voices and ffmpeg."""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from fakes.openai_speech import KEY, SpeechServer
from mutagen.mp3 import MP3
from support.shows import make_publishable

from podcast.cli import main
from podcast.publish.check.media import measure_loudness
from podcast.scaffold import init_show
from podcast.voices_cmd import SECTION_CHARS, text_script

OPENAI_HOST = (
    'name = "Alloy"\nengine = "openai"\nvoice = "alloy"\nmodel = "gpt-4o-mini-tts"\n'
    'instructions = "Calm and warm."\n'
)
TEXT = (
    "Welcome to a short test of the say command. It speaks any text the way an episode is spoken.\n\n"
    "This second paragraph checks that the mastering lands near minus sixteen LUFS, as heard."
)


@dataclass(frozen=True)
class Result:
    returncode: int
    stdout: str
    stderr: str


Podcast = Callable[..., Result]


@pytest.fixture
def podcast(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Podcast:
    """`podcast ARGS` in `cwd` with no OPENAI_* variables but those given: the real CLI, in this
    process, so the voices load once for all these tests (conftest's run_podcast starts a new one)."""

    def run(cwd: Path, *args: str, stdin: str | None = None, **env: str) -> Result:
        with monkeypatch.context() as m:
            m.chdir(cwd)
            for name in [k for k in os.environ if k.startswith("OPENAI_")]:
                m.delenv(name)
            for name, value in {"NO_PROXY": "127.0.0.1", **env}.items():
                m.setenv(name, value)
            if stdin is not None:
                m.setattr(sys, "stdin", io.StringIO(stdin))
            code = main(list(args))
        out = capsys.readouterr()
        return Result(code, out.out, out.err)

    return run


@pytest.fixture
def show(tmp_path: Path) -> Path:
    """A new show whose host speaks through the openai engine (the co-host stays on hibari)."""
    root = make_publishable(init_show(tmp_path / "show"))
    (root / "voices" / "host.toml").write_text(OPENAI_HOST, "utf-8")
    return root


def _rows(output: str) -> dict[str, list[str]]:
    """First column -> the row's columns, for every table row of `podcast voices`."""
    return {cols[0]: cols for line in output.splitlines() if line.startswith("  ") and (cols := line.split())}


def test_voices_lists_engines_profiles_and_what_works(
    show: Path, openai_speech: SpeechServer, podcast: Podcast
) -> None:
    without = podcast(show, "voices")
    assert without.returncode == 0, without.stderr
    rows = _rows(without.stdout)
    assert rows["engine"][:3] == ["engine", "package", "usable"]
    assert rows["piper"][1:3] == ["papercast", "yes"] and "joe" in rows["piper"]
    assert rows["hibari"][1:3] == ["papercast", "yes"] and "heart" in rows["hibari"]
    assert rows["openai"][1:3] == ["papercast", "no"] and "OPENAI_API_KEY is not set" in without.stdout
    assert rows["host"][1:6] == ["Alloy", "host", "openai", "alloy", "(gpt-4o-mini-tts)"]
    assert rows["host"][6] == "no"
    assert rows["cohost"][1:6] == ["Ava", "cohost", "hibari", "heart", "yes"]
    assert f"voice profiles in {show / 'voices'}" in without.stdout

    with_key = podcast(show, "voices", OPENAI_API_KEY=KEY)
    rows = _rows(with_key.stdout)
    assert rows["openai"][2] == "yes" and rows["host"][6] == "yes"
    assert KEY not in with_key.stdout + with_key.stderr
    assert openai_speech.requests == []  # listing calls no server

    outside = podcast(show.parent, "voices")
    assert "no show here" in outside.stdout and _rows(outside.stdout)["host"][3] == "piper"


def _assert_podcast_audio(mp3: Path, title: str) -> None:
    info = MP3(mp3)
    assert (info.info.sample_rate, info.info.channels) == (44_100, 1)
    assert str(info.tags["TIT2"]) == title
    loud = measure_loudness(mp3)
    assert abs(loud.integrated - -16.0) <= 1.0, loud
    assert loud.true_peak <= -1.0 and loud.decode_errors == (), loud


def test_say_with_a_bundled_voice_outside_a_show(tmp_path: Path, podcast: Podcast) -> None:
    cache = tmp_path / "user-cache"
    args = ("say", "-", "--voice", "cohost", "-o", "hello.mp3", "--title", "A test")
    first = podcast(tmp_path, *args, stdin=TEXT, XDG_CACHE_HOME=str(cache))
    assert first.returncode == 0, first.stderr
    assert "as Ava (hibari heart)" in first.stdout and "1 of 1 parts spoken anew" in first.stdout
    _assert_podcast_audio(tmp_path / "hello.mp3", "A test")
    assert list((cache / "papercast" / "line").rglob("*.npz"))  # the per-user cache, not the folder
    assert not (tmp_path / ".cache").exists()

    again_args = ("say", "-", "--voice", "cohost", "-o", "again.mp3", "--title", "A test")
    again = podcast(tmp_path, *again_args, stdin=TEXT, XDG_CACHE_HOME=str(cache))
    assert "0 of 1 parts spoken anew" in again.stdout, again.stderr
    assert (tmp_path / "again.mp3").read_bytes() == (tmp_path / "hello.mp3").read_bytes()


def test_say_through_openai_in_a_show(show: Path, openai_speech: SpeechServer, podcast: Podcast) -> None:
    api = {"OPENAI_API_KEY": KEY, "OPENAI_BASE_URL": openai_speech.base_url}
    result = podcast(show, "say", TEXT, *["--engine", "openai", "--voice", "alloy", "-o", "out.mp3"], **api)
    assert result.returncode == 0, result.stderr
    _assert_podcast_audio(show / "out.mp3", "Welcome to a short test of the say…")
    sent = {(r.voice, r.model, r.authorization) for r in openai_speech.requests}
    assert sent == {("alloy", "tts-1", f"Bearer {KEY}")}
    # Sentence by sentence, every word once; paragraphs are spoken in parallel, so in any order.
    assert all(r.input.rstrip().endswith((".", "!", "?")) for r in openai_speech.requests)
    assert sorted(" ".join(r.input for r in openai_speech.requests).split()) == sorted(TEXT.split())
    assert list((show / ".cache" / "line").rglob("*.npz"))  # the show's cache

    openai_speech.requests.clear()
    profile = podcast(show, "say", "One more line from the host.", "-o", "host.mp3", **api)
    assert profile.returncode == 0, profile.stderr
    assert [(r.model, r.instructions) for r in openai_speech.requests] == [("gpt-4o-mini-tts", "Calm and warm.")]


def test_say_errors_are_one_line(show: Path, openai_speech: SpeechServer, podcast: Podcast) -> None:
    unknown = podcast(show, "say", "Hi.", "--voice", "narrator", "-o", "x.mp3")
    assert unknown.returncode == 1
    assert unknown.stderr.strip().splitlines() == [
        f"error: no voice profile 'narrator' in {show / 'voices'}; profiles: cohost, host "
        "(or name an engine's voice: --engine NAME --voice VOICE)"
    ]
    wrong_key = "sk-wrong-0000000000"
    api = {"OPENAI_API_KEY": wrong_key, "OPENAI_BASE_URL": openai_speech.base_url}
    refused = podcast(show, *["say", "Hi.", "--engine", "openai", "--voice", "alloy", "-o", "x.mp3"], **api)
    assert refused.returncode == 1 and len(refused.stderr.strip().splitlines()) == 1
    assert refused.stderr.startswith("error: --engine openai --voice alloy: ")
    assert "HTTP 401" in refused.stderr
    assert "sk-wr" not in refused.stderr
    empty = podcast(show, "say", "-", "-o", "x.mp3", stdin="\n  \n")
    assert empty.returncode == 1 and "nothing to say" in empty.stderr
    assert not (show / "x.mp3").exists()
    (show / "outdir").mkdir()
    folder = podcast(show, "say", "Hi.", "-o", "outdir")
    assert folder.returncode == 1 and folder.stderr.strip().splitlines() == [
        "error: outdir is a folder; give -o the name of the MP3 to write, e.g. outdir/said.mp3"
    ]
    assert list((show / "outdir").iterdir()) == []


def test_long_text_becomes_paragraph_lines_in_sections_of_bounded_size() -> None:
    paragraph = "A sentence of about fifty characters, give or take. " * 12
    text = "\n \n".join([paragraph] * 7) + "\n\n\n# Heading\n\n" + "`$`\n\n"
    script = text_script(text, "host", "Notes")
    lines = [line for section in script.sections for line in section.lines]
    assert len(lines) == 8  # seven paragraphs and the heading; the unspeakable one is dropped
    assert all(sum(len(ln.text) for ln in s.lines) <= SECTION_CHARS for s in script.sections)
    assert len(script.sections) == 3 and script.sections[0].title == "Notes (1)"
    assert " ".join(ln.text for ln in lines).split() == text.replace("`$`", "").split()
