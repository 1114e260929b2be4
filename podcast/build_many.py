"""`podcast build` of several episodes, of one show or of several, in one command.

Each episode is built as `podcast build` builds one: with its own show's settings, under its show's
lock, with its show's cache. With the Ray executor they are built at the same time (the cluster
speaks every episode's lines; this process mixes, masters and encodes them); with the local one,
one after another, since each build already keeps every core busy. A failed episode stops none of
the others; each ends in one line, and the command fails when any episode did.
"""

from __future__ import annotations

import argparse
import sys
import threading
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import TextIO

from podcast.config import ShowConfig, find_root, load_show
from podcast.errors import PodcastError
from podcast.text import one_line

AT_ONCE = 8
"""Episodes built at the same time with Ray: each holds its mixed audio in this process's memory."""


def with_executor(cfg: ShowConfig, name: str | None) -> ShowConfig:
    """The show's settings with `--executor` applied, and that executor connected: its errors (Ray not
    installed, a cluster out of reach) come before anything is written."""
    from podcast.audio.executors import executor

    if name:
        cfg = replace(cfg, render=replace(cfg.render, executor=name))
    executor(cfg.render.executor).connect()
    return cfg


def build_many(args: argparse.Namespace) -> None:
    """`podcast build [--executor ray] EPISODE EPISODE...`"""
    folders: list[Path] = list(dict.fromkeys(args.episode_dir))
    shows: dict[Path, ShowConfig | PodcastError] = {}
    for folder in folders:
        try:
            shows[folder] = with_executor(load_show(find_root(folder if folder.is_dir() else Path.cwd())),
                                          args.executor)
        except PodcastError as e:
            shows[folder] = e
    together = all(isinstance(c, ShowConfig) and c.render.executor == "ray" for c in shows.values())
    out = threading.Lock()

    def say(line: str, stream: TextIO | None = None) -> None:
        with out:
            print(line, file=stream or sys.stdout, flush=True)

    def build(folder: Path) -> bool:
        cfg = shows[folder]
        try:
            if isinstance(cfg, PodcastError):
                raise cfg
            line, warnings = _built(folder, cfg, lambda m: say(f"{folder}: {m}", sys.stderr))
            for w in warnings:
                say(f"warning: {folder}: {one_line(w)}", sys.stderr)
            say(line)
            return True
        except PodcastError as e:
            say(f"failed {folder}: {one_line(str(e))}")
        except Exception as e:  # a bug: its traceback, and the other episodes still build
            say(f"failed {folder}: {type(e).__name__}: {one_line(str(e))}")
            say(traceback.format_exc(), sys.stderr)
        return False

    with ThreadPoolExecutor(min(AT_ONCE, len(folders)) if together else 1) as pool:
        ok = list(pool.map(build, folders))
    if not all(ok):
        raise PodcastError(f"{ok.count(False)} of {len(ok)} episodes failed")


def _built(folder: Path, cfg: ShowConfig, log: Callable[[str], None]) -> tuple[str, tuple[str, ...]]:
    """Build one episode: its summary line, and its warnings."""
    from podcast.build import build_episode

    report = build_episode(folder, cfg, log=log)
    ep = report.episode
    spoken = len(report.rendering.synthesized_sections)
    minutes, seconds = divmod(round(ep.duration), 60)
    line = (
        f"built {folder}: {minutes}:{seconds:02d} of audio, {spoken} of {len(ep.chapters)} sections "
        f"spoken anew, in {report.seconds:.1f} s -> {folder / 'build' / ep.audio}"
    )
    return line, report.warnings
