"""The catalog of built episodes: each good build leaves build/episode.json, and the feed and the
site are made from these files alone, so publishing never depends on re-running a build."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date, datetime
from pathlib import Path
from typing import Any

from podcast.episode.files import MANIFEST
from podcast.errors import ConfigError
from podcast.fsutil import write_text
from podcast.models import BuiltEpisode, Chapter, Paper, Transcripts


def build_dir(episode_dir: Path) -> Path:
    return episode_dir / "build"


def save(folder: Path, ep: BuiltEpisode) -> None:
    """Write the record into `folder` (a build folder, or the staging folder that becomes one)."""
    data = asdict(ep)
    data["published"] = ep.published.isoformat()
    for p in data["papers"]:
        p["published"] = p["published"].isoformat() if p["published"] else None
    write_text(folder / MANIFEST, json.dumps(data, indent=1, ensure_ascii=False) + "\n")


def load(path: Path) -> BuiltEpisode:
    try:
        d: dict[str, Any] = json.loads(path.read_text("utf-8"))
        return BuiltEpisode(
            **{
                **d,
                "published": datetime.fromisoformat(d["published"]),
                "chapters": tuple(Chapter(**c) for c in d["chapters"]),
                "papers": tuple(
                    Paper(
                        **{
                            **p,
                            "authors": tuple(p["authors"]),
                            "published": date.fromisoformat(p["published"]) if p["published"] else None,
                        }
                    )
                    for p in d["papers"]
                ),
                "transcripts": Transcripts(**d["transcripts"]),
            }
        )
    except (OSError, ValueError, TypeError, KeyError) as e:
        raise ConfigError(f"{path}: not a readable episode manifest ({e}); rebuild the episode") from None


def episodes(root: Path) -> list[tuple[Path, BuiltEpisode]]:
    """Every built episode of the show (its folder and record), oldest first."""
    found = [(p.parent.parent, load(p)) for p in sorted((root / "episodes").glob(f"*/build/{MANIFEST}"))]
    for folder, ep in found:
        audio = build_dir(folder) / ep.audio
        if not audio.is_file() or audio.stat().st_size != ep.audio_bytes:
            raise ConfigError(f"{audio}: does not match {MANIFEST} (a build was interrupted); build it again")
    return sorted(found, key=lambda pe: (pe[1].published, pe[1].slug))
