"""podcast.llm, the one client for OpenAI-compatible endpoints, against real HTTP servers on 127.0.0.1
(the chat fake and the audio/speech fake): the retry policy and its waits, the shared backoff, the
messages, the secrets, the environment.

Waits are checked on a clock that moves only when slept on (FakeTime), so they are exact and cost
nothing; where real time is needed, only lower bounds are checked."""

from __future__ import annotations

import ast
import threading
from email.utils import formatdate
from pathlib import Path

import pytest
from fakes.openai_chat import (
    KEY,
    FakeOpenAI,
    Reply,
    completion,
    dropped,
    error,
    rate_limited,
    serve_openai,
    server_error,
    slow,
    unauthorized,
)
from fakes.openai_speech import KEY as SPEECH_KEY
from fakes.openai_speech import SpeechServer, tone_voice

from podcast import llm
from podcast.errors import EngineError

CALLER = llm.Caller("the tester", kept="nothing is lost", model_fix="set tester.model")
MESSAGES = [{"role": "user", "content": "Say hi."}]


class FakeTime:
    """A monotonic clock that moves only when slept on: every wait is recorded, none is spent."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def client(
    time: FakeTime, tries: int = 10, wait: float = 1.0, max_wait: float = 60.0, timeout: float = 5.0
) -> llm.Client:
    policy = llm.RetryPolicy(tries, wait, max_wait)
    return llm.Client(CALLER, policy, timeout, backoff=llm.Backoff(time.clock, time.sleep))


def chat(c: llm.Client) -> llm.Answer:
    return c.chat("test-model", 0.2, MESSAGES, about="paper 'x1'")


# --- the retry policy -------------------------------------------------------------------------------


def test_every_passing_failure_is_retried_with_the_servers_wait_or_a_jittered_backoff(
    openai_chat: FakeOpenAI,
) -> None:
    openai_chat.script(
        rate_limited(retry_after="7"),
        error(425, "Too early"),
        error(408, "Request timeout"),
        server_error(503),
        dropped(),
        error(409, "Conflict"),
        rate_limited(retry_after_ms="1500"),
        completion("Hi.", prompt_tokens=12, completion_tokens=3),
    )
    time = FakeTime()
    assert chat(client(time)) == llm.Answer("Hi.", 12, 3)
    assert len(openai_chat.chats) == 8 and len({str(r.body) for r in openai_chat.chats}) == 1
    assert time.slept[0] == 7.0 and time.slept[6] == 1.5  # the server's Retry-After, in s and in ms
    # Between them the backoff doubles from 1 s: half of each wait fixed, half random.
    for attempt, slept in enumerate(time.slept[1:6], start=1):
        assert 2**attempt / 2 <= slept <= 2**attempt, (attempt, slept)


def test_retry_after_as_an_http_date_and_every_wait_capped(openai_chat: FakeOpenAI) -> None:
    later = formatdate(1e10, usegmt=True)  # in the year 2286
    earlier = formatdate(0, usegmt=True)
    openai_chat.script(rate_limited(retry_after=later), rate_limited(retry_after=earlier))
    openai_chat.script(rate_limited(retry_after="3600"), server_error(), server_error(), completion("Hi."))
    time = FakeTime()
    assert chat(client(time, wait=8.0, max_wait=30.0)).text == "Hi."
    # 2286: capped; 1970: no wait at all (a backoff would be 8 to 16 s); 3600 s: capped.
    assert len(openai_chat.chats) == 6 and len(time.slept) == 4 and time.slept[:2] == [30.0, 30.0]
    assert all(15.0 <= slept <= 30.0 for slept in time.slept[2:])  # 8 * 2**3 = 64 and up: capped at 30


def test_giving_up_says_what_happened_in_one_line(openai_chat: FakeOpenAI) -> None:
    openai_chat.script(server_error(502), rate_limited(retry_after="20"), dropped())
    time = FakeTime()
    with pytest.raises(EngineError) as caught:
        chat(client(time, tries=3, wait=0.5))
    message = str(caught.value)
    assert message.startswith(f"the tester for paper 'x1' at {openai_chat.url}: gave up after 3 tries over 20 s ")
    assert "(last: connection lost: " in message and message.endswith("; try again later: nothing is lost")
    assert "\n" not in message and len(openai_chat.chats) == 3


def test_a_timeout_is_a_passing_failure(openai_chat: FakeOpenAI) -> None:
    # Retried like the others: see test_openai_summarizer's retries, where the next try succeeds.
    openai_chat.script(slow(30.0, completion("Too late.")))
    with pytest.raises(EngineError, match=r": gave up after 1 try \(last: no answer within 1 s\);"):
        chat(client(FakeTime(), tries=1, timeout=1.0))


def test_the_same_policy_serves_the_speech_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    with SpeechServer(synthesize=tone_voice) as speech:
        monkeypatch.setenv("OPENAI_BASE_URL", speech.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", SPEECH_KEY)
        speech.script("425", "408", "502", "drop", "cut", "429:3")
        time = FakeTime()
        payload = {"model": "tts-1", "voice": "nova", "input": "Two words.", "response_format": "wav"}
        body = client(time, wait=0.5).post("audio/speech", payload, lambda r: r.body, accept="audio/wav")
    assert [r.answer for r in speech.requests] == ["425", "408", "502", "drop", "cut", "429", "ok"]
    assert body[:4] == b"RIFF" and len(time.slept) == 6 and time.slept[5] == 3.0


def test_a_hold_from_one_thread_holds_back_every_thread(openai_chat: FakeOpenAI) -> None:
    """Concurrent requests share one client: a 429 seen by one of them slows all."""

    class Watched(llm.Backoff):
        def __init__(self) -> None:
            super().__init__()
            self.on_hold = threading.Event()

        def hold(self, seconds: float) -> None:
            super().hold(seconds)
            self.on_hold.set()

    openai_chat.script(rate_limited(retry_after_ms="500"), completion("One."), completion("Two."))
    backoff = Watched()
    shared = llm.Client(CALLER, llm.RetryPolicy(3, 0.001), 5.0, backoff=backoff)
    answers: list[str] = []
    first = threading.Thread(target=lambda: answers.append(chat(shared).text))
    first.start()
    assert backoff.on_hold.wait(30)  # the first request was turned away: now a second thread asks
    answers.append(chat(shared).text)
    first.join(30)
    assert sorted(answers) == ["One.", "Two."]
    refused, *later = openai_chat.chats
    assert all(r.at - refused.at >= 0.5 for r in later)  # neither went before the 500 ms were up


def test_every_client_of_one_endpoint_shares_its_backoff() -> None:
    """The summarizer's client and the dialogue writer's are two clients: a rate limit one of them
    was told of holds the other back too; another endpoint's is its own."""
    base = "http://127.0.0.1:9/shared-backoff-test"  # no other test's endpoint: the hold is per process
    local = {"OPENAI_BASE_URL": f"{base}/v1"}
    summaries = llm.Client(CALLER, llm.RetryPolicy(), 5.0, environ=local)
    exchanges = llm.Client(CALLER, llm.RetryPolicy(), 5.0, environ={**local, "OPENAI_API_KEY": "sk-x"})
    other = llm.Client(CALLER, llm.RetryPolicy(), 5.0, environ={"OPENAI_BASE_URL": f"{base}/other/v1"})
    summaries.backoff.hold(30.0)
    assert exchanges.backoff is summaries.backoff and exchanges.backoff.held() > 20
    assert other.backoff is not summaries.backoff and other.backoff.held() == 0


