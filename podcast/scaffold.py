"""Creating things: a new show folder (`podcast init`) and an episode from a newsletter (`podcast new`)."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

from podcast.errors import InputError, PodcastError
from podcast.fsutil import write_text

TEMPLATE = Path(__file__).parent / "data" / "init"


def init_show(target: Path) -> Path:
    """Copy the starter show (podcast.toml with every option, voices/, one example episode)."""
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise InputError(f"{target}: already exists and is not empty; pick a new folder name")
    try:
        shutil.copytree(TEMPLATE, target, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__"))
        write_text(target / ".gitignore", ".cache/\npublic/\nepisodes/*/build/\n")
        from podcast.musicgen import write as write_music

        write_music(target / "music")  # ours to give away; off until podcast.toml names it
    except OSError as e:
        raise PodcastError(
            f"{target}: cannot create the show folder ({e.strerror}); check the path"
        ) from None
    return target


def new_from_newsletter(folder: Path, newsletter: Path, *, title: str | None, day: str | None) -> Path:
    """An episode folder whose papers and summaries come from a written newsletter.

    The summaries are written as the user's own files: builds read them and never regenerate them.
    """
    from podcast.build import summary_markdown, summary_path
    from podcast.models import Summary
    from podcast.sources import episode_toml, parse_newsletter

    if folder.exists():
        raise InputError(f"{folder}: already exists; choose a new episode folder (nothing was changed)")
    try:
        text = newsletter.read_text("utf-8")
    except FileNotFoundError:
        raise InputError(f"{newsletter}: file not found") from None
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{newsletter}: cannot read it as UTF-8 text ({e})") from None
    letter = parse_newsletter(text, newsletter)
    when = day or letter.day or date.today().isoformat()
    try:
        date.fromisoformat(when)
    except ValueError:
        raise InputError(f"--date {when!r} is not a date like 2024-05-17") from None
    papers = [p for p, _ in letter.papers]
    toml = episode_toml(title or letter.title or folder.name, when, letter.intro, letter.outro, papers)
    staging = folder.with_name(f".{folder.name}.new")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        write_text(staging / "episode.toml", toml)
        for paper, summary in letter.papers:
            write_text(summary_path(staging, paper), summary_markdown(Summary(paper, summary)))
        staging.rename(folder)
    except OSError as e:
        raise PodcastError(f"{folder}: cannot create the episode folder ({e.strerror})") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder
