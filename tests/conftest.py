"""Shared fixtures: the real `podcast` CLI as a subprocess, a real show folder built once per session,
and the fakes of tests/fakes/, each started (or registered) for one test and stopped (or unregistered)
after it."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fakes.arxiv import FakeArxiv
from fakes.flaky_engine import FlakyEngine
from fakes.http_files import serve
from fakes.openai_chat import KEY, FakeOpenAI, openai_env
from fakes.openai_speech import SpeechServer
from support.shows import FIRST_EPISODE, ONE_PAPER_EPISODE, make_publishable

from podcast.tts import ENGINES

RunCli = Callable[..., subprocess.CompletedProcess[str]]

# Tests never reach the internet: arXiv lookups and PDFs go to a closed port on 127.0.0.1 unless a
# test points them at its own server, and summaries stay extractive unless a test sets up an LLM.
os.environ["PODCAST_ARXIV_API_URL"] = "http://127.0.0.1:9/api/query"
for _name in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
    os.environ.pop(_name, None)

def run_podcast(cwd: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    """`podcast ARGS...` run in `cwd` exactly as a user runs it, output captured as text."""
    return subprocess.run(
        [sys.executable, "-m", "podcast", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="session")
def run_cli() -> RunCli:
    """The CLI runner, for tests that drive `podcast` end to end."""
    return run_podcast


@pytest.fixture(scope="session")
def built_show(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A show made by `podcast init`, shrunk to one short paper, built and published once.

    Treat it as read-only: copy it with the `show` fixture before changing anything.
    """
    parent = tmp_path_factory.mktemp("built")
    _ok(run_podcast(parent, "init", "show"))
    root = make_publishable(parent / "show")
    (root / "episodes" / FIRST_EPISODE / "episode.toml").write_text(ONE_PAPER_EPISODE, "utf-8")
    _ok(run_podcast(root, "build", f"episodes/{FIRST_EPISODE}"))
    _ok(run_podcast(root, "publish"))
    return root


@pytest.fixture
def show(built_show: Path, tmp_path: Path) -> Path:
    """A private copy of the built and published show, .cache included so nothing is re-synthesized."""
    return Path(shutil.copytree(built_show, tmp_path / "show", symlinks=True))


@pytest.fixture
def fake_arxiv() -> Iterator[FakeArxiv]:
    """A fake arXiv (its API and PDFs) on 127.0.0.1 for one test; nothing points at it yet."""
    with FakeArxiv() as fake:
        yield fake


@pytest.fixture
def openai_chat(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOpenAI]:
    """A fake OpenAI chat endpoint for one test, which OPENAI_BASE_URL and OPENAI_API_KEY (KEY) point at."""
    with openai_env(monkeypatch, KEY) as fake:
        yield fake


@pytest.fixture
def openai_speech() -> Iterator[SpeechServer]:
    """A fake OpenAI speech endpoint for one test, speaking with the real hibari voice; nothing points at it yet."""
    with SpeechServer() as server:
        yield server


@pytest.fixture
def http_files() -> Iterator[Callable[[Path], str]]:
    """Serves folders over HTTP on 127.0.0.1 until the test ends: `base_url = http_files(folder)`."""
    with contextlib.ExitStack() as servers:
        yield lambda folder: servers.enter_context(serve(folder))


@pytest.fixture
def flaky_engine() -> Iterator[type[FlakyEngine]]:
    """The "flaky" voice engine, registered for one test (a build's synthesis workers get it from the
    registering process) and removed after it."""
    with ENGINES.registered(FlakyEngine) as engine:
        yield engine


def _ok(result: subprocess.CompletedProcess[str]) -> None:
    if result.returncode != 0:
        pytest.fail(f"{result.args[3:]} failed with {result.returncode}:\n{result.stderr}")