# --- what cannot be retried ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "problem"),
    [
        (unauthorized(), "the API key was refused (HTTP 401); check OPENAI_API_KEY"),
        (error(403, "Project does not have access"), "access denied (HTTP 403); check that OPENAI_API_KEY"),
        (error(404, "Not found"), "no chat/completions endpoint there (HTTP 404); check OPENAI_BASE_URL"),
        (
            error(404, "No model `m`", "model_not_found"),
            "model 'test-model' not found (HTTP 404: No model `m`); set",
        ),
        (
            error(429, "Quota", "insufficient_quota"),
            "the account has no quota left (HTTP 429 insufficient_quota)",
        ),
        (error(400, "Bad temperature"), "the request was refused (HTTP 400: Bad temperature)"),
    ],
)
def test_refusals_fail_at_once_saying_what_to_fix(openai_chat: FakeOpenAI, reply: Reply, problem: str) -> None:
    openai_chat.script(reply)
    with pytest.raises(llm.Refused) as caught:
        chat(client(FakeTime()))
    message = str(caught.value)
    assert message.startswith(f"the tester for paper 'x1' at {openai_chat.url}: {problem}")
    assert "\n" not in message and len(openai_chat.chats) == 1


def test_the_key_never_reaches_a_message(openai_chat: FakeOpenAI) -> None:
    echo = f"Incorrect API key provided: {KEY}. You can find your API key at ..."
    openai_chat.script(error(400, echo), error(500, echo), error(401, echo))
    messages = []
    for _ in range(3):
        with pytest.raises(EngineError) as caught:
            chat(client(FakeTime(), tries=1))
        messages.append(str(caught.value))
    assert all(KEY not in m and KEY[:8] not in m for m in messages), messages
    assert "Incorrect API key provided: ***." in messages[0] and "***" in messages[1]
    assert "Incorrect" not in messages[2]  # a 401's text is left out: servers quote part of the key
    assert KEY not in repr(llm.from_environment()) and KEY not in repr(client(FakeTime()).endpoint)


