"""The summarize stage: one Summary per Paper, written by the engine the settings name."""

from __future__ import annotations

from collections.abc import Iterable

from podcast.errors import EngineError, InputError, PodcastError
from podcast.models import Paper, Summary
from podcast.summarize.base import Summarizer, SummarizerSettings, get, load, names, register

__all__ = [
    "Summarizer",
    "SummarizerSettings",
    "get",
    "load",
    "names",
    "register",
    "summarize_one",
    "summarize_papers",
]


def summarize_papers(papers: Iterable[Paper], settings: SummarizerSettings) -> list[Summary]:
    """Summarize each paper, in order, with one engine loaded once.

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
    return [Summary(paper, summarize_one(engine, paper)) for paper in papers]


def check_has_text(paper: Paper) -> None:
    if not (paper.abstract.strip() or paper.full_text.strip()):
        raise InputError(
            f"paper {_label(paper)} has no abstract and no text to summarize; give it an abstract or a PDF"
        )


def summarize_one(engine: Summarizer, paper: Paper) -> str:
    """One paper's summary; a one-line error naming the paper when there is none."""
    check_has_text(paper)
    try:
        text = engine.summarize(paper).strip()
    except PodcastError:
        raise
    except Exception as e:  # a third-party engine's bug still reaches the user as one line
        raise EngineError(
            f"summarizer {engine.name!r} failed on paper {_label(paper)}: {type(e).__name__}: {e}"
        ) from e
    if not text:
        raise InputError(
            f"summarizer {engine.name!r} wrote nothing for paper {_label(paper)}; "
            "check that its abstract or text is readable prose"
        )
    return text


def _label(paper: Paper) -> str:
    title = " ".join(paper.title.split())
    return f"{paper.id!r} ({title!r})" if title else repr(paper.id)
