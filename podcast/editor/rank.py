"""Ranking papers for the show: each gets a score in [0, 1] and a reason a person understands.

The score comes from a model learned from the show's ledger (`podcast.editor.ranker`) once it holds
at least MIN_PICKED picked papers; before that the papers are ordered by date, newest first, and
the ranking says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from podcast.config import ShowConfig
from podcast.research.arxiv import Listing

MIN_PICKED = 10
"""Picked papers the ledger must hold before a model is learned from it."""


@dataclass(frozen=True)
class Scored:
    listing: Listing
    score: float
    """In [0, 1]: how likely the show is to pick it, as the model sees it (0.5 without a model)."""
    why: str
    """A short reason a person understands: the kept paper it is closest to, or its weightiest terms."""


@dataclass(frozen=True)
class Ranking:
    scored: tuple[Scored, ...]
    """Best first."""
    learned: bool
    """False: too little history (under MIN_PICKED picked), so ordered by date; `note` says so."""
    note: str


def by_date(listings: Sequence[Listing], note: str) -> Ranking:
    """The papers newest first (arXiv's own order for a find), each with the neutral score 0.5."""
    ordered = sorted(listings, key=lambda x: (x.submitted, x.id), reverse=True)
    return Ranking(tuple(Scored(x, 0.5, "ordered by date") for x in ordered), False, note)


def rank_listings(cfg: ShowConfig, listings: Sequence[Listing]) -> Ranking:
    """The listings best first, scored against the show's history (the ledger in cfg.root)."""
    from podcast.editor import ranker

    return ranker.rank(cfg, listings)
