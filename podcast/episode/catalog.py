"""The catalog of built episodes: each good build leaves build/episode.json, and the feed and the
site are made from these files alone, so publishing never depends on re-running a build.

A record is read back as strictly as podcast.toml, because a hand-edited one must not steer the
publisher: every field has its type, the slug is the episode folder's own name, and every file the
record names is a plain file name that resolves inside that episode's build folder. Anything else
is a one-line ConfigError naming the file and the field.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict
from datetime import date, datetime
from pathlib import Path
from typing import Any

from podcast.config import from_table
from podcast.episode.files import MANIFEST
from podcast.errors import ConfigError
from podcast.fsutil import write_text
from podcast.models import BuiltEpisode


def build_dir(episode_dir: Path) -> Path:
    return episode_dir / "build"


def save(folder: Path, ep: BuiltEpisode) -> None:
    """Write the record into `folder` (a build folder, or the staging folder that becomes one)."""
    data = asdict(ep)
    if ep.brief is None:  # a show without a brief writes the record it always wrote
        del data["brief"]
    data["published"] = ep.published.isoformat()
    for p in data["papers"]:
        p["published"] = p["published"].isoformat() if p["published"] else None
    write_text(folder / MANIFEST, json.dumps(data, indent=1, ensure_ascii=False) + "\n")


def load(path: Path) -> BuiltEpisode:
    """The record in `path` (episodes/<slug>/build/episode.json), checked; ConfigError if it is not sound."""
    rebuild = _rebuild_hint(path.parent.parent)
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except (OSError, ValueError) as e:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise ConfigError(f"{path}: not a readable episode record ({e}); {rebuild}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: not an episode record (a JSON object); {rebuild}")
    try:
        ep = from_table(BuiltEpisode, _prepared(data, str(path)), str(path))
        problem = _problem(ep, path.parent.parent.name)
    except ConfigError as e:
        raise ConfigError(f"{e}; {rebuild}") from None
    if problem:
        raise ConfigError(f"{path}: {problem}; {rebuild}")
    return ep


def _rebuild_hint(folder: Path) -> str:
    return f"fix it, or rebuild the episode: podcast build episodes/{folder.name}"


def _prepared(data: dict[str, Any], where: str) -> dict[str, Any]:
    """The record as from_table takes it: its publication time parsed (JSON has no datetime), and a
    paper's date left out where `save` wrote null (no date, the field's default)."""
    out = dict(data)
    papers = out.get("papers")
    if isinstance(papers, list):
        out["papers"] = [{k: v for k, v in p.items() if not (k == "published" and v is None)}
                         if isinstance(p, dict) else p for p in papers]
    value = out.get("published")
    if value is None:
        return out
    try:
        out["published"] = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise ConfigError(
            f"{where}: published: expected a date and time like 2024-05-10T00:00:00+00:00, got {value!r}"
        ) from None
    return out


def _problem(ep: BuiltEpisode, folder_name: str) -> str:
    """What is wrong with a well-typed record of the episode folder `folder_name`; empty if nothing."""
    if not is_plain_name(ep.slug) or ep.slug != folder_name:
        return f"slug {ep.slug!r} is not the name of its episode folder ({folder_name!r})"
    for field, name in _named_files(ep):
        if not is_plain_name(name):
            return f"{field} {name!r} is not the plain name of a file in build/"
    if ep.audio_bytes < 0:
        return f"audio_bytes must be 0 or more, not {ep.audio_bytes}"
    if not (math.isfinite(ep.duration) and ep.duration >= 0):
        return f"duration must be a number of seconds, 0 or more, not {ep.duration}"
    if ep.brief is not None and (problem := _brief_problem(ep)):
        return problem
    for n, ch in enumerate(ep.chapters, start=1):
        if not (math.isfinite(ch.start) and math.isfinite(ch.end)):
            return f"chapter {n} ({ch.title!r}) needs finite start and end times"
        if ch.url and not ch.url.lower().startswith(("https://", "http://")):
            return f"chapter {n} links to {ch.url!r}, not an http(s) URL (a paper's url in episode.toml?)"
    return ""


def _brief_problem(ep: BuiltEpisode) -> str:
    """What is wrong with the record's brief, whose file name `_named_files` checks; empty if nothing."""
    assert ep.brief is not None
    b = ep.brief
    if b.audio == ep.audio or not b.audio.lower().endswith(".mp3"):
        return f"brief.audio {b.audio!r} must name the brief's own MP3, not {ep.audio!r} or another file"
    if b.audio_bytes <= 0:
        return f"brief.audio_bytes must be more than 0, not {b.audio_bytes}"
    if not (math.isfinite(b.duration) and b.duration > 0):
        return f"brief.duration must be a number of seconds, more than 0, not {b.duration}"
    if b.bitrate <= 0:
        return f"brief.bitrate must be more than 0 bits per second, not {b.bitrate}"
    return ""


