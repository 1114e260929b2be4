"""`podcast week`: the whole week in one command a scheduler can run.

find (the last [find] days of arXiv, every paper not in an episode yet), rank (podcast.editor.rank),
pick the best [find] pick, make the episode episodes/<date>, build it, publish it (the local site,
or S3 with --to), and only then record the week in the ledger.

Nothing is published and nothing is left behind on any failure: the episode is made and built in
.cache/week/<date>/ and moves into episodes/ only to be published; a publish that fails takes it out
again. The ledger is written last, so a failed week leaves the history as it was and a rerun finds
the same papers (summaries, dialogue and audio already made come from the cache). Candidates are
looked up on a copy of the ledger, so ranking them never sees them as passed over.

No new papers is not a failure: the command says "nothing to do" and exits 0 (a quiet week or a
second run must not page anyone; an unreachable arXiv or a failing LLM exits 1).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import fcntl
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from podcast.config import ShowConfig
from podcast.editor.rank import Ranking, Scored
from podcast.errors import InputError, PodcastError
from podcast.research.arxiv import Listing
from podcast.text import one_line

STAGING = "week"
"""The folder under .cache/ where a week's episode is made and built before it is published."""
QUERY = "podcast week"
"""How the ledger names the command that picked a week's papers."""


@dataclass(frozen=True)
class Week:
    """What one run found and would pick."""

    day: date
    folder: Path
    """episodes/<day>: where the episode goes once built."""
    query: str
    """The arXiv search, as the ledger records it."""
    described: str
    listings: tuple[Listing, ...]
    ranking: Ranking
    picked: tuple[Scored, ...]


class Reporter:
    """Progress: a spinner on a terminal, plain lines otherwise (cron's mail, a log file)."""

    def __init__(self) -> None:
        from rich.console import Console

        self.console = Console(stderr=True, highlight=False)
        self.live = self.console.is_terminal

    def say(self, line: str) -> None:
        """A line of the run's record, on stdout in either mode."""
        print(line, flush=True)

    def warn(self, line: str) -> None:
        print(f"warning: {line}", file=sys.stderr, flush=True)

    @contextlib.contextmanager
    def stage(self, what: str) -> Iterator[Callable[[str], None]]:
        """A stage of the run; the callable it gives updates the spinner's text on a terminal."""
        if not self.live:
            self.say(f"{what} ...")
            yield lambda text: None
            return
        with self.console.status(what) as status:
            yield lambda text: status.update(f"{what}: {text}")


def week(args: argparse.Namespace) -> None:
    """The `podcast week` command."""
    from podcast.config import find_root, load_show

    t0 = time.perf_counter()
    out = Reporter()
    cfg = load_show(find_root(Path.cwd()))
    for w in cfg.warnings:
        out.warn(w)
    day = _day(args.until)
    with _one_week_at_a_time(cfg):
        plan = find_week(cfg, day, out)
        if plan is None:
            return
        show_picks(plan, out, dry_run=args.dry_run)
        if args.dry_run:
            out.say(f"dry run: would make {_rel(cfg, plan.folder)} with {len(plan.picked)} papers, build and "
                    f"publish it; nothing was written ({time.perf_counter() - t0:.1f} s)")
            return
        made = make_week(cfg, plan, out, args.to)
    out.say(f"published {_rel(cfg, plan.folder)}: {len(plan.picked)} papers, {made}, "
            f"in {time.perf_counter() - t0:.1f} s")


def _day(text: str | None) -> date:
    if not text:
        return datetime.now(UTC).date()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(f"--until {text!r} is not a date like 2024-05-12") from None


def _rel(cfg: ShowConfig, path: Path) -> str:
    return str(path.relative_to(cfg.root)) if path.is_relative_to(cfg.root) else str(path)


@contextlib.contextmanager
def _one_week_at_a_time(cfg: ShowConfig) -> Iterator[None]:
    """A second `podcast week` of the show (a scheduler firing twice) stops at once instead of
    making the same episode again."""
    path = cfg.cache_dir / "week.lock"
    try:
        cfg.cache_dir.mkdir(parents=True, exist_ok=True)
        f = open(path, "a", encoding="utf-8")  # noqa: SIM115 -- closed by the with below
    except OSError as e:
        raise PodcastError(f"cannot open {path}: {e.strerror}; check the show's .cache folder") from None
    with f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise PodcastError("another 'podcast week' of this show is running; nothing was done") from None
        yield


# -- find and rank ----------------------------------------------------------------------------------


def find_week(cfg: ShowConfig, day: date, out: Reporter) -> Week | None:
    """The week's candidates, ranked, and the best [find] pick of them; None (after saying so) when
    there are none. Writes nothing in the show but arXiv's answers in its .cache."""
    from podcast.editor.rank import rank_listings
    from podcast.research import discover
    from podcast.research.arxiv import ArxivClient, endpoint

    folder = cfg.episodes_dir / day.isoformat()
    if folder.exists():
        raise InputError(f"{_rel(cfg, folder)} already exists (an earlier run made this week); nothing was "
                         "done. Remove it to make the week again, or give another --until")
    query = discover.find_query(cfg.find, until=day.isoformat())
    # Each on its own copy of the ledger: the real one records the week only once it is published,
    # and the ranker must not learn from this week's candidates as if they had been passed over.
    with _ledger_copy(cfg) as scratch, out.stage(f"finding papers ({query.describe()})"):
        listings = discover.find(scratch, query, again=True, client=ArxivClient(endpoint(cfg))).listings
    if not listings:
        out.say(f"nothing to do: no papers that are not in an episode yet ({query.describe()}); "
                "nothing was made or published")
        return None
    with _ledger_copy(cfg) as scratch, out.stage(f"ranking {len(listings)} papers"):
        ranking = rank_listings(scratch, listings)
    picked = ranking.scored[: cfg.find.pick]
    return Week(day, folder, query.search_query(), query.describe(), listings, ranking, picked)


