"""The one client for OpenAI-compatible endpoints: the summarizer, the dialogue writer and the openai
voice engine all reach their server through it.

Where and who: OPENAI_BASE_URL (default OpenAI's own) and OPENAI_API_KEY, read here and nowhere else
(`from_environment`, `configured`). The key goes into the Authorization header of each request and
nowhere else: never into a file, a log or a message (messages pass through `Endpoint.redact`, and a
401's server text, which may quote the key, is dropped).

How: plain HTTP with the standard library (no SDK to import in every synthesis worker), JSON in,
JSON or audio out. One retry policy for every endpoint: 408, 409, 425, 429 and 5xx, timeouts and
dropped connections are tried again after the server's Retry-After (seconds, milliseconds or an HTTP
date) or else an exponential backoff with jitter, every wait capped. The wait is a `Backoff` that
every Client of one endpoint in this process shares (`shared_backoff`), so a rate limit seen by one
request holds back all of them: the summarizer's workers and the dialogue writer's alike.
Anything else fails at once with one line saying what to fix.

What is kept: answers worth money, under the show's .cache/llm/ (`AnswerCache`), and the tokens each
request cost (`TokenUse`).
"""

from __future__ import annotations

import json
import os
import random
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit, urlunsplit

from podcast.cache import Cache, key
from podcast.errors import EngineError

DEFAULT_BASE_URL = "https://api.openai.com/v1"
DEFAULT_CHAT_MODEL = "gpt-4o-mini"
"""The model summaries and exchanges are asked of when [summarizer] model is empty."""
ENVIRONMENT = ("OPENAI_API_KEY", "OPENAI_BASE_URL")
"""Either of these set means an LLM can be reached; a show still uses one only when podcast.toml says so."""
CACHE_KIND = "llm"
"""Answers live in <show>/.cache/llm/."""
RETRY_STATUS = frozenset({408, 409, 425, 429})
"""Besides 5xx: statuses that say "not now" rather than "not this request"."""
USER_AGENT = "papercast"
"""Sent instead of urllib's default agent ("Python-urllib/3.x"), which some gateways turn away."""
_THINKING = re.compile(r"^\s*<think>.*?</think>\s*", re.DOTALL)
"""The reasoning that some local models (DeepSeek-R1, Qwen3 on Ollama) print before their answer."""
_NO_DETAIL = frozenset({401, 403})
"""Statuses whose server text is not repeated: OpenAI's quotes part of the key back."""

T = TypeVar("T")


# -- the environment --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    """Where requests go and the key they carry."""

    base_url: str
    """The API root, without a trailing slash: what cache keys hold (so cached answers keep hitting)."""
    api_key: str = field(default="", repr=False)
    """Empty for a server without authentication. Never shown: see `redact`."""

    @property
    def shown(self) -> str:
        """The base URL fit for a message: any user:password@ and query string removed."""
        return shown_url(self.base_url)

    def redact(self, text: str) -> str:
        """`text` with the key, should a server have echoed it, blotted out."""
        return text.replace(self.api_key, "***") if len(self.api_key) >= 4 else text


def configured(environ: Mapping[str, str] | None = None) -> bool:
    """Whether OPENAI_API_KEY or OPENAI_BASE_URL is set in `environ` (the process environment).

    >>> configured({"OPENAI_BASE_URL": " "}), configured({"OPENAI_API_KEY": "sk-x"})
    (False, True)
    """
    env = os.environ if environ is None else environ
    return any(env.get(name, "").strip() for name in ENVIRONMENT)


def from_environment(environ: Mapping[str, str] | None = None) -> Endpoint:
    """The endpoint OPENAI_BASE_URL and OPENAI_API_KEY name; EngineError saying what to set when they
    cannot work (OpenAI's own endpoint needs a key, a local server may not).

    >>> from_environment({"OPENAI_BASE_URL": "http://127.0.0.1:11434/v1/"})
    Endpoint(base_url='http://127.0.0.1:11434/v1')
    """
    env = os.environ if environ is None else environ
    api_key = env.get("OPENAI_API_KEY", "").strip()
    base_url = (env.get("OPENAI_BASE_URL", "").strip() or DEFAULT_BASE_URL).rstrip("/")
    if not re.match(r"https?://[^/\s]+", base_url):
        raise EngineError(
            f"OPENAI_BASE_URL {shown_url(base_url)!r} is not an http(s) URL like {DEFAULT_BASE_URL}"
        )
    if base_url == DEFAULT_BASE_URL and not api_key:
        raise EngineError(
            "OPENAI_API_KEY is not set; export your OpenAI API key, or point OPENAI_BASE_URL at a local "
            "server that needs none (Ollama: http://127.0.0.1:11434/v1; vLLM, Kokoro-FastAPI ...)"
        )
    return Endpoint(base_url, api_key)


def shown_url(url: str) -> str:
    """A URL fit for a message: any user:password@ and query string removed.

    >>> shown_url("https://user:secret@example.net:8080/v1?key=k")
    'https://example.net:8080/v1'
    """
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


# -- what answers cost, and keeping them ------------------------------------------------------------


@dataclass(frozen=True)
class TokenUse:
    """What one answer about a paper cost, as the endpoint's `usage` reported it."""

    paper: str
    """The paper's id."""
    prompt_tokens: int
    completion_tokens: int
    cached: bool = False
    """Answered from the show's .cache/llm/: the counts are the original request's, nothing was spent now."""


@dataclass(frozen=True)
class Answer:
    """A chat model's answer (its reasoning stripped) and what it cost."""

    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached: bool = False
    """Read from the cache rather than asked for."""

    def use(self, paper: str) -> TokenUse:
        return TokenUse(paper, self.prompt_tokens, self.completion_tokens, self.cached)


def strip_thinking(text: str) -> str:
    """`text` without the <think>...</think> block a reasoning model may open its answer with.

    >>> strip_thinking("<think>\\nThey want JSON.\\n</think>\\n\\n[1, 2]")
    '[1, 2]'
    """
    return _THINKING.sub("", text).strip()


class AnswerCache:
    """Paid-for answers under the show's .cache/llm/, one JSON file each ({"text", "prompt_tokens",
    "completion_tokens"}), keyed by a hash of everything that shapes the answer. With no folder it
    keeps nothing."""

    def __init__(self, root: Path | None) -> None:
        self._store = Cache(root) if root is not None else None

    @staticmethod
    def key(kind: str, endpoint: Endpoint, model: str, temperature: float, system: str, user: str) -> str:
        """The key of one answer. `kind` is "chat.completions" for summaries and "dialogue" for
        exchanges, as it has been since the first cached answer."""
        return key(kind, endpoint.base_url, model, temperature, system, user)

    def get(self, digest: str) -> Answer | None:
        """The cached answer, or None (also for an entry that cannot be read: it is asked for again)."""
        raw = self._store.get(CACHE_KIND, digest, ".json") if self._store is not None else None
        if raw is None:
            return None
        try:
            record = json.loads(raw)
            return Answer(
                str(record["text"]), int(record["prompt_tokens"]), int(record["completion_tokens"]), True
            )
        except (ValueError, KeyError, TypeError):
            return None

    def put(self, digest: str, answer: Answer) -> None:
        if self._store is None:
            return
        record = {
            "text": answer.text,
            "prompt_tokens": answer.prompt_tokens,
            "completion_tokens": answer.completion_tokens,
        }
        self._store.put(
            CACHE_KIND, digest, ".json", json.dumps(record, ensure_ascii=False, indent=1).encode()
        )


# -- the retry policy -------------------------------------------------------------------------------


class Passing(Exception):
    """A failure worth another try: `reason` for the final message, `retry_after` from the server."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class RetrySettings(Protocol):
    """The [summarizer] settings a client takes its policy and timeout from."""

    @property
    def retries(self) -> int: ...
    @property
    def retry_wait(self) -> float: ...
    @property
    def retry_max_wait(self) -> float: ...
    @property
    def timeout(self) -> float: ...


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a request that failed for a passing reason is tried again."""

    tries: int = 6
    """Tries in all, the first included."""
    wait: float = 1.0
    """Seconds before the second try; each later wait doubles."""
    max_wait: float = 60.0
    """Longest wait before a try, in seconds, also for a server's Retry-After."""

    @classmethod
    def of(cls, settings: RetrySettings) -> RetryPolicy:
        return cls(settings.retries + 1, settings.retry_wait, settings.retry_max_wait)

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait after failed try `attempt` (0 for the first): the server's Retry-After when
        it sent one, else an exponential backoff with "equal jitter" (half fixed, half random, so
        workers refused together do not come back together); both capped.

        >>> policy = RetryPolicy(wait=1.0, max_wait=5.0)
        >>> policy.delay(0, 120.0), policy.delay(0, 0.25), 2.0 <= policy.delay(2, None) <= 4.0
        (5.0, 0.25, True)
        """
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_wait)
        delay = min(self.max_wait, self.wait * 2**attempt)
        return delay / 2 + random.uniform(0, delay / 2)


class Backoff:
    """When the endpoint may be asked next. Shared by every thread that uses one Client: a failure
    that asks for patience (a 429, a 5xx, a timeout) holds back every request, not just its own.
    `clock` and `sleep` are time.monotonic and time.sleep unless a test brings its own."""

    def __init__(
        self, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self.clock, self.sleep = clock, sleep
        self._not_before = float("-inf")
        self._lock = threading.Lock()

    def hold(self, seconds: float) -> None:
        """No request before `seconds` from now (a hold that lasts longer already is kept)."""
        with self._lock:
            self._not_before = max(self._not_before, self.clock() + seconds)

    def held(self) -> float:
        """Seconds until requests may go again; 0 when they may now."""
        with self._lock:
            return max(0.0, self._not_before - self.clock())

    def wait(self) -> None:
        """Return when no hold is on; holds added meanwhile by other threads are waited out too."""
        while (left := self.held()) > 0:
            self.sleep(left)


_BACKOFFS: dict[str, Backoff] = {}
_BACKOFFS_LOCK = threading.Lock()


def shared_backoff(base_url: str) -> Backoff:
    """The one Backoff of the endpoint at `base_url` in this process: its rate limit is the server's,
    whichever caller (a summary, an exchange) was told of it.

    >>> shared_backoff("http://127.0.0.1:1/v1") is shared_backoff("http://127.0.0.1:1/v1")
    True
    """
    with _BACKOFFS_LOCK:
        return _BACKOFFS.setdefault(base_url, Backoff())


def retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds the server asks us to wait: retry-after-ms (OpenAI's), or Retry-After in seconds or as
    an HTTP date (compared with `now`, the Unix time); None when it says nothing usable.
    Header names are lower case.

    >>> retry_after({"retry-after": "2"}), retry_after({"retry-after-ms": "250"}), retry_after({})
    (2.0, 0.25, None)
    >>> retry_after({"retry-after": "Wed, 21 Oct 2015 07:28:30 GMT"}, now=1445412480.0)
    30.0
    """
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(name, "").strip()
        if not value:
            continue
        try:
            return max(0.0, float(value) * scale)
        except ValueError:
            if scale == 1.0:
                return _http_date_wait(value, time.time() if now is None else now)
    return None


def _http_date_wait(value: str, now: float) -> float | None:
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now)


# -- the client -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Caller:
    """Who is asking, so that a message names them and says what to fix in their own terms."""

    name: str
    """"summarizer 'openai'", "the dialogue writer", "openai voice 'nova' (model tts-1)"."""
    kept: str
    """What a failed build keeps, said after "try again later: "."""
    model_fix: str
    """What to do when the endpoint has no such model: "set [summarizer] model in podcast.toml ..."."""
    refused_fix: str = "use another model"
    """What to do when a model refuses to answer."""


@dataclass(frozen=True)
class Response:
    """One HTTP answer."""

    status: int
    headers: Mapping[str, str]
    """Names lower case."""
    body: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()


class Refused(EngineError):
    """The endpoint turned the request down for good (401, 404, 400 ...): `status`, and the error's
    `code`, `param` and `detail` (one line, none for 401 and 403) as the server sent them."""

    def __init__(self, message: str, status: int, code: str = "", param: str = "", detail: str = "") -> None:
        super().__init__(message)
        self.status, self.code, self.param, self.detail = status, code, param, detail


