"""The summarize stage: one Summary per Paper, written by the engine the settings name."""

from __future__ import annotations

from collections.abc import Iterable

from podcast.errors import EngineError, InputError, PodcastError
from podcast.models import Paper, Summary
from podcast.summarize.base import (
    ONE_LINE_WORDS,
    SUMMARIZERS,
    Summarizer,
    SummarizerSettings,
    TokenUse,
    get,
    load,
    names,
    paper_label,
    register,
    resolve_engine,
)
from podcast.summarize.pool import in_order

__all__ = [
    "ONE_LINE_WORDS",
    "SUMMARIZERS",
    "Summarizer",
    "SummarizerSettings",
    "TokenUse",
    "get",
    "load",
    "names",
    "register",
    "resolve_engine",
    "summarize_one",
    "summarize_papers",
]


def summarize_papers(papers: Iterable[Paper], settings: SummarizerSettings) -> list[Summary]:
    """Summarize each paper with one engine loaded once, several at a time when the engine allows
    (`concurrency`), the summaries in the papers' order.

    Every paper is checked for text before the engine loads, so a bad paper fails the stage
    before any (possibly paid) engine call. Raises InputError naming the paper when it has
    nothing to summarize or the engine returns nothing, and EngineError when the engine fails.
    """
    papers = list(papers)
    for paper in papers:
        check_has_text(paper)
    if not papers:
        return []
    engine = load(settings)
    workers = settings.concurrency if engine.concurrent else 1
    return in_order(papers, lambda paper: Summary(paper, summarize_one(engine, paper)), workers)


def check_has_text(paper: Paper) -> None:
    if not (paper.abstract.strip() or paper.full_text.strip()):
        raise InputError(
            f"paper {paper_label(paper)} has no abstract and no text to summarize; "
            "give it an abstract or a PDF"
        )


def summarize_one(engine: Summarizer, paper: Paper, *, line: bool = False) -> str:
    """One paper's summary, or its one-sentence summary when `line`; a one-line error naming the
    paper when there is none."""
    check_has_text(paper)
    try:
        text = (engine.summarize_line(paper) if line else engine.summarize(paper)).strip()
    except PodcastError:
        raise
    except Exception as e:  # a third-party engine's bug still reaches the user as one line
        raise EngineError(
            f"summarizer {engine.name!r} failed on paper {paper_label(paper)}: {type(e).__name__}: {e}"
        ) from e
    if not text:
        raise InputError(
            f"summarizer {engine.name!r} wrote nothing for paper {paper_label(paper)}; "
            "check that its abstract or text is readable prose"
        )
    return text
