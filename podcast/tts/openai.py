"""openai: the audio/speech endpoint of OpenAI, or of any server that speaks its protocol.

The key and the server come from the environment only: OPENAI_API_KEY (never written to a file, a
log or a message) and OPENAI_BASE_URL (default https://api.openai.com/v1; a local server such as
Kokoro-FastAPI may need no key). WAV is asked for, so no MP3 decoding is needed and the sample rate
comes with the audio; a server that answers raw PCM (OpenAI's "pcm": 24 kHz, 16-bit, mono) or another
format is understood too.

The endpoint takes at most 4096 characters per request: longer text is sent in pieces cut at
sentence ends (a longer sentence at clause punctuation, then between words), never mid-sentence
otherwise and never truncated. Rate limits, server errors, timeouts and dropped connections are
retried with exponential backoff (a Retry-After header is obeyed); a refused key, an unknown voice
or model fails at once with a message that says what to set.
"""

from __future__ import annotations

import email.utils
import http.client
import json
import os
import random
import re
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

import numpy as np

from podcast.errors import EngineError
from podcast.tts.base import TTSEngine
from podcast.writing.speech import split_sentences

API_LIMIT = 4096
"""Most characters the endpoint accepts in one request."""
DEFAULT_BASE_URL = "https://api.openai.com/v1"
DEFAULT_MODEL = "tts-1"
"""The model every OpenAI-compatible server knows; "gpt-4o-mini-tts" takes `instructions`."""
MODELS = ("tts-1", "tts-1-hd", "gpt-4o-mini-tts")
NO_INSTRUCTIONS = ("tts-1", "tts-1-hd")
VOICES = (
    "alloy", "ash", "ballad", "cedar", "coral", "echo", "fable", "marin", "nova", "onyx", "sage",
    "shimmer", "verse",
)  # fmt: skip
"""OpenAI's own voices (tts-1 has fewer); other servers have their own names."""
PCM_RATE = 24_000
"""Sample rate of OpenAI's raw "pcm" format (16-bit little-endian mono)."""
PIECE_PAUSE = 0.3
"""Silence between the pieces of a text too long for one request (they meet at sentence ends)."""
MAX_WAIT = 120.0
"""Longest single wait before a retry; a server asking for more is reported, not waited for."""


def pieces(text: str, limit: int = API_LIMIT) -> list[str]:
    """`text` in as few requests of at most `limit` characters as whole sentences allow.

    A sentence longer than `limit` is cut at clause punctuation, then between words; joined with
    spaces the pieces give back every word of the text, in order.

    >>> pieces("One two. Three four. Five.", limit=20)
    ['One two. Three four.', 'Five.']
    >>> pieces("alpha, beta gamma delta", limit=11)
    ['alpha,', 'beta gamma', 'delta']
    """
    out: list[str] = []
    for sentence in split_sentences(text, limit):
        if out and len(out[-1]) + 1 + len(sentence) <= limit:
            out[-1] = f"{out[-1]} {sentence}"
        else:
            out.append(sentence)
    return out


def base_url() -> str:
    """The API root requests go to (OPENAI_BASE_URL, else OpenAI's), without a trailing slash."""
    return (os.environ.get("OPENAI_BASE_URL", "").strip() or DEFAULT_BASE_URL).rstrip("/")


def _api_key() -> str:
    return os.environ.get("OPENAI_API_KEY", "").strip()


def shown_url(url: str) -> str:
    """A URL fit for a message: any user:password@ and query string removed.

    >>> shown_url("https://user:secret@example.net:8080/v1?key=k")
    'https://example.net:8080/v1'
    """
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


class _Transient(Exception):
    """A failure worth retrying: rate limit, server error, timeout, dropped connection."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


@dataclass(frozen=True)
class _Refusal:
    """What a non-2xx answer said: status, and the error's message, code and param if it had them."""

    status: int
    message: str
    code: str = ""
    param: str = ""

    @classmethod
    def parse(cls, status: int, body: bytes) -> _Refusal:
        try:
            data = json.loads(body)
        except ValueError:
            text = body.decode("utf-8", "replace")
            return cls(status, _one_line(re.sub(r"<[^>]+>", " ", text)))
        err = data.get("error", data) if isinstance(data, dict) else data
        if isinstance(err, dict):
            detail = err.get("message") or err.get("detail") or ""
            code, param = str(err.get("code") or ""), str(err.get("param") or "")
            return cls(status, _one_line(str(detail)), code, param)
        return cls(status, _one_line(str(err)))


