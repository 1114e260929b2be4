"""Summaries by a language model behind any OpenAI-compatible chat endpoint (OpenAI, Ollama, vLLM,
the llama.cpp server), reached through the `openai` package's chat.completions.

Where and who: OPENAI_BASE_URL (default OpenAI's own) and OPENAI_API_KEY, from the environment only;
the key is handed to the client and never written, logged or put in a message. What: the model,
temperature, prompt file and context budget of podcast.toml's [summarizer] table.

One request per paper. The system message is the prompt file (the package's data/prompts/summary.md
unless the show names its own), with "{words}" replaced by the target length; the user message is the
paper's title, authors and text, cut to the context budget with the abstract, introduction and
conclusion kept first. Every answer is cached under the show's .cache/llm/ by a hash of the endpoint,
model, temperature and both messages, so a build that failed midway asks again only for what is
missing. Passing failures (429, 5xx, timeouts, lost connections) are retried here, not by the client,
with capped exponential backoff and jitter, honoring the server's Retry-After.
"""

from __future__ import annotations

import json
import os
import random
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import openai

from podcast.cache import Cache, key
from podcast.errors import ConfigError, EngineError
from podcast.models import Paper
from podcast.research.paper_text import sections as paper_sections
from podcast.summarize.base import (
    ONE_LINE_WORDS,
    Summarizer,
    SummarizerSettings,
    TokenUse,
    paper_label,
    read_prompt,
)

DEFAULT_MODEL = "gpt-4o-mini"
DEFAULT_BASE_URL = "https://api.openai.com/v1"
CACHE_KIND = "llm"
"""Answers live in <show>/.cache/llm/."""
_ANSWER_TOKENS = 200
"""Room kept in the context for the answer, beyond two tokens per word asked for."""
_LEAST_PAPER_TOKENS = 300
"""A budget leaving the paper less than this is a configuration mistake, not a summary."""
_RETRY_STATUS = frozenset({408, 409, 429})
"""Besides 5xx: statuses that say "not now" rather than "not this request"."""
_THINKING = re.compile(r"^\s*<think>.*?</think>\s*", re.DOTALL)
"""The reasoning that some local models (DeepSeek-R1, Qwen3 on Ollama) print before their answer."""
_TIER = {"abstract": 0, "intro": 1, "conclusion": 1, "body": 2}
"""Which parts of a paper get room in the prompt first."""


@dataclass(frozen=True)
class Answer:
    """A model's summary of one paper and what it cost."""

    text: str
    prompt_tokens: int
    completion_tokens: int


class _Passing(Exception):
    """A failure worth another try: `reason` for the final message, `retry_after` from the server."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class OpenAISummarizer(Summarizer):
    """Summaries written by a chat model; see the module docstring for the contract."""

    name = "openai"

    def __init__(self, settings: SummarizerSettings) -> None:
        super().__init__(settings)
        api_key, self.base_url = _environment()
        self.model = settings.model or DEFAULT_MODEL
        self.prompt = read_prompt(settings.prompt)
        self.count_tokens = token_counter()
        self._used: list[TokenUse] = []
        # Our own retry loop (max_retries=0): its waits, order and messages are ours, and testable.
        self.client = openai.OpenAI(
            api_key=api_key, base_url=self.base_url, max_retries=0, timeout=settings.timeout
        )

    def summarize(self, paper: Paper) -> str:
        """About `settings.words` words of plain prose from the model (or the cache)."""
        return self._summary(paper, self.settings.words, "Summarize this paper in about {words} words.")

    def summarize_line(self, paper: Paper) -> str:
        """One sentence of about ONE_LINE_WORDS words, for a paper that is not an episode highlight."""
        task = "Summarize this paper in a single sentence of about {words} words."
        return self._summary(paper, ONE_LINE_WORDS, task)

    def token_use(self) -> tuple[TokenUse, ...]:
        return tuple(self._used)

    # -- one paper --------------------------------------------------------------------------------

    def _summary(self, paper: Paper, words: int, task: str) -> str:
        system, user = self.messages(paper, words, task.format(words=words))
        digest = key("chat.completions", self.base_url, self.model, self.settings.temperature, system, user)
        store = Cache(self.cache_dir) if self.cache_dir is not None else None
        raw = store.get(CACHE_KIND, digest, ".json") if store is not None else None
        answer = _from_cache(raw) if raw is not None else None
        cached = answer is not None
        if answer is None:
            answer = self._ask(paper, system, user)
            if store is not None:
                store.put(CACHE_KIND, digest, ".json", _to_cache(answer))
        self._used.append(TokenUse(paper.id, answer.prompt_tokens, answer.completion_tokens, cached))
        return answer.text

    def messages(self, paper: Paper, words: int, task: str) -> tuple[str, str]:
        """(system, user) messages for one paper: the prompt, and the paper cut to the context budget."""
        system = self.prompt.replace("{words}", str(words))
        head = f"Title: {' '.join(paper.title.split())}\n"
        if paper.authors:
            head += f"Authors: {', '.join(paper.authors)}\n"
        room = self.settings.context_tokens - self.count_tokens(system + head + task) - 2 * words
        room -= _ANSWER_TOKENS + 60  # the note on a shortened paper, and the messages' framing
        if room < _LEAST_PAPER_TOKENS:
            raise ConfigError(
                f"summarizer.context_tokens = {self.settings.context_tokens} leaves no room for the paper "
                "after the prompt and the answer; raise it (most models take 8000 or more)"
            )
        text, shortened = paper_text(paper, room, self.count_tokens)
        note = "\n\nParts of the paper were left out to fit; [...] marks where." if shortened else ""
        return system, f"{head}\n{text}{note}\n\n{task}"

    def _ask(self, paper: Paper, system: str, user: str) -> Answer:
        """The model's answer, retrying passing failures; EngineError naming the paper otherwise."""
        messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
        return self.chat(paper, messages)

    def chat(
        self,
        paper: Paper,
        messages: list[dict[str, str]],
        *,
        who: str = "summarizer 'openai'",
        kept: str = "summaries already written are kept",
    ) -> Answer:
        """The model's answer to `messages` about `paper`, retrying passing failures (429, 5xx,
        timeouts, lost connections) with backoff; EngineError naming `who` and the paper otherwise.
        Not cached: callers cache what they keep."""
        tries = self.settings.retries + 1
        for attempt in range(tries):
            try:
                return self._request(paper, messages)
            except _Passing as e:
                if attempt + 1 == tries:
                    raise EngineError(
                        f"{who} gave up on paper {paper_label(paper)} after {tries} "
                        f"{'try' if tries == 1 else 'tries'} at {self.base_url} (last: {e.reason}); "
                        f"try again later: {kept}"
                    ) from None
                time.sleep(self._wait(attempt, e.retry_after))
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    def _wait(self, attempt: int, retry_after: float | None) -> float:
        """Seconds before try `attempt` + 2: the server's Retry-After if it sent one, else an
        exponential backoff with "equal jitter" (half fixed, half random), both capped."""
        cap = self.settings.retry_max_wait
        if retry_after is not None:
            return min(max(retry_after, 0.0), cap)
        delay = min(cap, self.settings.retry_wait * 2**attempt)
        return delay / 2 + random.uniform(0, delay / 2)

    def _request(self, paper: Paper, messages: list[dict[str, str]]) -> Answer:
        try:
            response = self.client.chat.completions.create(
                model=self.model,
                temperature=self.settings.temperature,
                messages=messages,  # type: ignore[arg-type]
            )
        except openai.APITimeoutError:
            raise _Passing(f"no answer within {self.settings.timeout:g} s") from None
        except openai.APIConnectionError as e:
            raise _Passing(f"cannot connect: {_cause(e)}") from None
        except openai.APIStatusError as e:
            raise self._status_error(e, paper) from None
        return self._answer(response, paper)

    def _answer(self, response: Any, paper: Paper) -> Answer:
        """The summary in a 200 response; EngineError for a refusal or an empty answer.

        Read with getattr: OpenAI-compatible servers leave out fields that OpenAI's types promise
        (`usage`, `refusal`), and the client does not validate what it is sent.
        """
        choices = getattr(response, "choices", None) or []
        if not choices:
            raise EngineError(
                f"model {self.model!r} sent no answer for paper {paper_label(paper)}; try again"
            )
        choice = choices[0]
        refusal = getattr(choice.message, "refusal", None)
        if choice.finish_reason == "content_filter" or refusal:
            why = f": {_one_line(refusal)}" if refusal else " (its content filter stopped the answer)"
            raise EngineError(
                f"model {self.model!r} refused to summarize paper {paper_label(paper)}{why}; "
                "write its summaries/ file by hand or use another model"
            )
        text = _THINKING.sub("", choice.message.content or "").strip()
        if not text:
            raise EngineError(
                f"model {self.model!r} returned an empty answer for paper {paper_label(paper)}; "
                "try again, or use another model"
            )
        usage = getattr(response, "usage", None)
        return Answer(
            text,
            int(getattr(usage, "prompt_tokens", 0) or 0),
            int(getattr(usage, "completion_tokens", 0) or 0),
        )

    def _status_error(self, e: openai.APIStatusError, paper: Paper) -> Exception:
        """What an error status means: a _Passing one to retry, or an EngineError that says what to fix."""
        status, code, detail = e.status_code, str(e.code or ""), _server_message(e)
        where = f"paper {paper_label(paper)} at {self.base_url}"
        if status == 429 and code == "insufficient_quota":
            return EngineError(f"the API account has no quota left (429 insufficient_quota) for {where}")
        if status in _RETRY_STATUS or status >= 500:
            return _Passing(
                f"HTTP {status}" + (f": {detail}" if detail else ""), _retry_after(e.response.headers)
            )
        if status == 401:
            return EngineError(f"the endpoint refused the API key (401) for {where}; check OPENAI_API_KEY")
        if status == 404 and (code == "model_not_found" or "model" in detail.lower()):
            return EngineError(
                f"model {self.model!r} not found (404) for {where}; set [summarizer] model in podcast.toml "
                "to a model the endpoint serves"
            )
        if status == 404:
            return EngineError(
                f"no chat completions endpoint (404) for {where}; "
                "check OPENAI_BASE_URL (it usually ends in /v1)"
            )
        return EngineError(f"the endpoint answered HTTP {status} for {where}: {detail or 'no detail'}")


