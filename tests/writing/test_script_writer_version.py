"""script.md written by an older script writer is written again when papercast's writer changes, unless a
person edited it: an upgrade's fixes (such as the closing said once) reach episodes nobody touched."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from support.shows import FIRST_EPISODE

from podcast import cli
from podcast.writing import script as writer

GOODBYE = "host: That's all for now, from the older writer."


def _as_older_writer_left_it(folder: Path) -> None:
    """script.md with a line today's writer does not write, recorded as papercast's own text."""
    path = folder / "script.md"
    text = path.read_text("utf-8") + GOODBYE + "\n"
    path.write_text(text, "utf-8")
    record = folder / ".generated.json"
    state = json.loads(record.read_text("utf-8"))
    state["script.md"]["sha"] = hashlib.sha256(text.encode()).hexdigest()
    record.write_text(json.dumps(state), "utf-8")


def _build(show: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> str:
    monkeypatch.chdir(show)
    assert cli.main(["build", f"episodes/{FIRST_EPISODE}"]) == 0
    return capsys.readouterr().err


def test_a_new_writer_rewrites_scripts_nobody_edited(
    show: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = show / "episodes" / FIRST_EPISODE
    _as_older_writer_left_it(folder)
    _build(show, monkeypatch, capsys)
    assert GOODBYE in (folder / "script.md").read_text("utf-8"), "same writer, same inputs: the file is kept"
    monkeypatch.setattr(writer, "WRITER", writer.WRITER + 1)
    _build(show, monkeypatch, capsys)
    assert GOODBYE not in (folder / "script.md").read_text("utf-8")


def test_a_new_writer_keeps_a_script_a_person_edited(
    show: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = show / "episodes" / FIRST_EPISODE / "script.md"
    edited = path.read_text("utf-8") + "host: My own last word.\n"
    path.write_text(edited, "utf-8")
    monkeypatch.setattr(writer, "WRITER", writer.WRITER + 1)
    err = _build(show, monkeypatch, capsys)
    assert path.read_text("utf-8") == edited
    assert "script.md was edited by hand and its sources changed since" in err