@contextlib.contextmanager
def _ledger_copy(cfg: ShowConfig) -> Iterator[ShowConfig]:
    """The show as seen through a throwaway folder holding a copy of its ledger (and its episodes,
    linked): what is done there to the ledger and .cache stays there."""
    from podcast.research.ledger import FILE

    with tempfile.TemporaryDirectory(prefix="papercast-week-") as tmp:
        root = Path(tmp)
        if (cfg.root / FILE).is_file():
            shutil.copy2(cfg.root / FILE, root / FILE)
        if cfg.episodes_dir.is_dir():
            (root / "episodes").symlink_to(cfg.episodes_dir.resolve(), target_is_directory=True)
        yield dataclasses.replace(cfg, root=root)


def show_picks(plan: Week, out: Reporter, *, dry_run: bool) -> None:
    """The ranking as lines: every paper with its score and reason, the picked ones marked."""
    n, total = len(plan.picked), len(plan.listings)
    verb = "would pick" if dry_run else "picked"
    out.say(f"{total} new paper{'' if total == 1 else 's'} ({plan.described}); {verb} the best {n}")
    if not plan.ranking.learned:
        out.say(f"note: {one_line(plan.ranking.note)}")
    for i, s in enumerate(plan.ranking.scored, 1):
        mark = "*" if i <= n else " "
        out.say(f"{mark}{i:3d}. {s.score:.2f}  {s.listing.id:<11} {one_line(s.listing.title)}")
        if s.why:
            out.say(f"{'':18}{one_line(s.why)}")


# -- make, build, publish ---------------------------------------------------------------------------


def make_week(cfg: ShowConfig, plan: Week, out: Reporter, to: str | None) -> str:
    """Make, build and publish the week's episode, then record it; on any failure nothing of it
    stays. Returns what was published, for the last line."""
    staging = cfg.cache_dir / STAGING / plan.folder.name
    shutil.rmtree(staging, ignore_errors=True)  # a killed run's
    try:
        built = _make_and_build(cfg, plan, staging, out)
        _move(staging, plan.folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    try:
        where = _publish(cfg, to, out)
    except BaseException:
        shutil.rmtree(plan.folder, ignore_errors=True)
        raise
    try:
        _record(cfg, plan)
    except PodcastError as e:  # published all the same; the next run takes the episode in (Ledger.sync)
        out.warn(f"the episode is published, but the paper history could not record the week: {e}")
    return f"{built} -> {where}"


def _make_and_build(cfg: ShowConfig, plan: Week, staging: Path, out: Reporter) -> str:
    from podcast.build import build_episode
    from podcast.scaffold import new_from_papers
    from podcast.writing.script import week_phrase

    staging.parent.mkdir(parents=True, exist_ok=True)
    papers = [s.listing.paper() for s in plan.picked]  # best first: what [script] minutes keeps whole
    title = week_phrase(plan.day)
    new_from_papers(staging, papers, title=title[0].upper() + title[1:], day=plan.day.isoformat())
    with out.stage(f"building {_rel(cfg, plan.folder)} ({len(papers)} papers)") as update:
        report = build_episode(
            staging,
            cfg,
            progress=lambda done, total, what: update(f"speaking {done}/{total} {what[:40]}"),
            log=out.say,
        )
    for w in report.warnings:
        out.warn(w)
    m, s = divmod(round(report.episode.duration), 60)
    out.say(f"built {plan.folder.name}: {m}:{s:02d} of audio, {len(report.episode.chapters)} chapters, "
            f"summaries by {report.summarizer}, in {report.seconds:.1f} s")
    return f"{m}:{s:02d}"


def _move(staging: Path, folder: Path) -> None:
    """The built episode into episodes/, whole: renamed, or copied when .cache is on another disk."""
    if folder.exists():
        raise InputError(f"{folder} appeared while the week was built; nothing was published")
    folder.parent.mkdir(parents=True, exist_ok=True)
    try:
        staging.rename(folder)
    except OSError:
        partial = folder.with_name(f".{folder.name}.week")
        shutil.rmtree(partial, ignore_errors=True)
        try:
            shutil.copytree(staging, partial, symlinks=True)
            partial.rename(folder)
        except OSError as e:
            shutil.rmtree(partial, ignore_errors=True)
            raise PodcastError(f"{folder}: cannot move the built episode there ({e}); nothing was published"
                               ) from None


def _publish(cfg: ShowConfig, to: str | None, out: Reporter) -> str:
    from podcast.publish.local import SiteCheckFailed, publish_site

    try:
        if to:
            from podcast.publish.s3 import publish_to_s3

            with out.stage(f"publishing to {to}"):
                _, up = publish_to_s3(cfg, to)
            return up.target.url("feed.xml")
        site = cfg.root / cfg.publish.site
        with out.stage(f"publishing to {_rel(cfg, site)}"):
            publish_site(cfg, site)
        return str(site / "feed.xml")
    except SiteCheckFailed as e:
        for problem in e.problems:
            out.say(str(problem))
        raise


def _record(cfg: ShowConfig, plan: Week) -> None:
    """The week in the ledger: every candidate seen, the picked ones in the episode."""
    from podcast.research.ledger import Ledger

    with Ledger.open(cfg.root) as ledger:
        ledger.sync(cfg.root)
        ledger.record_run(plan.query, plan.listings)
        ledger.mark_picked([s.listing for s in plan.picked], plan.folder.name, QUERY)
