"""Finding an episode's papers on arXiv.

`podcast find` lists the papers of a period in the show's categories and matching its terms, leaving
out every paper an earlier `find` listed or an episode already has (the ledger), best first by the
editor's ranking (podcast.editor: learned from what the show picked; newest first until it has
enough history). `podcast new --pick` chooses among the last find's papers in the terminal, the top
`[find] pick` preselected once the ranking is learned; `--from-find` takes them all, and `--arxiv ID
...` takes papers by id or link. Each remembers what it picked.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from podcast.config import ShowConfig
from podcast.errors import InputError
from podcast.research.arxiv import ArxivClient, Listing, endpoint
from podcast.research.ledger import Ledger
from podcast.scaffold import check_new_episode, new_from_papers
from podcast.settings import ARXIV_CATEGORY, FindSettings

if TYPE_CHECKING:
    from podcast.editor.rank import Ranking, Scored

SCAN_LIMIT = 2000
"""Papers one `find` reads at most while skipping those seen before (20 pages of arXiv's answers)."""


@dataclass(frozen=True)
class FindQuery:
    """What one `podcast find` asks for."""

    since: date
    until: date
    """Both inclusive: papers whose first version was submitted on these days (UTC)."""
    categories: tuple[str, ...]
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    max: int = 30

    def search_query(self) -> str:
        """The arXiv API's search_query.

        >>> q = FindQuery(date(2024, 5, 6), date(2024, 5, 12), ("cs.LG", "cs.CL"), ("kv cache",), ("GAN",))
        >>> print(q.search_query().replace(" AND", "\\n AND"))
        (cat:cs.LG OR cat:cs.CL)
         AND submittedDate:[202405060000 TO 202405122359]
         AND (all:"kv cache")
         ANDNOT (all:"GAN")
        """
        parts = [
            _any("cat:" + c for c in self.categories),
            f"submittedDate:[{self.since:%Y%m%d}0000 TO {self.until:%Y%m%d}2359]",
        ]
        if self.include:
            parts.append(_any(f'all:"{_term(t)}"' for t in self.include))
        query = " AND ".join(parts)
        if self.exclude:
            query += " ANDNOT " + _any(f'all:"{_term(t)}"' for t in self.exclude)
        return query

    def describe(self) -> str:
        """
        >>> FindQuery(date(2024, 5, 6), date(2024, 5, 12), ("cs.LG",), ("kv cache",)).describe()
        "cs.LG, submitted 2024-05-06 to 2024-05-12, mentioning 'kv cache'"
        """
        text = f"{', '.join(self.categories)}, submitted {self.since} to {self.until}"
        if self.include:
            text += ", mentioning " + " or ".join(repr(t) for t in self.include)
        if self.exclude:
            text += ", not " + " or ".join(repr(t) for t in self.exclude)
        return text


def _any(terms: Iterable[str]) -> str:
    return "(" + " OR ".join(terms) + ")"


def _term(text: str) -> str:
    """A search term as one phrase: quotes and brackets would change the query's grammar."""
    return " ".join(re.sub(r"[\"()\[\]]", " ", text).split())


def find_query(
    settings: FindSettings,
    *,
    since: str | None = None,
    until: str | None = None,
    categories: Sequence[str] = (),
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    max: int | None = None,
    today: date | None = None,
) -> FindQuery:
    """The query from command-line options, each defaulting to podcast.toml [find]."""
    end = _date(until, "--until") if until else (today or datetime.now(UTC).date())
    start = _date(since, "--since") if since else end - timedelta(days=settings.days - 1)
    if start > end:
        raise InputError(f"--since {start} is after --until {end}; give the earlier date first")
    cats = tuple(c for arg in categories for c in re.split(r"[,\s]+", arg) if c) or settings.categories
    for cat in cats:
        if not ARXIV_CATEGORY.fullmatch(cat):
            raise InputError(f"--category {cat!r} is not an arXiv category like cs.LG or hep-th")
    if max is not None and not 1 <= max <= 1000:
        raise InputError(f"--max must be from 1 to 1000, not {max}")
    terms = {name: tuple(t for t in (_term(t) for t in given) if t) for name, given in
             (("include", include), ("exclude", exclude))}
    return FindQuery(
        start,
        end,
        cats,
        terms["include"] or settings.include,
        terms["exclude"] or settings.exclude,
        max or settings.max,
    )


def _date(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{option} {text!r} is not a date like 2024-05-06") from None


# -- find --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Found:
    query: FindQuery
    listings: tuple[Listing, ...]
    """The papers to offer, best first (newest first without a learned ranking)."""
    skipped: int
    """Papers that matched but were listed before or are in an episode already."""
    ranking: Ranking | None = None
    """How the listings were ordered, their scores and reasons."""

    def lines(self) -> list[str]:
        """The listing as `podcast find` prints it, scores and reasons with a learned ranking."""
        if self.ranking is None or not self.ranking.learned:
            return [format_listing(i, x) for i, x in enumerate(self.listings, 1)]
        return [format_listing(i, s.listing, s) for i, s in enumerate(self.ranking.scored, 1)]


def find(
    cfg: ShowConfig, query: FindQuery, *, again: bool = False, client: ArxivClient | None = None
) -> Found:
    """The papers of the query not offered before (with `again`: not in an episode yet), recorded
    in the ledger as seen and as the list that `new --pick` chooses from, best first."""
    from podcast.editor.rank import rank_listings

    client = client or ArxivClient(endpoint(cfg))
    with Ledger.open(cfg.root) as ledger:
        ledger.sync(cfg.root)
        skip = ledger.taken() | (set() if again else ledger.seen())
        listings: list[Listing] = []
        skipped = 0
        for scanned, listing in enumerate(client.search(query.search_query()), 1):
            if _mentions(listing, query.exclude):  # arXiv's ANDNOT drops these; its stemming may not
                continue
            if listing.base_id in skip:
                skipped += 1
            else:
                listings.append(listing)
            if len(listings) >= query.max or scanned >= SCAN_LIMIT:
                break
    ranking = rank_listings(cfg, listings)
    ranked = tuple(s.listing for s in ranking.scored)
    with Ledger.open(cfg.root) as ledger:
        ledger.record_run(query.search_query(), ranked)
    return Found(query, ranked, skipped, ranking)


def _mentions(listing: Listing, terms: Sequence[str]) -> bool:
    text = f"{listing.title} {listing.abstract}".lower()
    return any(t.lower() in text for t in terms)


def format_listing(number: int, listing: Listing, scored: Scored | None = None) -> str:
    """Two lines for the terminal: number, id, date and title; then authors and categories; with a
    learned score, the score before the title and the reason on a third line.

    >>> from datetime import datetime, UTC
    >>> when = datetime(2024, 5, 7, 17, 59, tzinfo=UTC)
    >>> authors = ("M. Beck", "K. Pöppel", "M. Spanring", "A. Auer")
    >>> print(format_listing(3, Listing("2405.04517", "xLSTM", authors, "", when, when, ("cs.LG",))))
      3. 2405.04517  2024-05-07  xLSTM
                                 M. Beck, K. Pöppel, M. Spanring et al.  [cs.LG]
    """
    authors = ", ".join(listing.authors[:3]) + (" et al." if len(listing.authors) > 3 else "")
    score = f"{scored.score:.2f}  " if scored else ""
    head = f"{number:3d}. {listing.id:<11} {listing.submitted:%Y-%m-%d}  {score}{listing.title}"
    text = f"{head}\n{'':29}{authors}  [{' '.join(listing.categories)}]"
    return f"{text}\n{'':29}{scored.why}" if scored else text


# -- picking and making an episode -------------------------------------------------------------------


def candidates(cfg: ShowConfig) -> list[Listing]:
    """The last `find`'s papers that no episode has taken since."""
    with Ledger.open(cfg.root) as ledger:
        ledger.sync(cfg.root)
        run = ledger.last_run()
        taken = ledger.taken()
    if run is None:
        raise InputError("no papers to choose from yet; run 'podcast find' first")
    left = [listing for listing in run.listings if listing.base_id not in taken]
    if not left:
        listed = f"{len(run.listings)} paper{'' if len(run.listings) == 1 else 's'}"
        raise InputError(
            f"the last 'podcast find' ({run.at:%Y-%m-%d %H:%M} UTC) listed {listed}, none left to pick; "
            "run 'podcast find' again"
        )
    return left


def parse_selection(text: str, count: int) -> list[int]:
    """Numbers (1-based) chosen as "1-3,5" or "1 2 7-9" or "all", in the order given, once each.

    >>> parse_selection("1-3, 5", 6), parse_selection("all", 3), parse_selection("4 2 4", 5)
    ([1, 2, 3, 5], [1, 2, 3], [4, 2])
    >>> parse_selection("2-9", 6)
    Traceback (most recent call last):
    ...
    podcast.errors.InputError: '2-9' is not within 1-6
    """
    if text.strip().lower() in ("all", "*"):
        return list(range(1, count + 1))
    chosen: list[int] = []
    for part in (p for p in re.split(r"[,\s]+", text.strip()) if p):
        m = re.fullmatch(r"(\d+)(?:-(\d+))?", part)
        if not m:
            raise InputError(f"{part!r} is not a number or a range like 1-3")
        first, last = int(m.group(1)), int(m.group(2) or m.group(1))
        if not 1 <= first <= last <= count:
            raise InputError(f"{part!r} is not within 1-{count}")
        chosen += [n for n in range(first, last + 1) if n not in chosen]
    return chosen


def choose(
    listings: Sequence[Listing],
    ask: Callable[[str], str | None],
    say: Callable[[str], None],
    *,
    scored: Sequence[Scored] = (),
    top: int = 0,
) -> list[Listing]:
    """Show the list and ask until the answer is a valid selection; `ask` returns None at the end
    of input. InputError when nothing is chosen. With `scored` (a learned ranking, in the order of
    `listings`) each paper shows its score and reason; with `top`, an empty answer takes the first
    `top` (preselected) and 'none' cancels."""
    for i, listing in enumerate(listings, 1):
        say(format_listing(i, listing, scored[i - 1] if scored else None))
    top = min(top, len(listings))
    default = f"Enter for the top {top}, 1-{top}; none to cancel" if top else "empty to cancel"
    while True:
        answer = ask(f"papers for the episode (e.g. 1-3,5 or all; {default}) [1-{len(listings)}]: ")
        if answer is None or answer.strip().lower() == "none" or not (answer.strip() or top):
            raise InputError("nothing picked; no episode was created")
        if not answer.strip():
            return list(listings[:top])
        try:
            return [listings[n - 1] for n in parse_selection(answer, len(listings))]
        except InputError as e:
            say(f"{e}; try again")


def new_from_arxiv(
    cfg: ShowConfig, folder: Path, ids: Sequence[str], *, title: str | None, day: str | None
) -> tuple[Path, list[Listing]]:
    """An episode of the papers with these arXiv ids or links, looked up on arXiv."""
    check_new_episode(folder)
    listings = ArxivClient(endpoint(cfg)).lookup(ids)
    return _make(cfg, folder, listings, "podcast new --arxiv", title, day), listings


def new_from_find(
    cfg: ShowConfig,
    folder: Path,
    *,
    ask: Callable[[str], str | None] | None,
    say: Callable[[str], None],
    title: str | None,
    day: str | None,
) -> tuple[Path, list[Listing]]:
    """An episode of the last find's papers still free: all of them, or those chosen through `ask`."""
    check_new_episode(folder)
    listings = candidates(cfg)
    if ask is not None:
        from podcast.editor.rank import rank_listings

        ranking = rank_listings(cfg, listings)
        if ranking.learned:
            say(ranking.note)
            listings = [s.listing for s in ranking.scored]
            listings = choose(listings, ask, say, scored=ranking.scored, top=cfg.find.pick)
        else:
            listings = choose(listings, ask, say)
    return _make(cfg, folder, listings, "podcast find", title, day), listings


def _make(
    cfg: ShowConfig, folder: Path, listings: Sequence[Listing], query: str, title: str | None, day: str | None
) -> Path:
    made = new_from_papers(folder, [listing.paper() for listing in listings], title=title, day=day)
    with Ledger.open(cfg.root) as ledger:
        ledger.mark_picked(listings, made.name, query)
    return made