def _one_line(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class OpenAIOptions:
    """The voice-profile keys of the openai engine besides engine, voice, name and speed."""

    model: str = ""
    """"tts-1", "tts-1-hd", "gpt-4o-mini-tts", or any model the server has; empty: tts-1."""
    instructions: str = ""
    """How to speak ("Calm, warm, unhurried"); only models like gpt-4o-mini-tts take it."""


class OpenAIEngine(TTSEngine):
    name = "openai"
    sample_rate = PCM_RATE
    cost = 2.0  # a request waits on the network, about twice as long as hibari speaks
    Options = OpenAIOptions

    def __init__(
        self,
        voice: str = "alloy",
        speed: float = 1.0,
        *,
        model: str = "",
        instructions: str = "",
        attempts: int = 6,
        backoff: float = 0.5,
        timeout: float = 120.0,
    ) -> None:
        """Check the settings and the environment; no request is made until `speak`.

        `attempts` counts the first try; waits between them start at `backoff` seconds and double.
        """
        super().__init__(voice, speed)
        self.model = model or DEFAULT_MODEL
        self.instructions = instructions
        self.attempts, self.backoff, self.timeout = max(1, attempts), backoff, timeout
        problem = self.check(voice)
        if problem:
            raise EngineError(problem)
        if instructions and self.model in NO_INSTRUCTIONS:
            raise EngineError(
                f'model {self.model!r} does not take instructions; set model = "gpt-4o-mini-tts" '
                "or remove instructions"
            )
        # The rate of the first answer; later answers at another rate are resampled to it.
        self._rate: int | None = None

    @classmethod
    def voices(cls) -> list[str]:
        return list(VOICES)

    @classmethod
    def check(cls, voice: str | None = None) -> str | None:
        """A key is needed for OpenAI itself; a voice name is the server's to judge."""
        url = base_url()
        if not re.match(r"https?://[^/\s]+", url):
            return f"OPENAI_BASE_URL {shown_url(url)!r} is not an http(s) URL like {DEFAULT_BASE_URL}"
        if url == DEFAULT_BASE_URL and not _api_key():
            return "OPENAI_API_KEY is not set; export your OpenAI API key (read from the environment only)"
        if voice is not None and not voice.strip():
            return 'the voice is empty; name one, e.g. "alloy"'
        return None

    def speak(self, text: str) -> np.ndarray:
        """Any text -> mono float32 at self.sample_rate, one request per piece of at most 4096 chars."""
        clips = [self._speak_piece(piece) for piece in pieces(text)]
        if not clips:
            return np.zeros(0, np.float32)
        gap = np.zeros(round(PIECE_PAUSE * self.sample_rate), np.float32)
        parts = [p for clip in clips for p in (gap, clip)][1:]
        return np.concatenate(parts).astype(np.float32, copy=False)

    # -- one request ---------------------------------------------------------------------------------

    def _speak_piece(self, text: str) -> np.ndarray:
        audio, rate = self._with_retries(text)
        if self._rate is None:
            self._rate = self.sample_rate = rate
        elif rate != self._rate:
            from podcast.audio.master import resample

            audio = resample(audio, rate, self._rate)
        return audio

    def _payload(self, text: str) -> bytes:
        body: dict[str, object] = {
            "model": self.model,
            "voice": self.voice,
            "input": text,
            "response_format": "wav",
        }
        if self.speed != 1.0:
            body["speed"] = self.speed
        if self.instructions:
            body["instructions"] = self.instructions
        return json.dumps(body).encode("utf-8")

    def _with_retries(self, text: str) -> tuple[np.ndarray, int]:
        payload = self._payload(text)
        started = time.monotonic()
        for attempt in range(1, self.attempts + 1):
            try:
                return self._post(payload)
            except _Transient as e:
                if attempt == self.attempts:
                    raise EngineError(
                        f"{self._where()} kept failing ({e}) after {attempt} attempts over "
                        f"{time.monotonic() - started:.0f} s; try again later: lines already spoken are "
                        "cached, so the next run resumes where this one stopped"
                    ) from None
                wait = self._delay(attempt, e.retry_after)
                if wait > MAX_WAIT:
                    raise EngineError(
                        f"{self._where()} asks to wait {wait:.0f} s before retrying ({e}); try again "
                        "later: lines already spoken are cached"
                    ) from None
                time.sleep(wait)
        raise AssertionError("unreachable")  # the loop returns or raises

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return retry_after
        # Jitter spreads the retries of parallel workers that were refused at the same moment.
        return self.backoff * 2 ** (attempt - 1) * random.uniform(1.0, 1.25)

    def _post(self, payload: bytes) -> tuple[np.ndarray, int]:
        # The environment is read per request, never kept: nothing holds the key longer than a call.
        problem = self.check()
        if problem:
            raise EngineError(problem)
        headers = {"Content-Type": "application/json", "Accept": "audio/wav, audio/*"}
        key = _api_key()
        if key:
            headers["Authorization"] = f"Bearer {key}"
        url = base_url() + "/audio/speech"
        request = urllib.request.Request(url, data=payload, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                body = response.read()
                content_type = response.headers.get("Content-Type", "")
        except urllib.error.HTTPError as e:
            with e:
                raise self._refused(e.code, _error_body(e), dict(e.headers.items())) from None
        except urllib.error.URLError as e:
            if isinstance(e.reason, ssl.SSLCertVerificationError):  # retrying cannot fix a certificate
                raise EngineError(f"{self._where()}: {e.reason}; check OPENAI_BASE_URL") from None
            raise _Transient(f"cannot reach the server: {e.reason}") from None
        except (http.client.HTTPException, OSError) as e:  # dropped connection, reset, timeout
            raise _Transient(f"connection lost: {type(e).__name__} {e}".strip()) from None
        return self._decode(body, content_type)

    def _where(self) -> str:
        return f"openai voice {self.voice!r} (model {self.model}) at {shown_url(base_url())}"

    def _refused(self, status: int, body: bytes, headers: Mapping[str, str]) -> Exception:
        """The exception for a non-2xx answer: _Transient to retry, else an EngineError saying what to fix."""
        r = _Refusal.parse(status, body)
        said = f": {r.message}" if r.message else ""
        if status == 429 and r.code == "insufficient_quota":
            return EngineError(f"{self._where()}: the account is out of quota (HTTP 429){said}; see billing")
        if status in (408, 409, 425, 429) or status >= 500:
            return _Transient(f"HTTP {status}", _retry_after(headers))
        if status == 401:
            # The server's text is left out: OpenAI's quotes part of the key back.
            fix = "set OPENAI_API_KEY to a valid key" if _api_key() else "OPENAI_API_KEY is not set"
            return EngineError(f"{self._where()} refused the API key (HTTP 401); {fix}")
        text = r.message.lower()
        if r.param == "voice" or ("voice" in text and r.code != "model_not_found"):
            return EngineError(
                f"{self._where()} has no voice {self.voice!r} (HTTP {status}{said}); set voice to one it "
                f"has (OpenAI: {', '.join(VOICES)})"
            )
        if r.param == "model" or r.code == "model_not_found" or "model" in text:
            return EngineError(
                f"{self._where()} has no model {self.model!r} (HTTP {status}{said}); set model to one it "
                f"has (OpenAI: {', '.join(MODELS)})"
            )
        if status == 404:
            return EngineError(
                f"{self._where()}: no audio/speech endpoint there (HTTP 404); "
                "check OPENAI_BASE_URL (it usually ends in /v1)"
            )
        return EngineError(f"{self._where()} refused the request (HTTP {status}{said})")

    def _decode(self, body: bytes, content_type: str) -> tuple[np.ndarray, int]:
        kind = content_type.split(";")[0].strip().lower()
        if body[:4] == b"RIFF":
            return wav_samples(body)
        if not body:
            raise _Transient("an empty answer")
        if kind in ("audio/pcm", "audio/l16", "application/octet-stream") or kind.startswith("audio/pcm"):
            usable = len(body) - len(body) % 2
            return np.frombuffer(body[:usable], "<i2").astype(np.float32) / 32768, PCM_RATE
        if kind.startswith("audio/"):  # a server that ignored response_format: let ffmpeg decode it
            from podcast.audio.encode import run_ffmpeg

            args = ["-i", "pipe:0", "-f", "f32le", "-ac", "1", "-ar", str(PCM_RATE), "pipe:1"]
            pcm = run_ffmpeg(args, body)
            return np.frombuffer(pcm, "<f4").copy(), PCM_RATE
        raise EngineError(
            f"{self._where()} answered with {kind or 'no content type'}, not audio; check OPENAI_BASE_URL"
        )


def _error_body(e: urllib.error.HTTPError) -> bytes:
    """The body of an error answer, or what arrived of it before the connection dropped."""
    try:
        return e.read(65536)
    except (http.client.HTTPException, OSError):
        return b""


def _retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds the server asks us to wait: retry-after-ms (OpenAI's), or Retry-After in seconds or
    as an HTTP date; None when it says nothing usable.

    >>> _retry_after({"Retry-After": "2"}), _retry_after({"retry-after-ms": "250"}), _retry_after({})
    (2.0, 0.25, None)
    """
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = next((v for k, v in headers.items() if k.lower() == name), None)
        if value is None:
            continue
        try:
            return max(0.0, float(value) * scale)
        except ValueError:
            if scale == 1.0:
                return _http_date_wait(value)
    return None


def _http_date_wait(value: str) -> float | None:
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


_WAVE_FLOAT, _WAVE_PCM, _WAVE_EXTENSIBLE = 3, 1, 0xFFFE
_PLACEHOLDER_SIZES = (0, 0xFFFFFFFF)
"""Sizes a streamed WAV header carries when the length was not known yet: read to the end."""


def wav_samples(data: bytes) -> tuple[np.ndarray, int]:
    """Mono float32 samples and the sample rate of a WAV file (PCM 8/16/24/32-bit or float).

    Streamed WAVs whose header sizes are placeholders are read to the end; a data chunk shorter
    than its header says means the connection dropped, which is worth another try.
    """
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise _Transient("a WAV answer without a RIFF/WAVE header")
    pos, fmt = 12, None
    while pos + 8 <= len(data):
        chunk, size = data[pos : pos + 4], int.from_bytes(data[pos + 4 : pos + 8], "little")
        body = pos + 8
        if chunk == b"fmt ":
            fmt = data[body : body + size]
        elif chunk == b"data":
            if fmt is None or len(fmt) < 16:
                raise EngineError("the server's WAV has no format chunk before its data")
            if size not in _PLACEHOLDER_SIZES and body + size > len(data):
                raise _Transient(f"audio cut short ({len(data) - body} of {size} bytes)")
            end = len(data) if size in _PLACEHOLDER_SIZES else body + size
            return _pcm(data[body:end], fmt)
        pos = body + size + (size & 1)
    raise _Transient("a WAV answer with no audio data")


def _pcm(raw: bytes, fmt: bytes) -> tuple[np.ndarray, int]:
    tag, channels, rate = (int.from_bytes(fmt[a:b], "little") for a, b in ((0, 2), (2, 4), (4, 8)))
    bits = int.from_bytes(fmt[14:16], "little")
    if tag == _WAVE_EXTENSIBLE and len(fmt) >= 26:
        tag = int.from_bytes(fmt[24:26], "little")  # the sub-format GUID starts with the plain tag
    width = bits // 8
    if channels < 1 or width < 1 or rate < 1:
        raise EngineError(f"the server's WAV has an impossible format ({channels} ch, {bits} bit, {rate} Hz)")
    frame = width * channels
    raw = raw[: len(raw) - len(raw) % frame]
    audio: np.ndarray
    if tag == _WAVE_FLOAT and width in (4, 8):
        audio = np.frombuffer(raw, f"<f{width}").astype(np.float32)
    elif tag == _WAVE_PCM and width == 1:
        audio = (np.frombuffer(raw, np.uint8).astype(np.float32) - 128) / 128
    elif tag == _WAVE_PCM and width in (2, 4):
        audio = np.frombuffer(raw, f"<i{width}").astype(np.float32) / 2 ** (bits - 1)
    elif tag == _WAVE_PCM and width == 3:
        b = np.frombuffer(raw, np.uint8).reshape(-1, 3).astype(np.int32)
        audio = ((b[:, 0] | b[:, 1] << 8 | b[:, 2] << 16) << 8 >> 8).astype(np.float32) / 2**23
    else:
        raise EngineError(f"the server's WAV is in a format papercast does not read (tag {tag}, {bits} bit)")
    if channels > 1:
        audio = audio.reshape(-1, channels).mean(axis=1)
    return audio.astype(np.float32, copy=False), rate
