"""A damaged cache entry is a miss, never a wrong episode or a traceback (issue 12, item 2).

Each test damages one kind of entry in a copy of the built sample show, builds again and expects
exit 0, one warning line naming the kind, and an MP3 byte for byte the clean build's (builds are
deterministic). Entries are damaged the ways a full disk, a crash or a hand edit leave them.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from support.shows import FIRST_EPISODE

MP3 = f"episodes/{FIRST_EPISODE}/build/{FIRST_EPISODE}.mp3"


def _entries(root: Path, kind: str, ext: str) -> list[Path]:
    found = sorted((root / ".cache" / kind).glob(f"*/*{ext}"))
    assert found, f"the built show has no {kind} cache entries"
    return found


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _garbage(path: Path) -> None:
    path.write_bytes(os.urandom(path.stat().st_size))


def _edit_record(path: Path, change: Callable[[dict[str, object]], None]) -> None:
    record = json.loads(path.read_text("utf-8"))
    # The fields sit under "meta" since chunk records are sealed; before that, at the top level.
    change(record.get("meta", record))
    path.write_text(json.dumps(record), "utf-8")


def _rebuild(run_cli, root: Path) -> str:
    result = run_cli(root, "build", f"episodes/{FIRST_EPISODE}")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout + result.stderr


def _warnings(output: str, kind: str) -> list[str]:
    return [line for line in output.splitlines() if "warning" in line and f"damaged {kind}" in line]


def _expect_clean_rebuild(run_cli, built_show: Path, root: Path, kind: str) -> None:
    output = _rebuild(run_cli, root)
    assert (root / MP3).read_bytes() == (built_show / MP3).read_bytes()
    assert len(_warnings(output, kind)) == 1, output
    # The damaged entries were made again: the next build finds nothing wrong.
    again = _rebuild(run_cli, root)
    assert not [line for line in again.splitlines() if "damaged" in line], again
    assert (root / MP3).read_bytes() == (built_show / MP3).read_bytes()


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda root: [_truncate(p) for p in _entries(root, "chunk", ".mp3")], id="truncated"),
        pytest.param(lambda root: [_garbage(p) for p in _entries(root, "chunk", ".mp3")], id="garbage"),
    ],
)
def test_damaged_chunk_audio_is_encoded_again(run_cli, built_show: Path, show: Path, damage) -> None:
    damage(show)
    _expect_clean_rebuild(run_cli, built_show, show, "chunk")


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda p: _edit_record(p, lambda r: r.update(frames=99999)), id="wrong-frames"),
        pytest.param(lambda p: p.write_text("{}", "utf-8"), id="empty-record"),
        pytest.param(_truncate, id="truncated-record"),
        pytest.param(_garbage, id="garbage-record"),
        pytest.param(lambda p: p.write_text("[1, 2]", "utf-8"), id="not-an-object"),
    ],
)
def test_damaged_chunk_records_are_encoded_again(run_cli, built_show: Path, show: Path, damage) -> None:
    for record in _entries(show, "chunk", ".json"):
        damage(record)
    _expect_clean_rebuild(run_cli, built_show, show, "chunk")


@pytest.mark.parametrize("damage", [_truncate, _garbage], ids=["truncated", "garbage"])
@pytest.mark.parametrize(
    ("kind", "above", "damaged"),
    [
        # Without chunks the build reads every line; each of them is damaged.
        ("line", ["chunk"], slice(None)),
        # Without chunks and lines the voices read the sentence cache. One sentence is damaged: the
        # synthesis workers each warn on their own, so more than one could be more than one line.
        ("sentence", ["chunk", "line"], slice(1)),
    ],
)
def test_damaged_speech_is_spoken_again(
    run_cli, built_show: Path, show: Path, damage, kind: str, above: list[str], damaged: slice
) -> None:
    for level in above:
        shutil.rmtree(show / ".cache" / level)
    for entry in _entries(show, kind, ".npz")[damaged]:
        damage(entry)
    _expect_clean_rebuild(run_cli, built_show, show, kind)
