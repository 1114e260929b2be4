"""Creating things: a new show folder (`podcast init`), and an episode (`podcast new`) from a newsletter
or from papers."""

from __future__ import annotations

import re
import shutil
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from podcast.errors import InputError, PodcastError
from podcast.fsutil import write_text
from podcast.models import Paper
from podcast.text import one_line

TEMPLATE = Path(__file__).parent / "data" / "init"


def init_show(target: Path) -> Path:
    """Copy the starter show (podcast.toml with every option, voices/, one example episode)."""
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise InputError(f"{target}: already exists and is not empty; pick a new folder name")
    try:
        shutil.copytree(TEMPLATE, target, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__"))
        write_text(target / ".gitignore", ".cache/\npublic/\nepisodes/*/build/\n")
        from podcast.audio.music import write as write_music

        write_music(target / "music")  # ours to give away; off until podcast.toml names it
    except OSError as e:
        raise PodcastError(
            f"{target}: cannot create the show folder ({e.strerror}); check the path"
        ) from None
    return target


def new_from_newsletter(
    folder: Path, newsletter: Path, *, title: str | None, day: str | None, force: bool = False
) -> Path:
    """An episode folder whose papers and summaries come from a written newsletter.

    The summaries are written as the user's own files: builds read them and never regenerate them.
    Title and date: as given, else the newsletter's `<!-- papercast: Title | YYYY-MM-DD -->` header,
    else the folder's date-name (episodes/2024-05-17: "Week of May 13, 2024", May 17), else the
    folder's name and today. With `force`, an existing folder gets these files anew; the rest of it
    (build/, script.md, other summaries) stays as it is.
    """
    from podcast.build import summary_markdown, summary_path
    from podcast.models import Summary
    from podcast.research.sources import episode_toml, parse_newsletter

    if not force:
        check_new_episode(folder, "; or add --force to write its episode.toml and summaries anew")
    try:
        text = newsletter.read_text("utf-8")
    except FileNotFoundError:
        raise InputError(f"{newsletter}: file not found") from None
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{newsletter}: cannot read it as UTF-8 text ({e})") from None
    letter = parse_newsletter(text, newsletter)
    when = _day(day or letter.day or _date_in(folder.name))
    papers = [p for p, _ in letter.papers]
    toml = episode_toml(_title(title, letter.title, folder), when, letter.intro, letter.outro, papers)
    files = {"episode.toml": toml}
    for paper, summary in letter.papers:
        files[summary_path(Path(), paper).as_posix()] = summary_markdown(Summary(paper, summary))
    if force and folder.is_dir():
        return _write_into(folder, files)
    return _create(folder, files)


def new_from_papers(folder: Path, papers: Sequence[Paper], *, title: str | None, day: str | None) -> Path:
    """An episode folder whose episode.toml lists papers with their abstracts (from arXiv):
    the first build summarizes them."""
    from podcast.research.sources import episode_toml

    check_new_episode(folder)
    if not papers:
        raise InputError(f"{folder}: no papers given; nothing was created")
    toml = episode_toml(_title(title, "", folder), _day(day or _date_in(folder.name)), "", "", papers,
                        abstracts=True)
    return _create(folder, {"episode.toml": toml})


def check_new_episode(folder: Path, advice: str = "") -> None:
    """InputError when `folder` exists: an episode is never made over another unasked."""
    if folder.exists():
        raise InputError(
            f"{folder}: already exists; choose a new episode folder{advice} (nothing was changed)"
        )


def _title(given: str | None, found: str, folder: Path) -> str:
    """The episode's title: --title, else the newsletter's, else one from the folder's name; the
    first that has something to show once made safe (podcast.text.one_line).

    >>> _title(" ", "Week 20", Path("episodes/2024-05-17")), _title(None, "", Path("episodes/2024-05-17"))
    ('Week 20', 'Week of May 13, 2024')
    >>> _title(None, "", Path("episodes/2024-05-17-kv-caches")), _title(None, "", Path("episodes/issue-12"))
    ('Week of May 13, 2024: kv caches', 'issue-12')
    """
    return next((t for t in map(one_line, (given or "", found, _folder_title(folder.name))) if t), "Episode")


def _folder_title(name: str) -> str:
    """A title for a folder named by date: the week it falls in, then the rest of the name."""
    day = _date_in(name)
    if day is None:
        return name
    from podcast.writing.script import week_phrase

    rest = name[len(day) :].strip("-_ ").replace("-", " ").replace("_", " ")
    week = week_phrase(date.fromisoformat(day)).replace("the week", "Week", 1)
    return f"{week}: {rest}" if rest else week


def _date_in(name: str) -> str | None:
    """The date a folder's name starts with, as for episodes/2024-05-17-kv-caches.

    >>> _date_in("2024-05-17-kv-caches"), _date_in("2024-13-01"), _date_in("week-20")
    ('2024-05-17', None, None)
    """
    m = re.match(r"\d{4}-\d{2}-\d{2}", name)
    try:
        return date.fromisoformat(m.group()).isoformat() if m else None
    except ValueError:
        return None


def _day(day: str | None) -> str:
    when = day or date.today().isoformat()
    try:
        date.fromisoformat(when)
    except ValueError:
        raise InputError(f"--date {when!r} is not a date like 2024-05-17") from None
    return when


def _write_into(folder: Path, files: dict[str, str]) -> Path:
    """Write the files (paths relative to the folder) into an existing folder, each atomically."""
    try:
        for rel, text in files.items():
            write_text(folder / rel, text)
    except OSError as e:
        raise PodcastError(f"{folder}: cannot write the episode's files ({e.strerror})") from None
    return folder


def _create(folder: Path, files: dict[str, str]) -> Path:
    """Write the files (paths relative to the folder) into a staging folder, then move it into place."""
    staging = folder.with_name(f".{folder.name}.new")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        for rel, text in files.items():
            write_text(staging / rel, text)
        staging.rename(folder)
    except OSError as e:
        raise PodcastError(f"{folder}: cannot create the episode folder ({e.strerror})") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder
