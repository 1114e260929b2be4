"""OpenAI's POST /v1/audio/speech on 127.0.0.1, speaking with a real offline voice (hibari "heart").

    with SpeechServer() as server:            # server.base_url == "http://127.0.0.1:PORT/v1"
        server.script("429:1", "500", "drop")   # the next three answers; real audio after them
        server.fail_after(4, "429:0")           # or: 4 good answers, then this one for good
        ...
        server.requests                         # every request, in order, with what was answered

It checks what OpenAI checks (the key, the voice, the model, at most 4096 characters) and answers
like it, with the same error bodies. Scripted answers: "ok", "429[:retry-after]" (seconds or an HTTP
date), "408", "425", "500", "502", "503", "401", "drop" (the connection closes before any answer) and
"cut" (half the audio, then it closes).
"""

from __future__ import annotations

import io
import json
import threading
import time
import wave
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

import numpy as np

KEY = "sk-test-papercast-0123456789"
VOICES = ("alloy", "ash", "ballad", "coral", "echo", "fable", "nova", "onyx", "sage", "shimmer", "verse")
MODELS = ("tts-1", "tts-1-hd", "gpt-4o-mini-tts")
RATE = 24_000

Synthesize = Callable[[str], np.ndarray]
"""Text -> mono float32 samples at 24 kHz."""

_hibari: Any = None
_hibari_lock = threading.Lock()


def hibari_voice(text: str) -> np.ndarray:
    """Real speech from the bundled hibari voice, loaded once per test session."""
    global _hibari
    with _hibari_lock:
        if _hibari is None:
            from podcast.tts.hibari import HibariEngine

            _hibari = HibariEngine("heart")
        return np.asarray(_hibari.speak(text), np.float32)


def tone_voice(text: str, per_word: int = 240) -> np.ndarray:
    """A fast stand-in for long inputs: `per_word` samples of a 220 Hz tone per word."""
    n = per_word * len(text.split())
    return (0.3 * np.sin(2 * np.pi * 220 * np.arange(n) / RATE)).astype(np.float32)


@dataclass(frozen=True)
class SpeechRequest:
    input: str
    voice: str
    model: str
    instructions: str
    response_format: str
    speed: float
    authorization: str
    answer: str
    """What the server did: "ok", "429", "500", "401", "drop", "cut", "400" ..."""
    at: float
    """time.monotonic() when it arrived."""


class SpeechServer:
    def __init__(self, synthesize: Synthesize = hibari_voice, key: str = KEY) -> None:
        self.synthesize = synthesize
        self.key = key
        self.requests: list[SpeechRequest] = []
        self._script: deque[str] = deque()
        self._good_left: int | None = None
        self._then = "ok"
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def script(self, *answers: str) -> None:
        """Answer the next requests with these, in order; then normally again."""
        with self._lock:
            self._script.extend(answers)
            self._good_left, self._then = None, "ok"

    def fail_after(self, good: int, answer: str) -> None:
        """Answer `good` more requests normally, then every one after with `answer`."""
        with self._lock:
            self._script.clear()
            self._good_left, self._then = good, answer

    def heal(self) -> None:
        """Answer every request normally from now on."""
        self.fail_after(0, "ok")

    def inputs(self, answer: str = "ok") -> list[str]:
        return [r.input for r in self.requests if r.answer == answer]

    def _next_answer(self) -> str:
        with self._lock:
            if self._script:
                return self._script.popleft()
            if self._good_left is None:
                return "ok"
            if self._good_left > 0:
                self._good_left -= 1
                return "ok"
            return self._then

    def __enter__(self) -> SpeechServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                server._answer(self)

            def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
                pass

        return Handler

    # -- answering -----------------------------------------------------------------------------------

    def _answer(self, h: BaseHTTPRequestHandler) -> None:
        body = json.loads(h.rfile.read(int(h.headers.get("Content-Length", 0))) or b"{}")
        auth = h.headers.get("Authorization", "")
        scripted = self._next_answer() if h.path == "/v1/audio/speech" else "404"
        answer, error = self._judge(scripted, body, auth)
        self.requests.append(
            SpeechRequest(
                input=str(body.get("input", "")),
                voice=str(body.get("voice", "")),
                model=str(body.get("model", "")),
                instructions=str(body.get("instructions", "")),
                response_format=str(body.get("response_format", "mp3")),
                speed=float(body.get("speed", 1.0)),
                authorization=auth,
                answer=answer.split(":")[0],
                at=time.monotonic(),
            )
        )
        if answer == "drop":
            h.close_connection = True
            return
        if error is not None:
            status, payload = error
            headers = {"Retry-After": answer.split(":", 1)[1]} if answer.startswith("429:") else {}
            self._send(h, status, "application/json", json.dumps(payload).encode(), headers)
            return
        audio = self.synthesize(str(body["input"]))
        fmt = body.get("response_format", "mp3")
        data, kind = (_pcm(audio), "audio/pcm") if fmt == "pcm" else (_wav(audio), "audio/wav")
        if answer == "cut":
            h.send_response(200)
            h.send_header("Content-Type", kind)
            h.send_header("Content-Length", str(len(data)))
            h.end_headers()
            h.wfile.write(data[: len(data) // 2])
            h.close_connection = True
            return
        self._send(h, 200, kind, data)

    def _judge(self, scripted: str, body: dict[str, Any], auth: str) -> tuple[str, tuple[int, dict] | None]:
        """(answer, (status, error JSON) or None for audio): the scripted failure, else OpenAI's checks."""
        if scripted == "404":
            return "404", (404, _error("Invalid URL (POST /v1/nothing)", "invalid_request_error"))
        if scripted in ("drop", "cut"):
            return scripted, None
        if scripted.startswith("429"):
            return scripted, (
                429,
                _error("Rate limit reached for requests", "requests", "rate_limit_exceeded"),
            )
        if scripted in ("500", "502", "503"):
            return scripted, (int(scripted), _error("The server had an error", "server_error"))
        if scripted in ("408", "425"):
            message = {"408": "Request timed out", "425": "Too early: the model is still loading"}[scripted]
            return scripted, (int(scripted), _error(message, "server_error"))
        if scripted == "401" or auth != f"Bearer {self.key}":
            shown = auth.removeprefix("Bearer ")[:5]
            message = f"Incorrect API key provided: {shown}****. You can find your API key at ..."
            return "401", (401, _error(message, "invalid_request_error", "invalid_api_key"))
        if body.get("model") not in MODELS:
            message = f"The model `{body.get('model')}` does not exist or you do not have access to it."
            return "404", (404, _error(message, "invalid_request_error", "model_not_found"))
        if body.get("voice") not in VOICES:
            message = f"Invalid value: '{body.get('voice')}'. Supported values are: {', '.join(VOICES)}."
            return "400", (400, _error(message, "invalid_request_error", "invalid_value", "voice"))
        if len(str(body.get("input", ""))) > 4096:
            message = "string too long. Expected a string with maximum length 4096."
            return "400", (400, _error(message, "invalid_request_error", "string_above_max_length", "input"))
        return "ok", None

    @staticmethod
    def _send(
        h: BaseHTTPRequestHandler, status: int, kind: str, data: bytes, headers: dict[str, str] | None = None
    ) -> None:
        h.send_response(status)
        h.send_header("Content-Type", kind)
        h.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            h.send_header(name, value)
        h.end_headers()
        h.wfile.write(data)


def _error(message: str, type_: str, code: str | None = None, param: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def _pcm(audio: np.ndarray) -> bytes:
    return (np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes()


def _wav(audio: np.ndarray) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(_pcm(audio))
    return buf.getvalue()
