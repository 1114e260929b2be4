"""Summaries by a language model behind any OpenAI-compatible chat endpoint (OpenAI, Ollama, vLLM,
the llama.cpp server), reached through podcast.llm, the one client for such endpoints.

Where and who: OPENAI_BASE_URL and OPENAI_API_KEY, as podcast.llm reads them. What: the model,
temperature, prompt file and context budget of podcast.toml's [summarizer] table; its retries,
retry_wait, retry_max_wait and timeout are the client's retry policy (429, 5xx, timeouts and lost
connections tried again with capped backoff, honoring the server's Retry-After).

One request per paper, `[summarizer] concurrency` of them at once (podcast.summarize.pool). The
system message is the prompt file (the package's data/prompts/summary.md unless the show names its
own), with "{words}" replaced by the target length; the user message is the
paper's title, authors and text, cut to the context budget with the abstract, introduction and
conclusion kept first. Every answer is cached under the show's .cache/llm/ by a hash of the endpoint,
model, temperature and both messages, so a build that failed midway asks again only for what is
missing.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from podcast import llm
from podcast.errors import ConfigError
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
from podcast.text import clean

CACHE_PURPOSE = "chat.completions"
"""The first part of a summary's cache key (as it has been since the first cached summary)."""
_ANSWER_TOKENS = 200
"""Room kept in the context for the answer, beyond two tokens per word asked for."""
_LEAST_PAPER_TOKENS = 300
"""A budget leaving the paper less than this is a configuration mistake, not a summary."""
_TIER = {"abstract": 0, "intro": 1, "conclusion": 1, "body": 2}
"""Which parts of a paper get room in the prompt first."""
CALLER = llm.Caller(
    "summarizer 'openai'",
    kept="summaries already written are kept",
    model_fix="set [summarizer] model in podcast.toml to a model the endpoint serves",
    refused_fix="write its summaries/ file by hand or use another model",
)


class OpenAISummarizer(Summarizer):
    """Summaries written by a chat model; see the module docstring for the contract."""

    name = "openai"
    concurrent = True  # the client and the cache are thread-safe; _used only ever grows

    def __init__(self, settings: SummarizerSettings) -> None:
        super().__init__(settings)
        self.client = llm.Client.for_settings(CALLER, settings)
        self.model = settings.model or llm.DEFAULT_CHAT_MODEL
        self.prompt = read_prompt(settings.prompt)
        self.count_tokens = token_counter()
        self._used: list[TokenUse] = []

    def summarize(self, paper: Paper) -> str:
        """About `settings.words` words of plain prose from the model (or the cache)."""
        return self._summary(paper, self.settings.words, "Summarize this paper in about {words} words.")

    def summarize_line(self, paper: Paper) -> str:
        """One sentence of about ONE_LINE_WORDS words, for a paper that is not an episode highlight."""
        task = "Summarize this paper in a single sentence of about {words} words."
        return self._summary(paper, ONE_LINE_WORDS, task)

    def token_use(self) -> tuple[TokenUse, ...]:
        return tuple(self._used)

    def _summary(self, paper: Paper, words: int, task: str) -> str:
        system, user = self.messages(paper, words, task.format(words=words))
        temperature = self.settings.temperature
        cache = llm.AnswerCache(self.cache_dir)
        digest = cache.key(CACHE_PURPOSE, self.client.endpoint, self.model, temperature, system, user)
        answer = cache.get(digest)
        if answer is None:
            messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
            answer = self.client.chat(self.model, temperature, messages, f"paper {paper_label(paper)}")
            cache.put(digest, answer)
        self._used.append(answer.use(paper.id))
        return clean(answer.text)

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
