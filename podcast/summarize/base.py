"""The summarizer contract: its settings, a small base class, and the registry of engines by name.

An engine does its slow set-up (a client, a model) once in __init__ and then writes one summary per
`summarize` call. Engines are found by name through the "papercast.summarizers" entry points
(podcast.plugins), papercast's own included, and imported only when asked for, so listing the names
never imports an engine's packages.
"""

from __future__ import annotations

import contextlib
import copy
import os
import re
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import ClassVar

from podcast import llm
from podcast.errors import ConfigError
from podcast.llm import TokenUse
from podcast.models import Paper
from podcast.plugins import Registry

ONE_LINE_WORDS = 25
"""Length of the one-sentence summary a paper gets when an episode lists other papers as highlights."""
MAX_CONCURRENCY = 32
"""Most requests [summarizer] concurrency may have in flight: beyond it a server only queues them."""
NOTICED = "llm/key-noticed"
"""Under the show's .cache/: present once the show was told that an LLM key was found (said once)."""


@dataclass(frozen=True)
class SummarizerSettings:
    """How summaries are written: the [summarizer] table of podcast.toml."""

    engine: str = ""
    """Registry name of the engine: "extractive" (offline), "openai", or a third party's. Empty means
    "extractive": an LLM is something a show opts into, never chosen because OPENAI_API_KEY is set."""
    words: int = 130
    """Target length of one summary in words; engines aim for about this many."""
    model: str = ""
    """Model name for LLM engines ("gpt-4o-mini", "llama3.1"); empty means the engine's default."""
    temperature: float = 0.3
    """Sampling temperature for LLM engines, 0 to 2; the extractive engine ignores it."""
    prompt: str = ""
    """Path of a prompt file for LLM engines (relative to the show folder in podcast.toml; absolute
    once loaded); empty means the engine's built-in prompt. "{words}" in it becomes `words`."""
    context_tokens: int = 12000
    """Most tokens one LLM request may hold (prompt, paper and answer). Longer papers are cut to fit,
    keeping the abstract, introduction and conclusion first; counted as 4 characters a token unless
    the tiktoken package is installed."""
    retries: int = 5
    """How many times a request that failed for a passing reason (429 rate limit, 5xx server error,
    timeout, lost connection) is tried again before the build stops."""
    retry_wait: float = 1.0
    """Seconds before the first retry; each next wait doubles, with random jitter."""
    retry_max_wait: float = 60.0
    """Longest wait between tries, in seconds, also for a server's Retry-After."""
    timeout: float = 120.0
    """Seconds to wait for one answer before counting the request as failed (and retrying it)."""
    concurrency: int = 4
    """LLM requests in flight per stage, 1 to 32: up to this many summaries at once and, each paper's
    exchange between the hosts being asked for as soon as its summary is there, up to this many
    exchanges besides, so up to twice this many requests in all; a 429 still holds back every
    request to the endpoint. 1: one request after the other, every summary first. Engines that are
    not thread-safe (the extractive one) write one summary at a time whatever it says."""

    def __post_init__(self) -> None:
        if not isinstance(self.engine, str) or self.engine != self.engine.strip():
            raise ConfigError(f"summarizer.engine must name an engine (or be empty), got {self.engine!r}")
        _check_whole(self.words, "words", 1)
        _check_whole(self.context_tokens, "context_tokens", 1000)
        _check_whole(self.retries, "retries", 0)
        _check_whole(self.concurrency, "concurrency", 1)
        if self.concurrency > MAX_CONCURRENCY:
            raise ConfigError(
                f"summarizer.concurrency must be at most {MAX_CONCURRENCY}, got {self.concurrency!r}"
            )
        t = self.temperature
        if isinstance(t, bool) or not isinstance(t, int | float) or not 0 <= t <= 2:
            raise ConfigError(f"summarizer.temperature must be a number from 0 to 2, got {t!r}")
        for key in ("retry_wait", "retry_max_wait", "timeout"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ConfigError(f"summarizer.{key} must be a number of seconds, 0 or more, got {value!r}")
        if self.timeout == 0:
            raise ConfigError("summarizer.timeout must be more than 0 seconds")


def _check_whole(value: object, key: str, least: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise ConfigError(f"summarizer.{key} must be a whole number of at least {least}, got {value!r}")


def resolve_engine(settings: SummarizerSettings) -> SummarizerSettings:
    """`settings` with the engine chosen: the one podcast.toml names, else "extractive". The
    environment plays no part: a key in it must not turn a show's offline episode into a paid one.

    >>> resolve_engine(SummarizerSettings()).engine, resolve_engine(SummarizerSettings("mine")).engine
    ('extractive', 'mine')
    """
    return settings if settings.engine else replace(settings, engine="extractive")


def key_notice(
    settings: SummarizerSettings, dialogue: bool, cache_dir: Path, environ: Mapping[str, str] | None = None
) -> str:
    """The one line telling a show that did not opt into an LLM that OPENAI_API_KEY or
    OPENAI_BASE_URL is set and how to use it; "" when there is nothing to say or it was said before
    (remembered in `cache_dir`, the show's .cache/, which the line marks as said)."""
    env = os.environ if environ is None else environ
    found = [name for name in llm.ENVIRONMENT if env.get(name, "").strip()]
    marker = cache_dir / NOTICED
    if not found or settings.engine == "openai" or dialogue or marker.exists():
        return ""
    with contextlib.suppress(OSError):  # a read-only cache says it again next time: no harm
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(" and ".join(found) + "\n", "utf-8")
    return (
        f"{' and '.join(found)} {'is' if len(found) == 1 else 'are'} set, but this show does not use an "
        'LLM; to opt in, set [summarizer] engine = "openai" in podcast.toml (said once)'
    )


class Summarizer(ABC):
    """One summarizing engine. Subclasses set `name`, load what they need in __init__, and
    implement `summarize`."""

    name: ClassVar[str]
    """The registry key, as written in podcast.toml."""

    cache_dir: Path | None = None
    """Where the engine may keep answers that cost something to get (the show's .cache/), set by
    `load`; None means keep nothing."""

    concurrent: ClassVar[bool] = False
    """Whether one engine may summarize several papers at once from threads (True for an engine that
    waits on a server, like "openai"); others get one paper at a time."""

    def __init__(self, settings: SummarizerSettings) -> None:
        self.settings = settings

    @abstractmethod
    def summarize(self, paper: Paper) -> str:
        """The paper's summary as Markdown paragraphs, about `settings.words` words long.

        Raise podcast.errors.EngineError when the engine itself fails (a refused request, a
        missing model); return "" only when the paper gives nothing to summarize.
        """

    def summarize_line(self, paper: Paper) -> str:
        """The paper in one sentence of about ONE_LINE_WORDS words (for papers that are not the
        episode's highlights). By default the first sentence of a summary asked for at that length."""
        short = copy.copy(self)
        short.settings = replace(self.settings, words=ONE_LINE_WORDS)
        return first_sentence(short.summarize(paper))

    def token_use(self) -> tuple[TokenUse, ...]:
        """Tokens spent so far, one entry per answer, in the order asked; () for engines that spend none."""
        return ()


_SENTENCE_BREAK = re.compile(r"(?<=[.!?])[\"'”’)]*\s+(?=[\"'“‘(]?[A-Z0-9])")
_NOT_AN_END = re.compile(r"(?:\b[A-Z]|\b(?:e\.g|i\.e|al|vs|cf|Fig|Eq|Sec|No|Dr|Mr|Ms|Prof|St))\.$")


def read_prompt(path: str, default: str = "summary.md", key: str = "summarizer.prompt") -> str:
    """The prompt file's text: `path`, or the package's data/prompts/`default` when it is empty.
    `key` is the podcast.toml key that named the file, for the error message."""
    if not path:
        return resources.files("podcast").joinpath(f"data/prompts/{default}").read_text("utf-8").strip()
    try:
        text = Path(path).read_text("utf-8").strip()
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{key}: cannot read {path} ({e}); fix the path or leave it empty") from None
    if not text:
        raise ConfigError(f"{key}: {path} is empty; write a prompt or leave the key empty")
    return text


def paper_label(paper: Paper) -> str:
    """How messages name a paper: its id, and its title when it has one.

    >>> paper_label(Paper("2405.04517", "xLSTM:  Extended\\nLSTM"))
    "'2405.04517' ('xLSTM: Extended LSTM')"
    """
    title = " ".join(paper.title.split())
    return f"{paper.id!r} ({title!r})" if title else repr(paper.id)


def first_sentence(text: str) -> str:
    """The first sentence of `text` (all of it when there is no clear sentence end).

    >>> first_sentence("Smith et al. show it works, e.g. on Fig. 2. J. R. Doe adds more.")
    'Smith et al. show it works, e.g. on Fig. 2.'
    >>> first_sentence("No end here")
    'No end here'
    """
    flat = " ".join(text.split())
    for m in _SENTENCE_BREAK.finditer(flat):
        head = flat[: m.start()].rstrip("\"'”’)")
        if not _NOT_AN_END.search(head):
            return flat[: m.start()]
    return flat


SUMMARIZERS: Registry[Summarizer] = Registry("papercast.summarizers", Summarizer, "summarizer")
"""Every summarizer by name: installed packages' ("papercast.summarizers" entry points) and this
process's."""
register = SUMMARIZERS.register
names = SUMMARIZERS.names
get = SUMMARIZERS.get


def load(settings: SummarizerSettings, cache_dir: Path | None = None) -> Summarizer:
    """The engine that `settings.engine` names (chosen by `resolve_engine` when empty), set up once to
    summarize many papers; `cache_dir` is where it may keep paid-for answers (the show's .cache/)."""
    settings = resolve_engine(settings)
    engine = get(settings.engine)(settings)
    engine.cache_dir = cache_dir
    return engine
