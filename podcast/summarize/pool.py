"""Requests to an LLM several at a time, their answers kept in the order they were asked.

The LLM stage waits on a server, not on the CPU, so threads are enough: one executor per stage
(summaries, then exchanges), `[summarizer] concurrency` wide. Results are placed by index, so the
script reads in the papers' order whatever order the answers come back in. A rate limit holds every
worker back through the client's shared backoff (podcast.llm.shared_backoff), not here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from typing import TypeVar

A = TypeVar("A")
T = TypeVar("T")


def in_order(items: Iterable[A], work: Callable[[A], T], workers: int) -> list[T]:
    """`work(item)` for each item, at most `workers` at once, the results in the items' order.

    Items are taken as `items` yields them, which may take a while (a PDF downloading): the ones
    already there are worked on meanwhile. The first failure stops the stage: nothing new starts,
    work under way is finished (each writes whole files or nothing), and that failure is raised.
    With one worker everything runs in the calling thread, one item after the other.

    >>> in_order(range(5), lambda n: n * n, 3)
    [0, 1, 4, 9, 16]
    """
    if workers <= 1:
        return [work(item) for item in items]
    pool = ThreadPoolExecutor(workers, thread_name_prefix="llm")
    futures: list[Future[T]] = []
    try:
        for item in items:
            _raise_failure(futures)  # while items still arrive: a refused request ends it early
            futures.append(pool.submit(work, item))
        wait(futures, return_when=FIRST_EXCEPTION)
        _raise_failure(futures)
        return [f.result() for f in futures]
    finally:
        # On any failure (Ctrl-C too) no queued work starts; what runs finishes before we return.
        pool.shutdown(wait=True, cancel_futures=True)


def _raise_failure(futures: list[Future[T]]) -> None:
    """Raise the failure of the first finished item that failed, if any has."""
    for f in futures:
        if f.done() and not f.cancelled() and f.exception() is not None:
            f.result()