# -- the paper as the model reads it ----------------------------------------------------------------


def paper_text(paper: Paper, budget: int, count: Callable[[str], int]) -> tuple[str, bool]:
    """(the paper's abstract and text within `budget` tokens, whether anything was left out).

    Sections come from the extractive engine's splitter (references and appendices dropped). Room
    goes to the abstract first, then to the introduction and conclusion, then to the body, shared
    evenly within each tier so that every body section keeps its opening; cuts are marked [...].
    """
    blocks = _blocks(paper, budget, count)
    sizes = [count(text) for _, text in blocks]
    if sum(sizes) <= budget:
        return "\n\n".join(text for _, text in blocks), False
    shares = _shares(sizes, [_TIER[kind] for kind, _ in blocks], budget)
    parts: list[str] = []
    for (_, text), size, share in zip(blocks, sizes, shares, strict=True):
        if share >= size:
            parts.append(text)
        elif share >= 20:
            parts.append(_cut(text, share, count) + " [...]")
        elif not parts or parts[-1] != "[...]":
            parts.append("[...]")
    return "\n\n".join(parts), True


def _blocks(paper: Paper, budget: int, count: Callable[[str], int]) -> list[tuple[str, str]]:
    """(kind, text) of the paper in reading order: its abstract, then its text's sections."""
    abstract = paper.abstract.strip()
    blocks = [("abstract", abstract)] if abstract else []
    sections = [(kind, _tidy(text)) for kind, text in paper_sections(paper.full_text, bool(abstract))]
    sections = [(kind, text) for kind, text in sections if text]
    if sections and all(kind == "body" for kind, _ in sections):
        sections = _positional("\n\n".join(text for _, text in sections), budget, count)
    return blocks + sections


def _positional(text: str, budget: int, count: Callable[[str], int]) -> list[tuple[str, str]]:
    """A text without headings: its opening reads as the introduction and its close as the conclusion
    (as the extractive engine assumes), each at most a fifth of its lines and of the budget."""
    lines = text.split("\n")
    limit = len(lines) // 5

    def edge(indices: range) -> int:
        """How many lines, taken in `indices` order, fit in a fifth of the budget."""
        used = taken = 0
        for i in indices:
            used += count(lines[i]) + 1
            if taken >= limit or used > budget // 5:
                break
            taken += 1
        return taken

    head = edge(range(len(lines)))
    tail = len(lines) - edge(range(len(lines) - 1, head - 1, -1))
    parts = [("intro", lines[:head]), ("body", lines[head:tail]), ("conclusion", lines[tail:])]
    return [(kind, _tidy("\n".join(chunk))) for kind, chunk in parts if _tidy("\n".join(chunk))]


