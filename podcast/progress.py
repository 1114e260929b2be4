"""What `podcast build` shows while it renders (speaks, mixes and encodes) an episode: a bar on a
terminal, plain lines anywhere else (a log, CI, `make demo` piped), so a long build is never silent
and never shows a count it does not know yet.

The render stage reports (sections ready, sections in all, what just happened): first "cached" with
the sections the cache already holds, then the title of each section as it is finished (spoken,
or only mixed and encoded from lines the cache holds).
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

Report = Callable[[int, int, str], None]


def describe(done: int, total: int, title: str) -> str:
    """One progress line.

    >>> describe(0, 5, "cached")
    'rendering 5 sections'
    >>> describe(2, 13, "cached")
    'rendering 11 of 13 sections (2 from the cache)'
    >>> describe(13, 13, "cached")
    'all 13 sections from the cache'
    >>> describe(3, 13, "Intro")
    'rendered Intro (3/13 sections ready)'
    >>> describe(4, 13, "Lumina-T2X: Transforming Text into Any Modality, Resolution, and Duration")
    'rendered Lumina-T2X: Transforming Text into Any... (4/13 sections ready)'
    """
    if title == "cached":
        if done == total:
            return f"all {total} sections from the cache"
        if done == 0:
            return f"rendering {total} section{'' if total == 1 else 's'}"
        return f"rendering {total - done} of {total} sections ({done} from the cache)"
    return f"rendered {_short(title)} ({done}/{total} sections ready)"


def _short(title: str, width: int = 40) -> str:
    """The title cut at a word boundary, so a line never ends mid-word ("Any M")."""
    if len(title) <= width:
        return title
    cut = title[: width + 1].rsplit(" ", 1)[0] if " " in title[:width] else title[:width]
    return cut.rstrip(" ,;:-") + "..."


@contextlib.contextmanager
def build_progress(console: Console) -> Iterator[Report]:
    """A progress callback for the render stage, shown as a bar on a terminal, else as lines on stderr
    once the first section is rendered."""
    if not console.is_terminal:
        # Lines start with the first section rendered: a build that fails before (a bad voice) still
        # ends with its one error line, and one with nothing to render prints only its result.
        held: list[str] = []

        def line(done: int, total: int, title: str) -> None:
            if title == "cached":
                held[:] = [describe(done, total, title)]
                return
            for text in [*held, describe(done, total, title)]:
                print(text, file=sys.stderr, flush=True)
            held.clear()

        yield line
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        # Until the render stage reports, the build reads papers and writes summaries and the script.
        task = bar.add_task("summaries and script", total=None)

        def update(done: int, total: int, title: str) -> None:
            bar.update(task, completed=done, total=total, description=describe(done, total, title))

        yield update