# --- the environment --------------------------------------------------------------------------------


def openai_reads(path: Path) -> list[int]:
    """Lines of `path` that look up an OPENAI_* name: x.get("OPENAI_..."), getenv(...), x["OPENAI_..."],
    "OPENAI_..." in x."""

    def named(node: ast.AST) -> bool:
        return isinstance(node, ast.Constant) and str(node.value).startswith("OPENAI_")

    lines = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        func = node.func if isinstance(node, ast.Call) else None
        called = (
            func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        )
        if (
            (
                isinstance(node, ast.Call)
                and called in ("get", "getenv", "pop")
                and node.args
                and named(node.args[0])
            )
            or (isinstance(node, ast.Subscript) and named(node.slice))
            or (isinstance(node, ast.Compare) and named(node.left))
        ):
            lines.append(node.lineno)
    return lines


def test_the_environment_is_read_here_only() -> None:
    """Every other module asks podcast.llm: no lookup of an OPENAI_* variable outside it."""
    root = Path(__file__).parent.parent / "podcast"
    offenders = {
        str(path.relative_to(root)): lines
        for path in sorted(root.rglob("*.py"))
        if path.name != "llm.py" and (lines := openai_reads(path))
    }
    assert offenders == {}
    assert openai_reads(root / "llm.py")  # the check does find a lookup


@pytest.mark.parametrize(
    ("environ", "problem"),
    [
        ({}, "OPENAI_API_KEY is not set; export your OpenAI API key, or point OPENAI_BASE_URL at a"),
        ({"OPENAI_BASE_URL": "https://api.openai.com/v1/"}, "OPENAI_API_KEY is not set"),
        ({"OPENAI_BASE_URL": "localhost:11434/v1"}, "OPENAI_BASE_URL 'localhost:11434/v1' is not an http(s)"),
        ({"OPENAI_BASE_URL": "ftp://u:secret@host/v1"}, "OPENAI_BASE_URL 'ftp://host/v1' is not"),
    ],
)
def test_an_environment_that_cannot_work_says_what_to_set(environ: dict[str, str], problem: str) -> None:
    with pytest.raises(EngineError) as caught:
        llm.from_environment(environ)
    assert str(caught.value).startswith(problem) and "secret" not in str(caught.value)


def test_a_local_server_needs_no_key_and_gets_none() -> None:
    with serve_openai() as local:
        local.script(completion("Hi."))
        c = llm.Client(CALLER, llm.RetryPolicy(1), 5.0, environ={"OPENAI_BASE_URL": local.url + "/"})
        assert c.chat("llama3.1", 0.0, MESSAGES).text == "Hi."
    [sent] = local.chats
    assert "authorization" not in sent.headers and sent.headers["user-agent"].startswith("papercast")
    assert llm.configured({"OPENAI_BASE_URL": local.url}) and not llm.configured({"OPENAI_API_KEY": "  "})


# --- answers and the cache --------------------------------------------------------------------------


def test_thinking_is_stripped_and_answers_cached_in_one_format(openai_chat: FakeOpenAI, tmp_path: Path) -> None:
    openai_chat.script(completion("<think>\nShort, then.\n</think>\n\nHi there.", prompt_tokens=9))
    answer = chat(client(FakeTime()))
    assert answer == llm.Answer("Hi there.", 9, 150) and answer.use("x1") == llm.TokenUse("x1", 9, 150)
    cache = llm.AnswerCache(tmp_path)
    digest = cache.key("chat.completions", llm.from_environment(), "test-model", 0.2, "system", "user")
    assert cache.get(digest) is None
    cache.put(digest, answer)
    assert cache.get(digest) == llm.Answer("Hi there.", 9, 150, cached=True)
    [entry] = (tmp_path / "llm").rglob("*.json")
    assert KEY not in entry.read_text("utf-8")
    entry.write_text("{not json", "utf-8")
    assert cache.get(digest) is None  # unreadable: asked for again
    assert llm.AnswerCache(None).get(digest) is None
