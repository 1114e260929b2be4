"""A fake OpenAI-compatible server on 127.0.0.1, for tests that must not touch the network.

    with serve_openai() as server:            # server.url == "http://127.0.0.1:PORT/v1"
        server.script(rate_limited("1"), completion("A summary."))
        ...                                   # point OPENAI_BASE_URL at server.url
        server.requests                       # every request: path, headers, JSON body

POST /v1/chat/completions answers with the next scripted Reply (in order; a request with none left
gets a 400 that says so), GET /v1/models lists `models`. Replies may be delayed to provoke client
timeouts, or `dropped()`: the connection closes with no answer at all. The bodies follow OpenAI's:
chat.completion objects with `usage`, and errors as {"error": {"message", "type", "code"}}.

For requests that come several at a time, in no set order:

    server.respond = lambda request, n: completion(...)   # the reply to chat request n (from 0)
    server.gather(4, latest_first=True)   # hold the next 4 answers until 4 requests are in flight,
                                          # then answer the one that came last first
    server.max_in_flight, server.answered, server.replied   # what happened
    server.max_in_flight_by["summary"], ["dialogue"]        # the same, by kind of request
    completion(...) with until=lambda server: ...           # held until that is true (see Reply)
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

KEY = "sk-test-papercast-chat-4f9a2c7e1b"
"""The API key the `openai_chat` fixture sets in OPENAI_API_KEY."""


@dataclass(frozen=True)
class Reply:
    """One scripted answer."""

    status: int = 200
    body: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    """Seconds to wait before answering (longer than the client's timeout: a timeout)."""
    drop: bool = False
    """Close the connection without answering."""
    until: Callable[[FakeOpenAI], bool] | None = None
    """Hold the answer until this is true of the server (looked at under its lock, after each request
    that arrives or is answered; at most 10 s), then wait `delay`."""


@dataclass(frozen=True)
class Request:
    """One request as the server received it."""

    method: str
    path: str
    headers: dict[str, str]
    """Header names lower-cased."""
    body: dict[str, Any]
    at: float = 0.0
    """time.monotonic() when it arrived."""

    @property
    def system(self) -> str:
        return str(self.body["messages"][0]["content"])

    @property
    def user(self) -> str:
        return str(self.body["messages"][-1]["content"])

    @property
    def kind(self) -> str:
        """"dialogue" for a request for the hosts' exchange (its task, or the retry after an invalid
        answer, asks for the "JSON list of turns"), else "summary"."""
        return "dialogue" if "JSON list of turns" in self.user else "summary"


def completion(
    text: str | None,
    *,
    prompt_tokens: int = 1200,
    completion_tokens: int = 150,
    finish_reason: str = "stop",
    refusal: str | None = None,
) -> Reply:
    """A 200 chat.completion whose one choice says `text`."""
    message: dict[str, Any] = {"role": "assistant", "content": text}
    if refusal is not None:
        message["refusal"] = refusal
    return Reply(
        body={
            "id": "chatcmpl-test",
            "object": "chat.completion",
            "created": 1715000000,
            "model": "test-model",
            "choices": [{"index": 0, "message": message, "finish_reason": finish_reason, "logprobs": None}],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }
    )


def error(status: int, message: str, code: str | None = None, headers: dict[str, str] | None = None) -> Reply:
    kind = {401: "invalid_request_error", 404: "invalid_request_error", 429: "requests"}.get(
        status, "server_error"
    )
    return Reply(
        status, {"error": {"message": message, "type": kind, "param": None, "code": code}}, headers or {}
    )


def rate_limited(retry_after: str | None = None, retry_after_ms: str | None = None) -> Reply:
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    if retry_after_ms is not None:
        headers["retry-after-ms"] = retry_after_ms
    return error(429, "Rate limit reached for requests", "rate_limit_exceeded", headers)


def server_error(status: int = 500) -> Reply:
    return error(status, "The server had an error while processing your request.")


def unauthorized() -> Reply:
    return error(401, "Incorrect API key provided: sk-te***123.", "invalid_api_key")


def model_not_found(model: str) -> Reply:
    return error(
        404, f"The model `{model}` does not exist or you do not have access to it.", "model_not_found"
    )


def slow(seconds: float, reply: Reply) -> Reply:
    return Reply(reply.status, reply.body, reply.headers, seconds)


def dropped() -> Reply:
    """The connection closes before any answer, as when a proxy or the server restarts."""
    return Reply(drop=True)


class FakeOpenAI:
    """The server's state: the script of replies and the record of requests."""

    def __init__(self, url: str, models: tuple[str, ...]) -> None:
        self.url = url
        self.models = models
        self.requests: list[Request] = []
        self.respond: Callable[[Request, int], Reply] | None = None
        """When set, the reply to chat request n (counted from 0), instead of the script."""
        self.in_flight = 0
        self.max_in_flight = 0
        """The most chat requests that were waiting for their answer at one time."""
        self.in_flight_by: dict[str, int] = {}
        self.max_in_flight_by: dict[str, int] = {}
        """The most chat requests of a kind (Request.kind) that were waiting for their answer at once."""
        self.answered: list[int] = []
        """Chat request numbers in the order their answers went out."""
        self.replied: dict[int, tuple[float, int]] = {}
        """Chat request number -> (time.monotonic() when its answer went out, its status)."""
        self._replies: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._chats = 0
        self._gather: tuple[int, int, bool] | None = None
        """(first request number, how many, latest first) of the answers held back."""

    def script(self, *replies: Reply) -> None:
        """Queue replies for the next chat requests, in order."""
        with self._lock:
            self._replies.extend(replies)

    @property
    def chats(self) -> list[Request]:
        """The chat.completions requests received so far."""
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    @property
    def unused(self) -> int:
        """Scripted replies nobody asked for."""
        return len(self._replies)

    def gather(self, count: int, *, latest_first: bool = False) -> None:
        """Hold the answers to the next `count` chat requests until all of them are in flight (at most
        10 s: a client that sends one at a time never gets there), then answer them, the one that came
        last first when `latest_first`."""
        with self._lock:
            self._gather = (self._chats, count, latest_first)

    def _next(self, request: Request) -> tuple[Reply, int]:
        """The reply to `request` and its chat request number (-1 for other requests)."""
        with self._lock:
            self.requests.append(request)
            if request.method == "GET" and request.path == "/v1/models":
                data = [{"id": m, "object": "model", "created": 0, "owned_by": "test"} for m in self.models]
                return Reply(body={"object": "list", "data": data}), -1
            if request.method != "POST" or request.path != "/v1/chat/completions":
                return error(404, f"no route {request.method} {request.path}"), -1
            n = self._chats
            self._chats += 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            kind = request.kind
            self.in_flight_by[kind] = self.in_flight_by.get(kind, 0) + 1
            self.max_in_flight_by[kind] = max(self.max_in_flight_by.get(kind, 0), self.in_flight_by[kind])
            self._changed.notify_all()
            if self.respond is not None:
                return self.respond(request, n), n
            if not self._replies:
                return error(400, "fake server: no scripted reply left for this request"), n
            return self._replies.popleft(), n

    def _hold(self, n: int, reply: Reply) -> None:
        """Wait for chat request `n`'s turn to be answered (see `gather` and Reply.until)."""
        with self._lock:
            if reply.until is not None:
                until = reply.until
                self._changed.wait_for(lambda: until(self), timeout=10)
            if self._gather is None or not 0 <= n - self._gather[0] < self._gather[1]:
                return
            first, count, latest_first = self._gather
            self._changed.wait_for(lambda: self._chats >= first + count, timeout=10)
            if latest_first:
                later = range(n + 1, min(first + count, self._chats))
                self._changed.wait_for(lambda: all(k in self.replied for k in later), timeout=10)

    def _done(self, n: int, status: int) -> None:
        with self._lock:
            self.in_flight -= 1
            kind = self.chats[n].kind
            self.in_flight_by[kind] -= 1
            self.answered.append(n)
            self.replied[n] = (time.monotonic(), status)
            self._changed.notify_all()


def _handler(state: FakeOpenAI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            self._serve({})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(length) if length else b""
            self._serve(json.loads(raw) if raw else {})

        def _serve(self, body: dict[str, Any]) -> None:
            headers = {k.lower(): v for k, v in self.headers.items()}
            reply, n = state._next(Request(self.command, self.path, headers, body, time.monotonic()))
            try:
                self._answer(reply, n)
            finally:
                if n >= 0:
                    state._done(n, reply.status)

        def _answer(self, reply: Reply, n: int) -> None:
            state._hold(n, reply)
            if reply.delay:
                time.sleep(reply.delay)
            if reply.drop:
                self.close_connection = True
                return
            data = json.dumps(reply.body).encode()
            with contextlib.suppress(OSError):  # the client may have given up waiting
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
            pass

    return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:  # a client that hung up
        pass


@contextlib.contextmanager
def serve_openai(models: tuple[str, ...] = ("test-model",)) -> Iterator[FakeOpenAI]:
    """A running fake server; stopped on exit."""
    state = FakeOpenAI("", models)
    server = _Server(("127.0.0.1", 0), _handler(state))
    state.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@contextlib.contextmanager
def openai_env(monkeypatch: pytest.MonkeyPatch, api_key: str) -> Iterator[FakeOpenAI]:
    """A fake endpoint that OPENAI_BASE_URL and OPENAI_API_KEY point at, as the CLI finds them."""
    with serve_openai() as fake:
        monkeypatch.setenv("OPENAI_BASE_URL", fake.url)
        monkeypatch.setenv("OPENAI_API_KEY", api_key)
        yield fake
