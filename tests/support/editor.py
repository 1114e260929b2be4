"""The editor's tests' helpers: a show made by `podcast init` with its [find] pointed at the fake
arXiv (the current folder), CSV histories written for a test, and the CLI run in this process.

Not a conftest.py: tests import helpers `from conftest import ...`, which must stay tests/conftest.py."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from fakes.arxiv import FakeArxiv

from podcast import cli
from podcast.research.arxiv import API_ENV
from podcast.scaffold import init_show

HEADER = "Title,ArXiv Link,Paper Date,Date Added\n"
SHARED = Path(__file__).resolve().parents[1] / "data" / "reading-history"
"""The seed reader's history (a copy of shared/data/reading-history, so a clean checkout has it)."""


_starter: list[Path] = []
"""The show `podcast init` makes, once per session: each test copies it."""


def make_show(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path, fake_arxiv: FakeArxiv, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """For a test module's `show` fixture."""
    if not _starter:
        _starter.append(init_show(tmp_path_factory.mktemp("starter") / "show"))
    root = Path(shutil.copytree(_starter[0], tmp_path / "show"))
    toml = root / "podcast.toml"
    text = toml.read_text("utf-8")
    assert text.count("\n[find]\n") == 1, "podcast init's podcast.toml should have a [find] table"
    find = f'\n[find]\narxiv_api = "{fake_arxiv.api_url}"\ndelay = 0.05\n'
    toml.write_text(text.replace("\n[find]\n", find), "utf-8")
    monkeypatch.delenv(API_ENV, raising=False)
    monkeypatch.chdir(root)
    return root


def csv_file(path: Path, rows: list[str], header: str = HEADER) -> Path:
    path.write_text(header + "".join(r + "\n" for r in rows), "utf-8")
    return path


def podcast(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    """`podcast ARGS` in this process; (exit code, stdout, stderr)."""
    code = cli.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def fails(capsys: pytest.CaptureFixture[str], *args: str | Path) -> str:
    """The one-line error of a command that must fail with exit code 1."""
    code, _, err = podcast(capsys, *args)
    assert code == 1, err
    assert err.startswith("error: ") and err.count("\n") == 1, repr(err)
    return err