def _tidy(text: str) -> str:
    return re.sub(r"\n\s*\n(?:\s*\n)+", "\n\n", text).strip()


def _shares(sizes: list[int], tiers: list[int], budget: int) -> list[int]:
    """Tokens for each block: whole tiers in order while they fit; the first tier that does not fit
    is shared out evenly (a small block gets all it needs and its leftover goes to the others).

    >>> _shares([100, 500, 300, 2000, 50], [0, 1, 2, 2, 1], 1000)
    [100, 500, 175, 175, 50]
    """
    shares = [0] * len(sizes)
    left = budget
    for tier in sorted(set(tiers)):
        members = sorted((i for i, t in enumerate(tiers) if t == tier), key=lambda i: (sizes[i], i))
        for k, i in enumerate(members):
            shares[i] = min(sizes[i], left // (len(members) - k))
            left -= shares[i]
    return shares


def _cut(text: str, tokens: int, count: Callable[[str], int]) -> str:
    """The start of `text` within `tokens` tokens, ended on a sentence when one ends near the cut,
    else on a word."""
    end = len(text) * tokens // max(count(text), 1)
    while end > 0:
        head = text[:end]
        sentence = max(head.rfind(". "), head.rfind(".\n"))
        if sentence >= 0.7 * len(head):
            head = head[: sentence + 1]
        elif " " in head.strip():
            head = head[: head.rstrip().rfind(" ")]
        if count(head) <= tokens:
            return head.rstrip()
        end = int(end * 0.9)
    return ""


def token_counter() -> Callable[[str], int]:
    """Token counting for the budget: tiktoken's when it is installed, else 4 characters a token."""
    try:
        import tiktoken

        encoding = tiktoken.get_encoding("o200k_base")
    except Exception:  # not installed, or its data cannot be had: the estimate is close enough

        def estimate(text: str) -> int:
            return (len(text) + 3) // 4

        return estimate

    def exact(text: str) -> int:
        return len(encoding.encode(text, disallowed_special=()))

    return exact


# -- set-up and small helpers -----------------------------------------------------------------------


def _environment() -> tuple[str, str]:
    """(API key, base URL) from the environment; a local server may need no key."""
    api_key = os.environ.get("OPENAI_API_KEY", "").strip()
    base_url = os.environ.get("OPENAI_BASE_URL", "").strip().rstrip("/")
    if not api_key and not base_url:
        raise EngineError(
            "summarizer 'openai' needs OPENAI_API_KEY in the environment, or OPENAI_BASE_URL for a "
            "local server such as Ollama (http://127.0.0.1:11434/v1)"
        )
    # Servers without authentication ignore the key, but the client insists on having one.
    return api_key or "no-key", base_url or DEFAULT_BASE_URL


def _retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds the server asks us to wait: retry-after-ms (OpenAI's), or Retry-After in seconds or
    as an HTTP date; None when it says nothing usable.

    >>> _retry_after({"retry-after": "2"}), _retry_after({"retry-after-ms": "250"}), _retry_after({})
    (2.0, 0.25, None)
    """
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            return float(value) * scale
        except ValueError:
            pass
        try:
            return parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError):
            continue
    return None


def _server_message(e: openai.APIStatusError) -> str:
    body = e.body
    message = body.get("message") if isinstance(body, dict) else body
    return _one_line(message if isinstance(message, str) else "")


def _cause(e: Exception) -> str:
    cause = e.__cause__ or e.__context__
    return _one_line(str(cause) if cause is not None else str(e)) or type(e).__name__


def _one_line(text: str, limit: int = 200) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _to_cache(answer: Answer) -> bytes:
    record = {
        "text": answer.text,
        "prompt_tokens": answer.prompt_tokens,
        "completion_tokens": answer.completion_tokens,
    }
    return json.dumps(record, ensure_ascii=False, indent=1).encode("utf-8")


def _from_cache(data: bytes) -> Answer | None:
    """A cached answer, or None for an entry that cannot be read (it is asked for again)."""
    try:
        record = json.loads(data)
        return Answer(str(record["text"]), int(record["prompt_tokens"]), int(record["completion_tokens"]))
    except (ValueError, KeyError, TypeError):
        return None
