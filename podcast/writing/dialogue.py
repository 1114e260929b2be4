"""Each paper as a short exchange between the two hosts, written by the LLM the summarizer uses.

The duo format's default has the co-host read each summary. With [script] dialogue on (by default:
when the summarizer is "openai"), the same OpenAI-compatible endpoint (podcast.llm's client with
the [summarizer] model, temperature, retries and timeout) gets the dialogue prompt
(data/prompts/dialogue.md unless [script] prompt names another; "{host}" and "{cohost}" become the
speakers' names) and the paper's title and summary, and answers with a JSON list of turns:

    [{"speaker": "cohost", "text": "..."}, {"speaker": "host", "text": "..."}]

An answer is checked (see `parse_turns`): valid JSON, only the two roles, both of them speaking,
non-empty plain spoken text with no stage directions, markup or speaker labels, and a sane length.
An invalid answer is asked for again, telling the model what was wrong, up to DIALOGUE_TRIES times
in all; then the build stops with one line naming the paper. Valid answers are cached under the
show's .cache/llm/ by a hash of the endpoint, model, temperature, prompt, paper and summary, so a
rebuild asks for nothing. When every paper is an exchange, they are asked for `[summarizer]
concurrency` at a time (`Exchanges.ask_all`) and the script takes them in its own order; the build
asks for each one as soon as its summary is there (`Exchanges.ahead`), while the other summaries are
still being written.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from podcast import llm
from podcast.errors import EngineError
from podcast.models import Paper, Summary, VoiceProfile
from podcast.summarize.base import SummarizerSettings, TokenUse, paper_label, read_prompt
from podcast.summarize.pool import in_order
from podcast.text import one_line
from podcast.writing.speech import speakable

ROLES = ("host", "cohost")
DIALOGUE_TRIES = 3
"""Answers asked for per paper, the first included, before an invalid one stops the build."""
MIN_TURNS, MAX_TURNS = 2, 12
MAX_TURN_WORDS = 120
MAX_WORDS = 600
CACHE_PURPOSE = "dialogue"
"""The first part of an exchange's cache key (as it has been since the first cached exchange)."""
TASK = "Write the hosts' exchange about this paper as a JSON list of turns."
CALLER = llm.Caller(
    "the dialogue writer",
    kept="summaries already written are kept",
    model_fix="set [summarizer] model in podcast.toml to a model the endpoint serves",
    refused_fix='use another model, or set [script] dialogue = "off"',
)

_FENCE = re.compile(r"^```[A-Za-z]*\s*\n?(.*?)\n?\s*```$", re.DOTALL)
_MARKUP: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"[\[\]]"), "a bracketed stage direction or link ([...])"),
    (re.compile(r"\(\s*[a-z][a-z ,'-]{0,40}\)"), "a stage direction in parentheses, like (pause)"),
    (re.compile(r"<[^>]*>"), "a tag (<...>)"),
    (re.compile(r"[*#`]|__|~~"), "Markdown (*, #, `, __)"),
    (re.compile(r"^(?:[-•+]\s|\d+[.)]\s)"), "a list marker"),
    (re.compile(r"https?://|www\."), "a link"),
)


class InvalidAnswer(ValueError):
    """An answer that is not a usable exchange; the message says what to fix, in one line."""


@dataclass(frozen=True)
class Turn:
    speaker: str
    """"host" or "cohost"."""
    text: str


def read_dialogue_prompt(path: str) -> str:
    """The prompt file's text: `path`, or the package's data/prompts/dialogue.md when it is empty."""
    return read_prompt(path, "dialogue.md", "script.prompt")


