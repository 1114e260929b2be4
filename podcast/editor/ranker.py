"""The ranker: learned from the show's ledger (placeholder: orders by date until the model lands)."""

from __future__ import annotations

from collections.abc import Sequence

from podcast.config import ShowConfig
from podcast.editor.rank import MIN_PICKED, Ranking, by_date
from podcast.research.arxiv import Listing


def rank(cfg: ShowConfig, listings: Sequence[Listing]) -> Ranking:
    del cfg
    return by_date(listings, f"no learned ranking yet (it needs {MIN_PICKED} picked papers): ordered by date")