def _named_files(ep: BuiltEpisode) -> list[tuple[str, str]]:
    """(field, file name) of every file the record names; optional ones only when named."""
    required = [
        ("audio", ep.audio),
        ("newsletter_md", ep.newsletter_md),
        ("newsletter_html", ep.newsletter_html),
    ]
    optional = [
        ("chapters_json", ep.chapters_json),
        ("transcripts.vtt", ep.transcripts.vtt),
        ("transcripts.srt", ep.transcripts.srt),
        ("transcripts.json", ep.transcripts.json),
    ]
    if ep.brief is not None:
        required.append(("brief.audio", ep.brief.audio))
    return required + [(field, name) for field, name in optional if name]


def is_plain_name(name: str) -> bool:
    """A file name with no folder in it: no separator, not hidden, no '..', no control character.

    >>> [is_plain_name(n) for n in ("x.mp3", "../x", "/etc/hostname", "..", ".x", "a\\x00b", "")]
    [True, False, False, False, False, False, False]
    """
    return bool(name) and not name.startswith(".") and not any(c in "/\\" or ord(c) < 0x20 for c in name)


def record_files(folder: Path, ep: BuiltEpisode) -> dict[str, Path]:
    """Every file the record of the episode in `folder` names (file name -> path in build/), checked:
    each exists and resolves inside the build folder (a link out of it is refused)."""
    out = build_dir(folder)
    inside = out.resolve()
    found = {}
    for _, name in _named_files(ep):
        path = out / name
        if not path.is_file():
            raise ConfigError(f"{path}: missing; rebuild the episode: podcast build episodes/{folder.name}")
        if not path.resolve().is_relative_to(inside):
            raise ConfigError(f"{path}: links outside the episode's build folder; rebuild the episode: "
                              f"podcast build episodes/{folder.name}")
        found[name] = path
    return found


def episodes(root: Path) -> list[tuple[Path, BuiltEpisode]]:
    """Every built episode of the show (its folder and record), oldest first, its files checked."""
    found = [(p.parent.parent, load(p)) for p in sorted((root / "episodes").glob(f"*/build/{MANIFEST}"))]
    for folder, ep in found:
        named = record_files(folder, ep)
        sizes = [(named[ep.audio], ep.audio_bytes)]
        sizes += [(named[ep.brief.audio], ep.brief.audio_bytes)] if ep.brief is not None else []
        for audio, size in sizes:
            if audio.stat().st_size != size:
                raise ConfigError(f"{audio}: does not match {MANIFEST} (a build was interrupted); "
                                  "build it again")
    return sorted(found, key=lambda pe: (pe[1].published, pe[1].slug))


def recorded(folder: Path) -> BuiltEpisode | None:
    """The sound record of the episode in `folder` from its last build; None when it was never built
    or its record is not sound (a copied folder's names another slug)."""
    path = build_dir(folder) / MANIFEST
    try:
        return load(path) if path.is_file() else None
    except ConfigError:
        return None


def next_number(episodes_dir: Path, folder: Path, day: date) -> int:
    """The number of an episode built for the first time: one more than the highest among the show's
    built episodes dated before it (by date, then folder name). An episode never built, like the
    sample `podcast init` writes, counts for nothing; a deleted one leaves its number unused.

    Builds keep the number they first recorded (see `recorded`), so no published episode is renumbered.
    """
    before = [
        ep.number
        for other in sorted(episodes_dir.glob(f"*/build/{MANIFEST}"))
        if (built := other.parent.parent).name != folder.name
        and (ep := recorded(built)) is not None
        and (ep.published.date(), ep.slug) < (day, folder.name)
    ]
    return 1 + max(before, default=0)