def parse_turns(answer: str, names: Sequence[str] = ()) -> list[Turn]:
    """The turns of a model's answer; InvalidAnswer saying what is wrong when it is not a valid
    exchange. `names` are the speakers' names, which must not label a turn.

    >>> parse_turns('[{"speaker": "cohost", "text": "It  scales."}, {"speaker": "host", "text": "Wow."}]')
    [Turn(speaker='cohost', text='It scales.'), Turn(speaker='host', text='Wow.')]
    >>> parse_turns('[{"speaker": "narrator", "text": "Hi."}]')
    Traceback (most recent call last):
    ...
    podcast.writing.dialogue.InvalidAnswer: turn 1: speaker 'narrator' is not "host" or "cohost"
    """
    text = llm.strip_thinking(answer)
    fenced = _FENCE.match(text)
    if fenced:
        text = fenced.group(1).strip()
    try:
        data: Any = json.loads(text)
    except ValueError as e:
        msg = getattr(e, "msg", str(e))
        raise InvalidAnswer(f"the answer is not valid JSON ({msg}); answer with the JSON list only") from None
    if isinstance(data, dict) and list(data) == ["turns"]:
        data = data["turns"]
    if not isinstance(data, list):
        raise InvalidAnswer(f"the answer must be a JSON list of turns, not a JSON {type(data).__name__}")
    labels = re.compile(
        rf"^(?:{'|'.join(re.escape(n) for n in ('host', 'co-host', 'cohost', *names) if n)})\s*:",
        re.IGNORECASE,
    )
    turns = [_turn(i, item, labels) for i, item in enumerate(data, 1)]
    if not MIN_TURNS <= len(turns) <= MAX_TURNS:
        raise InvalidAnswer(f"the answer has {len(turns)} turns; write 4 to 8")
    spoken = {t.speaker for t in turns}
    if spoken != set(ROLES):
        who = spoken.pop() if spoken else "nobody"
        raise InvalidAnswer(f"only the {who} speaks; both hosts must take turns")
    words = sum(len(t.text.split()) for t in turns)
    if words > MAX_WORDS:
        raise InvalidAnswer(f"the exchange is {words} words long; keep it under {MAX_WORDS}")
    return turns


def _turn(i: int, item: Any, labels: re.Pattern[str]) -> Turn:
    if not isinstance(item, dict):
        raise InvalidAnswer(f'turn {i} is not an object with "speaker" and "text"')
    if set(item) != {"speaker", "text"}:
        keys = ", ".join(repr(k) for k in item)
        raise InvalidAnswer(f'turn {i} has the keys {keys}; give exactly "speaker" and "text"')
    speaker, raw = item["speaker"], item["text"]
    if speaker not in ROLES:
        raise InvalidAnswer(f'turn {i}: speaker {speaker!r} is not "host" or "cohost"')
    if not isinstance(raw, str) or not raw.strip():
        raise InvalidAnswer(f"turn {i}: the text is empty; every turn says something")
    text = one_line(raw)
    if labels.match(text):
        raise InvalidAnswer(
            f"turn {i} starts with a speaker label ({text.split(':')[0]}:); "
            'say who speaks only in "speaker"'
        )
    for pattern, what in _MARKUP:
        m = pattern.search(text)
        if m:
            raise InvalidAnswer(
                f"turn {i} has {what}: {_snippet(text, m.start())!r}; every turn is spoken as written, "
                "so give only the words said"
            )
    if not speakable(text):
        raise InvalidAnswer(f"turn {i} has no words to speak")
    if len(text.split()) > MAX_TURN_WORDS:
        raise InvalidAnswer(f"turn {i} is {len(text.split())} words long; keep each under {MAX_TURN_WORDS}")
    return Turn(speaker, text)


def _snippet(text: str, at: int) -> str:
    start = max(0, at - 20)
    return ("..." if start else "") + text[start : at + 20] + ("..." if at + 20 < len(text) else "")


