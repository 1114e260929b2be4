"""Where the lines of an episode are spoken: the executor seam of the render stage.

The renderer (podcast.audio.render) finds the lines missing from the line cache, hands them to an
executor in script order, and mixes, masters and encodes each part in the building process as soon
as its lines are in the line cache. An executor only speaks, in workers that load each voice once:
"local" (the default) in process pools on this machine, "ray" in Ray actors on a cluster
(podcast.audio.ray_executor). Either way every line ends up in the building process's line cache,
so a build with one executor reuses what the other spoke, and the audio is the same byte for byte.
"""

from __future__ import annotations

import importlib
import os
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import ExitStack
from multiprocessing import get_context
from typing import Any, ClassVar, TypeVar

from podcast.audio.speak import LineTask, engine_key, init_worker, synthesize
from podcast.errors import ConfigError
from podcast.tts import get_engine

WORKERS_ENV = "PODCAST_WORKERS"
"""The environment variable that caps the synthesis workers (default: one per core, or per CPU of the
Ray cluster). The audio never depends on it: every sentence is spoken the same way in any worker, in
any order."""


def worker_count(default: int | None = None) -> int:
    """PODCAST_WORKERS when it is set, else `default`, else the number of cores."""
    raw = os.environ.get(WORKERS_ENV, "").strip()
    if not raw:
        return default or os.cpu_count() or 1
    if not raw.isdigit() or int(raw) < 1:
        raise ConfigError(f"{WORKERS_ENV}={raw!r}: give a number of worker processes, 1 or more")
    return int(raw)


K = TypeVar("K", bound=Hashable)


def share_workers(work: dict[K, float], workers: int, limits: dict[K, int]) -> dict[K, int]:
    """Workers per engine: one each, then one at a time to the engine with the most work per worker,
    none beyond its number of lines.

    >>> share_workers({"piper": 20.0, "hibari": 15.0}, 2, {"piper": 9, "hibari": 30})
    {'piper': 1, 'hibari': 1}
    >>> share_workers({"piper": 20.0, "hibari": 15.0}, 4, {"piper": 9, "hibari": 30})
    {'piper': 2, 'hibari': 2}
    >>> share_workers({"piper": 20.0, "hibari": 5.0}, 4, {"piper": 9, "hibari": 30})
    {'piper': 3, 'hibari': 1}
    """
    n = dict.fromkeys(work, 1)
    for _ in range(workers - len(work)):
        open_ = [g for g in work if n[g] < limits[g]]
        if not open_:
            break
        n[max(open_, key=lambda g: work[g] / n[g])] += 1
    return n


def engine_groups(tasks: list[LineTask], workers: int) -> tuple[dict[str, list[LineTask]], dict[str, int]]:
    """The tasks of each loaded engine (in script order) and its number of workers: each engine gets
    a share in proportion to its work (characters times the engine's `cost`), so they finish together."""
    groups: dict[str, list[LineTask]] = {}
    for t in tasks:
        groups.setdefault(engine_key(t.profile), []).append(t)
    work = {
        g: get_engine(ts[0].profile.engine).cost * sum(len(s) for t in ts for s in t.sentences)
        for g, ts in groups.items()
    }
    return groups, share_workers(work, workers, {g: len(ts) for g, ts in groups.items()})


class Batch:
    """The lines an executor is speaking: a future per line in flight.

    The renderer waits on `running` and hands each future that completes to `finish`, in the building
    process: it raises the line's failure, keeps what the worker returned (`collect`), and frees an
    engine's workers (`release`) once the engine's last line is done.
    """

    def __init__(
        self, groups: dict[str, list[LineTask]], release: Callable[[str], None] | None = None
    ) -> None:
        self.running: dict[Future[Any], tuple[str, LineTask]] = {}
        self._left = {g: len(ts) for g, ts in groups.items()}
        self._release = release

    def finish(self, fut: Future[Any]) -> str:
        """Take a completed line; its cache key."""
        group, task = self.running.pop(fut)
        self.collect(group, task, fut)
        self._left[group] -= 1
        if not self._left[group] and self._release:
            self._release(group)
        return task.key

    def collect(self, group: str, task: LineTask, fut: Future[Any]) -> None:
        """The line is in the line cache when its future is done: raise the worker's failure, if any."""
        fut.result()

    def cancel(self) -> None:
        """Cancel the lines not started yet (those being spoken finish and stay cached)."""
        for fut in self.running:
            fut.cancel()


class Executor(ABC):
    """Speaks lines in workers that keep their voices loaded. One instance per process (`executor`)."""

    name: ClassVar[str]

    @abstractmethod
    def connect(self) -> None:
        """Make sure lines can be spoken; a PodcastError in one line when they cannot. A build calls it
        before it writes anything."""

    @abstractmethod
    def start(self, stack: ExitStack, tasks: list[LineTask], workers: int | None) -> Batch:
        """Start speaking `tasks` (at least one, in script order) with at most `workers` workers
        (None: the executor's own default). The workers are stopped when `stack` closes, if not before."""


class LocalExecutor(Executor):
    """One process pool per engine on this machine, so each process loads one voice model: the models'
    memory, not mastering, is what a process costs. Workers put each line in the line cache."""

    name = "local"

    def connect(self) -> None:
        """This machine's cores are always there."""

    def start(self, stack: ExitStack, tasks: list[LineTask], workers: int | None) -> Batch:
        workers = workers or worker_count()
        if len(tasks) == 1 or workers == 1:
            # One line (the usual edit): starting a process and loading its model there would cost more
            # than the line. It is spoken in a thread here, while this process masters what is ready.
            pool = stack.enter_context(ThreadPoolExecutor(1))
            batch = Batch({"": tasks})
            speak = _OneByOne()
            batch.running = {pool.submit(speak, t): ("", t) for t in tasks}
            return batch
        groups, sizes = engine_groups(tasks, workers)
        ctx = get_context("spawn")  # fork would copy the parent's threads and onnxruntime state
        pools: dict[str, ProcessPoolExecutor] = {}
        for g, ts in groups.items():
            engine = get_engine(ts[0].profile.engine)
            pools[g] = stack.enter_context(
                ProcessPoolExecutor(sizes[g], mp_context=ctx, initializer=init_worker, initargs=(engine,))
            )
        # An engine that is done frees its processes' memory for the others.
        batch = Batch(groups, release=lambda g: pools[g].shutdown(wait=False))
        batch.running = {pools[g].submit(synthesize, t): (g, t) for g, ts in groups.items() for t in ts}
        return batch


class _OneByOne:
    """Lines spoken in turn; after a failure the next ones fail the same way, unspoken (a voice that
    refuses, say for a rate limit, is not asked again before the build stops)."""

    def __init__(self) -> None:
        self.failure: BaseException | None = None

    def __call__(self, task: LineTask) -> None:
        if self.failure is not None:
            raise self.failure
        try:
            synthesize(task)
        except BaseException as e:
            self.failure = e
            raise


_CLASSES = {
    "local": ("podcast.audio.executors", "LocalExecutor"),
    "ray": ("podcast.audio.ray_executor", "RayExecutor"),
}
"""Each of podcast.settings.EXECUTORS: where its class is, imported only when it is used."""
_made: dict[str, Executor] = {}
_making = threading.Lock()


def executor(name: str) -> Executor:
    """The executor of this name ([render] executor, `podcast build --executor`), made once per process:
    a Ray connection, once made, serves every build of the process."""
    with _making:
        if name not in _made:
            module, cls = _CLASSES[name]
            _made[name] = getattr(importlib.import_module(module), cls)()
        return _made[name]