class Client:
    """Requests to one OpenAI-compatible endpoint, for one caller. Thread-safe: callers in threads
    share the client, and every client of the endpoint shares its backoff (unless given its own)."""

    def __init__(
        self,
        caller: Caller,
        policy: RetryPolicy,
        timeout: float,
        *,
        backoff: Backoff | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        """The one constructor: the endpoint and key from the environment, the retry policy, and
        `timeout`, the seconds one answer may take before it counts as a passing failure."""
        self.endpoint = from_environment(environ)
        self.caller, self.policy, self.timeout = caller, policy, timeout
        self.backoff = backoff or shared_backoff(self.endpoint.base_url)

    @classmethod
    def for_settings(cls, caller: Caller, settings: RetrySettings) -> Client:
        """A client with the retries and timeout of podcast.toml's [summarizer] table."""
        return cls(caller, RetryPolicy.of(settings), settings.timeout)

    def chat(self, model: str, temperature: float, messages: list[dict[str, str]], about: str = "") -> Answer:
        """The model's answer to `messages` (chat/completions), its reasoning stripped; `about` names
        what it is about in messages ("paper '2405.04517' ('xLSTM')"). Not cached: callers cache
        what they keep."""
        payload = {"model": model, "temperature": temperature, "messages": messages}
        return self.post("chat/completions", payload, lambda r: _chat_answer(r, model, self.caller), about)

    def post(
        self,
        path: str,
        payload: Mapping[str, Any],
        read: Callable[[Response], T],
        about: str = "",
        accept: str = "application/json",
    ) -> T:
        """`read` of the 2xx answer to `payload` POSTed to `path` under the base URL, retrying passing
        failures, `read`'s Passing included; EngineError naming the caller otherwise."""
        data = json.dumps(payload).encode("utf-8")
        started = self.backoff.clock()
        for attempt in range(self.policy.tries):
            self.backoff.wait()
            try:
                response = self._send(path, data, accept)
                if not 200 <= response.status < 300:
                    raise self._refused(response, path, str(payload.get("model", "")), about)
                try:
                    return read(response)
                except EngineError as e:
                    raise EngineError(self.message(about, str(e))) from None
            except Passing as e:
                if attempt + 1 == self.policy.tries:
                    tries = "1 try" if attempt == 0 else f"{attempt + 1} tries"
                    spent = self.backoff.clock() - started
                    over = f" over {spent:.0f} s" if spent >= 1 else ""
                    problem = f"gave up after {tries}{over} (last: {e.reason})"
                    raise EngineError(
                        self.message(about, f"{problem}; try again later: {self.caller.kept}")
                    ) from None
                self.backoff.hold(self.policy.delay(attempt, e.retry_after))
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    def message(self, about: str, problem: str) -> str:
        """A message: who asked, about what, where, and then `problem`; never the key."""
        where = self.caller.name + (f" for {about}" if about else "") + f" at {self.endpoint.shown}"
        return self.endpoint.redact(f"{where}: {problem}")

    def _send(self, path: str, data: bytes, accept: str) -> Response:
        """One try: the answer whatever its status; Passing for a timeout or a lost connection."""
        import http.client
        import ssl
        import urllib.error
        import urllib.request

        headers = {"Content-Type": "application/json", "Accept": accept, "User-Agent": USER_AGENT}
        if self.endpoint.api_key:
            headers["Authorization"] = f"Bearer {self.endpoint.api_key}"
        url = f"{self.endpoint.base_url}/{path}"
        request = urllib.request.Request(url, data=data, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                return Response(answer.status, _lower(answer.headers), answer.read())
        except urllib.error.HTTPError as e:
            with e:
                return Response(e.code, _lower(e.headers), _error_body(e))
        except urllib.error.URLError as e:
            reason = e.reason
            if isinstance(reason, ssl.SSLCertVerificationError):  # retrying cannot fix a certificate
                raise EngineError(self.message("", f"{reason}; check OPENAI_BASE_URL")) from None
            if isinstance(reason, TimeoutError):
                raise Passing(f"no answer within {self.timeout:g} s") from None
            if isinstance(reason, OSError) and not isinstance(reason, ConnectionResetError):
                raise Passing(f"cannot connect: {_one_line(str(reason))}") from None
            raise Passing(f"connection lost: {_one_line(str(reason))}") from None
        except TimeoutError:
            raise Passing(f"no answer within {self.timeout:g} s") from None
        except (http.client.HTTPException, OSError) as e:  # dropped mid-answer, reset
            raise Passing(f"connection lost: {_one_line(f'{type(e).__name__} {e}')}") from None

    def _refused(self, response: Response, path: str, model: str, about: str) -> Exception:
        """What a non-2xx answer means: Passing to retry, or Refused saying what to fix."""
        status = response.status
        code, param, detail = _error_fields(response.body)
        detail = "" if status in _NO_DETAIL else detail
        said = f": {detail}" if detail else ""
        if status == 429 and code == "insufficient_quota":
            problem = "the account has no quota left (HTTP 429 insufficient_quota); add credit to it"
        elif status in RETRY_STATUS or status >= 500:
            return Passing(f"HTTP {status}{said}", retry_after(response.headers))
        elif status == 401:
            unset = " (it is not set)" if not self.endpoint.api_key else ""
            problem = f"the API key was refused (HTTP 401); check OPENAI_API_KEY{unset}"
        elif status == 403:
            problem = "access denied (HTTP 403); check that OPENAI_API_KEY may use this model and endpoint"
        elif code == "model_not_found" or param == "model" or (status == 404 and "model" in detail.lower()):
            problem = f"model {model!r} not found (HTTP {status}{said}); {self.caller.model_fix}"
        elif status == 404:
            problem = f"no {path} endpoint there (HTTP 404); check OPENAI_BASE_URL (it usually ends in /v1)"
        elif code == "context_length_exceeded":
            problem = f"too long for model {model!r} (HTTP {status}{said}); lower [summarizer] context_tokens"
        else:
            problem = f"the request was refused (HTTP {status}{said})"
        return Refused(self.message(about, problem), status, code, param, detail)


def _chat_answer(response: Response, model: str, caller: Caller) -> Answer:
    """The answer in a 200 chat.completion; EngineError for no answer, a refusal or an empty one.

    Read leniently: OpenAI-compatible servers leave out fields OpenAI sends (`usage`, `refusal`).
    """
    try:
        data = json.loads(response.body)
    except ValueError:
        kind = response.content_type or "no content type"
        raise EngineError(
            f"the answer is {kind}, not JSON; check OPENAI_BASE_URL (it usually ends in /v1)"
        ) from None
    choices = data.get("choices") if isinstance(data, dict) else None
    if not choices or not isinstance(choices[0], dict):
        raise EngineError(f"model {model!r} sent no answer; try again")
    choice = choices[0]
    message = choice.get("message") or {}
    refusal = message.get("refusal")
    if choice.get("finish_reason") == "content_filter" or refusal:
        why = f": {_one_line(str(refusal))}" if refusal else " (its content filter stopped the answer)"
        raise EngineError(f"model {model!r} refused to answer{why}; {caller.refused_fix}")
    text = strip_thinking(str(message.get("content") or ""))
    if not text:
        raise EngineError(f"model {model!r} returned an empty answer; try again, or use another model")
    usage = data.get("usage") or {}
    return Answer(text, int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0))


def _lower(headers: Any) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in headers.items()} if headers is not None else {}


def _error_body(e: Any) -> bytes:
    """The body of an error answer, or what arrived of it before the connection dropped."""
    try:
        return bytes(e.read(65536))
    except Exception:  # http.client.HTTPException or OSError mid-read: what matters is the status
        return b""


def _error_fields(body: bytes) -> tuple[str, str, str]:
    """(code, param, one-line message) of an error body: OpenAI's {"error": {...}}, FastAPI's
    {"detail": ...}, or any text (HTML tags removed)."""
    try:
        data = json.loads(body)
    except ValueError:
        return "", "", _one_line(re.sub(r"<[^>]+>", " ", body.decode("utf-8", "replace")))
    err = data.get("error", data) if isinstance(data, dict) else data
    if isinstance(err, dict):
        detail = err.get("message") or err.get("detail") or ""
        return str(err.get("code") or ""), str(err.get("param") or ""), _one_line(str(detail))
    return "", "", _one_line(str(err))


def _one_line(text: str, limit: int = 200) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