class DialogueWriter:
    """The exchanges of one build: one client, set up once; answers cached in `cache_dir`.
    Thread-safe: `exchange` may run in several threads at once."""

    def __init__(
        self,
        settings: SummarizerSettings,
        prompt: str,
        host: VoiceProfile,
        cohost: VoiceProfile,
        cache_dir: Path | None,
    ) -> None:
        if not llm.configured():
            raise EngineError(
                "[script] dialogue needs an LLM: set OPENAI_API_KEY, or OPENAI_BASE_URL for a local server "
                'such as Ollama; or set dialogue = "off" to have the co-host read the summaries'
            )
        self.client = llm.Client.for_settings(CALLER, settings)
        self.model = settings.model or llm.DEFAULT_CHAT_MODEL
        self.temperature = settings.temperature
        self.system = prompt.replace("{host}", host.name).replace("{cohost}", cohost.name)
        self.names = (host.name, cohost.name)
        self.cache = llm.AnswerCache(cache_dir)
        self.used: list[TokenUse] = []

    def exchange(self, paper: Paper, summary: str) -> list[Turn]:
        """The hosts' exchange about `paper`, from the cache or the model."""
        user = f"Title: {' '.join(paper.title.split())}\n\nSummary:\n{summary.strip()}\n\n{TASK}"
        digest = self.cache.key(
            CACHE_PURPOSE, self.client.endpoint, self.model, self.temperature, self.system, user
        )
        cached = self.cache.get(digest)
        if cached is not None:
            try:
                turns = parse_turns(cached.text, self.names)
            except InvalidAnswer:
                pass  # an entry that is no exchange (any more) is asked for again
            else:
                self.used.append(cached.use(paper.id))
                return turns
        messages = [{"role": "system", "content": self.system}, {"role": "user", "content": user}]
        reason = ""
        for _ in range(DIALOGUE_TRIES):
            answer = self.client.chat(self.model, self.temperature, messages, f"paper {paper_label(paper)}")
            self.used.append(answer.use(paper.id))
            try:
                turns = parse_turns(answer.text, self.names)
            except InvalidAnswer as e:
                reason = str(e)
                messages = [
                    *messages[:2],
                    {"role": "assistant", "content": answer.text},
                    {
                        "role": "user",
                        "content": f"That answer was rejected: {reason}. Answer again with only the JSON "
                        "list of turns, following every rule.",
                    },
                ]
                continue
            self.cache.put(digest, answer)
            return turns
        raise EngineError(
            f"model {self.model!r} wrote no valid dialogue for paper {paper_label(paper)} in "
            f"{DIALOGUE_TRIES} tries (last: {reason}); try again, use another model, or set "
            '[script] dialogue = "off"'
        )


class Exchanges:
    """The `exchange` callback of one script (podcast.writing.script.write_script): the writer is set
    up on first use, and the exchanges asked for ahead (`ahead`, `ask_all`) are already there, asked
    for several at a time, so the script takes them in its own order whatever order they were
    answered in."""

    def __init__(self, make: Callable[[], DialogueWriter]) -> None:
        self._make = make
        self.writer: DialogueWriter | None = None
        self._asked: dict[tuple[str, str], list[tuple[str, str]]] = {}
        self._lock = threading.Lock()
        self.wanted = threading.Event()
        """Set once the script will surely be written, so that every exchange will be asked for:
        until then `ahead` asks for nothing (a script kept as it is asks for none, none is paid for)."""

    def __call__(self, summary: Summary) -> list[tuple[str, str]]:
        """The (role, text) turns about `summary`'s paper."""
        with self._lock:
            asked = self._asked.get((summary.paper.id, summary.text))
        if asked is not None:
            return asked
        return [(t.speaker, t.text) for t in self._writer().exchange(summary.paper, summary.text)]

    def ahead(self, summary: Summary) -> None:
        """Ask for `summary`'s exchange now, before the script needs it, if `wanted` is set; else the
        script asks for it when (and if) it is written. Thread-safe."""
        if self.wanted.is_set():
            turns = self(summary)
            with self._lock:
                self._asked[(summary.paper.id, summary.text)] = turns

    def ask_all(self, summaries: Sequence[Summary], workers: int) -> None:
        """Ask for the exchange of every summary not asked for yet, `workers` at a time (the first
        failure stops it)."""
        self._writer()  # set up (or refused) once, here, rather than by the first worker
        answers = in_order(summaries, self, workers)
        with self._lock:
            self._asked.update(((s.paper.id, s.text), t) for s, t in zip(summaries, answers, strict=True))

    def used(self) -> list[TokenUse]:
        """What the exchanges cost, one entry per answer, in the order they were asked for."""
        return list(self.writer.used) if self.writer is not None else []

    def _writer(self) -> DialogueWriter:
        with self._lock:
            self.writer = self.writer or self._make()
            return self.writer
