"""The "ray" executor: lines spoken by Ray actors, on a cluster or on a Ray started for the build.

Each engine of the episode gets its share of the cluster's CPUs as actors (podcast.audio.executors.
engine_groups), each loading its voice once, with the GPUs the engine asks for (TTSEngine.gpus).
Workers need not see this machine's disk: a line goes out with the cached audio of its sentences
and comes back as cache entries, stored here, in the show's .cache, as a local worker would have
stored them. Lines go out in script order, a few at a time per actor, so the first parts can be
mastered and encoded here while the rest is spoken. A worker that dies is restarted and its lines
spoken again (Ray's actor restarts and task retries).

Ray is an optional extra (`pip install 'papercast[ray]'`), imported only here and only when used.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections import deque
from concurrent.futures import Future
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any

from podcast import cache as cachemod
from podcast.audio.executors import Batch, Executor, engine_groups, worker_count
from podcast.audio.speak import (
    Entries,
    LineTask,
    cached_sentences,
    init_worker,
    store_remote,
    synthesize_remote,
)
from podcast.errors import AudioError, PodcastError
from podcast.text import one_line
from podcast.tts import TTSEngine, get_engine

if TYPE_CHECKING:
    from types import ModuleType

INSTALL = "--executor ray needs Ray: pip install 'papercast[ray]'"
IN_FLIGHT = 2
"""Lines queued at each actor: one being spoken, one waiting, so an actor never idles while this
process is busy mastering."""
RESTARTS = 3
"""How often a dead worker is restarted, and a line it was speaking tried again."""
PROBE_TIMEOUT = 10.0
"""Seconds to wait for the cluster's address to answer before saying it cannot be reached (Ray itself
keeps retrying for minutes)."""


def _ray() -> ModuleType:
    try:
        import ray
    except ImportError:
        raise PodcastError(INSTALL) from None
    return ray


class PapercastVoice:
    """A Ray actor that keeps one engine's voice loaded and speaks lines with it."""

    def __init__(self, engine: type[TTSEngine]) -> None:
        init_worker(engine)

    def speak(self, task: LineTask, sentences: Entries) -> Entries:
        return synthesize_remote(task, sentences)


class RayExecutor(Executor):
    name = "ray"

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def connect(self, *, start: bool = False) -> None:
        """Join the cluster RAY_ADDRESS names (Ray's own variable). Without one, and with `start`, start
        a Ray on this machine that lives as long as this process, listening on 127.0.0.1 only (not
        before there are lines to speak: a build that finds them all cached needs no Ray)."""
        ray = _ray()
        with self._lock:
            address = os.environ.get("RAY_ADDRESS", "").strip()
            if ray.is_initialized() or not (address or start):
                return
            if address not in ("", "auto", "local"):
                _probe(address)
            quiet: dict[str, Any] = {"logging_level": logging.ERROR, "log_to_driver": False}
            os.environ.setdefault("RAY_BACKEND_LOG_LEVEL", "error")  # Ray's own warnings, one per retry
            try:
                if address:
                    ray.init(address=address, **quiet)
                else:
                    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # a private Ray reports nowhere
                    ray.init(
                        num_cpus=os.cpu_count() or 1,
                        include_dashboard=False,
                        _node_ip_address="127.0.0.1",
                        **quiet,
                    )
            except Exception as e:  # Ray raises ConnectionError, RuntimeError, ValueError, ...
                where = f"the Ray cluster at {address} (RAY_ADDRESS)" if address else "a local Ray"
                raise PodcastError(f"cannot start {where}: {one_line(str(e))[:300]}") from None

    def start(self, stack: ExitStack, tasks: list[LineTask], workers: int | None) -> Batch:
        ray = _ray()
        self.connect(start=True)
        resources = ray.cluster_resources()
        groups, sizes = engine_groups(tasks, workers or worker_count(int(resources.get("CPU", 1))))
        actors: dict[str, list[Any]] = {}
        stack.callback(lambda: [ray.kill(a) for group in actors.values() for a in group])
        for g, ts in groups.items():
            engine = get_engine(ts[0].profile.engine)
            if engine.gpus > resources.get("GPU", 0):
                raise PodcastError(
                    f"voices/{ts[0].profile.id}.toml: the {engine.name} engine needs {engine.gpus:g} GPU "
                    f"per voice and the Ray cluster has {resources.get('GPU', 0):g}; add a GPU worker"
                )
            cls = ray.remote(PapercastVoice).options(
                num_cpus=1, num_gpus=engine.gpus, max_restarts=RESTARTS, max_task_retries=RESTARTS
            )
            actors[g] = [cls.remote(engine) for _ in range(sizes[g])]
        return _RayBatch(ray, groups, actors, cachemod.Cache(tasks[0].cache_root))


