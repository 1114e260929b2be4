"""Episode numbers (itunes:episode): counted among built episodes only, and kept once recorded, so a
new show's first episode is 1 and no published episode is ever renumbered (issue 14, item 1)."""

from __future__ import annotations

import shutil
from pathlib import Path

from support.shows import add_episode

from podcast.build import episode_guid, episode_number
from podcast.config import load_episode, load_show
from podcast.episode import catalog

NEW_WEEK = '''\
title = "A later week"
date = {day}

[[papers]]
title = "A paper"
abstract = "It finds something."
'''


def new_folder(show: Path, name: str, day: str) -> Path:
    folder = show / "episodes" / name
    folder.mkdir()
    (folder / "episode.toml").write_text(NEW_WEEK.format(day=day), "utf-8")
    return folder


def number_of(show: Path, folder: Path) -> int:
    return episode_number(load_show(show), folder, load_episode(folder))


def test_unbuilt_episodes_are_not_counted(show: Path) -> None:
    # first-week (2024-05-10) is built as number 1; two earlier weeks exist but were never built.
    new_folder(show, "2024-05-01", "2024-05-01")
    new_folder(show, "2024-05-03", "2024-05-03")
    later = new_folder(show, "2024-05-17", "2024-05-17")
    assert number_of(show, later) == 2


def test_a_built_episode_keeps_its_number_and_guid_when_an_earlier_one_goes(show: Path) -> None:
    second = add_episode(show, "second-week")  # recorded as number 2
    guid = catalog.recorded(second).guid  # type: ignore[union-attr]
    shutil.rmtree(show / "episodes" / "first-week")
    cfg, ep = load_show(show), load_episode(second)
    assert episode_number(cfg, second, ep) == 2
    assert episode_guid(cfg, second, ep) == guid
    # The next new episode follows the highest number, never reusing the deleted one's.
    assert number_of(show, new_folder(show, "2024-05-24", "2024-05-24")) == 3


def test_a_copied_folder_does_not_inherit_the_record_it_was_copied_with(show: Path) -> None:
    copy = Path(shutil.copytree(show / "episodes" / "first-week", show / "episodes" / "z-copy"))
    assert catalog.recorded(copy) is None  # its record names first-week
    assert number_of(show, copy) == 2
