"""Requests to an LLM several at a time, their answers kept in the order they were asked.

The LLM stage waits on a server, not on the CPU, so threads are enough: one executor per stage,
`[summarizer] concurrency` wide. Results are placed by index, so the script reads in the papers'
order whatever order the answers come back in. Two stages may run as a pipeline (`then`): a paper's
exchange needs only its own summary, so it is asked for as soon as that summary is there, each
stage keeping to its own width. A rate limit holds every worker back through the client's shared
backoff (podcast.llm.shared_backoff), not here.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

A = TypeVar("A")
T = TypeVar("T")


def in_order(
    items: Iterable[A],
    work: Callable[[A], T],
    workers: int,
    then: Callable[[T], object] | None = None,
    then_workers: int = 1,
) -> list[T]:
    """`work(item)` for each item, at most `workers` at once, the results in the items' order.

    Items are taken as `items` yields them, which may take a while (a PDF downloading): the ones
    already there are worked on meanwhile. With `then`, `then(result)` starts as soon as each result
    is there, at most `then_workers` of them at once besides, and in_order returns once they are all
    done too (what they return is not kept: they record their own results). The first failure, in
    either stage, stops both: nothing new starts, work under way is finished (each writes whole
    files or nothing), and that failure is raised. With one worker and no `then` everything runs in
    the calling thread, one item after the other.

    >>> in_order(range(5), lambda n: n * n, 3)
    [0, 1, 4, 9, 16]
    >>> seen = []
    >>> in_order(range(3), lambda n: n + 1, 2, seen.append, 2), sorted(seen)
    ([1, 2, 3], [1, 2, 3])
    """
    if workers <= 1 and then is None:
        return [work(item) for item in items]
    runs = _Runs()
    pools = [ThreadPoolExecutor(max(1, workers), thread_name_prefix="llm")]
    if then is not None:
        pools.append(ThreadPoolExecutor(max(1, then_workers), thread_name_prefix="llm-then"))

    def chained(item: A) -> T:
        result = work(item)
        if then is not None:  # queued before this item counts as done, so `runs.wait` waits for it
            runs.submit(pools[1], then, result)
        return result

    futures: list[Future[T]] = []
    try:
        for item in items:
            runs.check()  # while items still arrive: a refused request ends it early
            future = runs.submit(pools[0], chained, item)
            if future is None:
                break
            futures.append(future)
        runs.wait()
        return [f.result() for f in futures]
    finally:
        # On any failure (Ctrl-C too) no queued work starts; what runs finishes before we return.
        runs.close()
        for pool in pools:
            pool.shutdown(wait=True, cancel_futures=True)


class _Runs:
    """The work of one `in_order`, both stages': the first failure cancels all that has not started."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._futures: list[Future[Any]] = []
        self._failure: Future[Any] | None = None
        self._closed = False

    def submit(self, pool: ThreadPoolExecutor, fn: Callable[[Any], Any], arg: object) -> Future[Any] | None:
        """`fn(arg)` queued on `pool`; None, and nothing queued, once something failed or it closed."""
        with self._changed:
            if self._failure is not None or self._closed:
                return None
            future = pool.submit(fn, arg)
            self._futures.append(future)
        future.add_done_callback(self._finished)
        return future

    def _finished(self, future: Future[Any]) -> None:
        with self._changed:
            first = self._failure is None and not future.cancelled() and future.exception() is not None
            if first:
                self._failure = future
            queued = list(self._futures) if first else []
            self._changed.notify_all()
        for other in queued:  # outside the lock: cancelling runs this callback again, for `other`
            other.cancel()

    def check(self) -> None:
        """Raise the first failure, if there was one."""
        with self._changed:
            failure = self._failure
        if failure is not None:
            failure.result()

    def wait(self) -> None:
        """Until all work is done, or raise the first failure as soon as there is one."""
        with self._changed:
            self._changed.wait_for(lambda: self._failure is not None or all(f.done() for f in self._futures))
        self.check()

    def close(self) -> None:
        with self._changed:
            self._closed = True