class _RayBatch(Batch):
    """Lines fed to each engine's actors in script order, IN_FLIGHT at a time per actor."""

    def __init__(self, ray: ModuleType, groups: dict[str, list[LineTask]], actors: dict[str, list[Any]],
                 cache: cachemod.Cache) -> None:
        super().__init__(groups, release=self._stop)
        self._ray, self._actors, self._cache = ray, actors, cache
        self._queue = {g: deque(ts) for g, ts in groups.items()}
        self._load = {g: [0] * len(a) for g, a in actors.items()}
        self._at: dict[Future[Any], int] = {}
        for g in groups:
            self._feed(g)

    def _feed(self, group: str) -> None:
        load, queue = self._load[group], self._queue[group]
        while queue and min(load) < IN_FLIGHT:
            i = load.index(min(load))  # the least busy actor takes the next line
            task = queue.popleft()
            ref = self._actors[group][i].speak.remote(task, cached_sentences(self._cache, task))
            fut = ref.future()
            self.running[fut] = (group, task)
            self._at[fut] = i
            load[i] += 1

    def collect(self, group: str, task: LineTask, fut: Future[Any]) -> None:
        self._load[group][self._at.pop(fut)] -= 1
        errors = self._ray.exceptions
        try:
            added = fut.result()
        except errors.RayTaskError as e:
            if isinstance(e.cause, PodcastError):
                raise e.cause from None
            raise AudioError(f"a Ray worker failed on a line of '{task.section}': {_first_line(e)}") from None
        except errors.RayActorError:
            raise AudioError(
                f"the Ray worker speaking a line of '{task.section}' died and could not be restarted "
                f"({RESTARTS} times at most); see `ray status` and the logs of the cluster's workers"
            ) from None
        except errors.RayError as e:
            raise AudioError(f"Ray failed on a line of '{task.section}': {_first_line(e)}") from None
        store_remote(self._cache, task, added)
        self._feed(group)

    def _stop(self, group: str) -> None:
        """The engine's lines are done: its actors go, freeing their CPUs for other builds."""
        for actor in self._actors.pop(group):
            self._ray.kill(actor)


def _first_line(e: BaseException) -> str:
    return one_line(str(e).strip().splitlines()[-1] if str(e).strip() else type(e).__name__)[:300]


def _probe(address: str) -> None:
    """A PodcastError in one line when nothing answers at the cluster's address."""
    hostport = address.split("://", 1)[-1].rstrip("/")
    host, _, port = hostport.rpartition(":")
    if not host or not port.isdigit():
        raise PodcastError(f"RAY_ADDRESS={address!r}: give the Ray head's host:port, e.g. 10.0.0.5:6379")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=PROBE_TIMEOUT):
            pass
    except OSError as e:
        reason = e.strerror or type(e).__name__
        raise PodcastError(
            f"cannot reach the Ray cluster at {hostport} (RAY_ADDRESS): {reason}; start it with "
            "`ray start --head`, or unset RAY_ADDRESS to use this machine"
        ) from None
