"""openai: the audio/speech endpoint of OpenAI, or of any server that speaks its protocol.

Requests go through podcast.llm, the one client for OpenAI-compatible endpoints: OPENAI_BASE_URL
(default https://api.openai.com/v1; a local server such as Kokoro-FastAPI may need no key) and
OPENAI_API_KEY (never written to a file, a log or a message) as it reads them, with its retry policy
and its messages. The environment is read anew for every request and kept no longer. WAV is asked
for, so no MP3 decoding is needed and the sample rate comes with the audio; a server that answers
raw PCM (OpenAI's "pcm": 24 kHz, 16-bit, mono) or another format is understood too.

The endpoint takes at most 4096 characters per request: longer text is sent in pieces cut at
sentence ends (a longer sentence at clause punctuation, then between words), never mid-sentence
otherwise and never truncated. Rate limits, server errors, timeouts, dropped connections and audio
cut short are retried with exponential backoff (a Retry-After header is obeyed, up to MAX_WAIT); a
refused key, an unknown voice or model fails at once with a message that says what to set.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from podcast import llm
from podcast.errors import EngineError
from podcast.tts.base import TTSEngine
from podcast.writing.speech import split_sentences

API_LIMIT = 4096
"""Most characters the endpoint accepts in one request."""
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
"""Longest single wait before a retry, also for a server's Retry-After."""
RESUME = "lines already spoken are cached, so the next run resumes where this one stopped"


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
        self.retry = llm.RetryPolicy(max(1, attempts), backoff, MAX_WAIT)
        self.timeout = timeout
        self._backoff = llm.Backoff()
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
        try:
            llm.from_environment()
        except EngineError as e:
            return str(e)
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
        audio, rate = self._request(text)
        if self._rate is None:
            self._rate = self.sample_rate = rate
        elif rate != self._rate:
            from podcast.audio.master import resample

            audio = resample(audio, rate, self._rate)
        return audio

    def _payload(self, text: str) -> dict[str, object]:
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
        return body

    def _request(self, text: str) -> tuple[np.ndarray, int]:
        """The audio of one piece, and its rate. A client per piece: the environment is read anew
        (nothing holds the key longer than a request), the backoff is the engine's."""
        caller = llm.Caller(
            f"openai voice {self.voice!r} (model {self.model})",
            kept=RESUME,
            model_fix=f"set model to one it has (OpenAI: {', '.join(MODELS)})",
        )
        client = llm.Client(caller, self.retry, self.timeout, backoff=self._backoff)
        try:
            return client.post("audio/speech", self._payload(text), self._decode, accept="audio/wav, audio/*")
        except llm.Refused as e:
            if e.param == "voice" or ("voice" in e.detail.lower() and e.code != "model_not_found"):
                said = f": {e.detail}" if e.detail else ""
                problem = f"no voice {self.voice!r} (HTTP {e.status}{said}); set voice to one it has"
                raise EngineError(client.message("", f"{problem} (OpenAI: {', '.join(VOICES)})")) from None
            raise

    @staticmethod
    def _decode(response: llm.Response) -> tuple[np.ndarray, int]:
        """Samples and rate of a 2xx answer: WAV, raw PCM or another audio format (ffmpeg decodes it).
        llm.Passing for an answer cut short, to be asked again; EngineError for one that is no audio."""
        body, kind = response.body, response.content_type
        if body[:4] == b"RIFF":
            return wav_samples(body)
        if not body:
            raise llm.Passing("an empty answer")
        if kind in ("audio/pcm", "audio/l16", "application/octet-stream") or kind.startswith("audio/pcm"):
            usable = len(body) - len(body) % 2
            return np.frombuffer(body[:usable], "<i2").astype(np.float32) / 32768, PCM_RATE
        if kind.startswith("audio/"):  # a server that ignored response_format: let ffmpeg decode it
            from podcast.audio.encode import run_ffmpeg

            args = ["-i", "pipe:0", "-f", "f32le", "-ac", "1", "-ar", str(PCM_RATE), "pipe:1"]
            pcm = run_ffmpeg(args, body)
            return np.frombuffer(pcm, "<f4").copy(), PCM_RATE
        raise EngineError(f"the answer is {kind or 'no content type'}, not audio; check OPENAI_BASE_URL")


_WAVE_FLOAT, _WAVE_PCM, _WAVE_EXTENSIBLE = 3, 1, 0xFFFE
_PLACEHOLDER_SIZES = (0, 0xFFFFFFFF)
"""Sizes a streamed WAV header carries when the length was not known yet: read to the end."""


def wav_samples(data: bytes) -> tuple[np.ndarray, int]:
    """Mono float32 samples and the sample rate of a WAV file (PCM 8/16/24/32-bit or float).

    Streamed WAVs whose header sizes are placeholders are read to the end; a data chunk shorter
    than its header says means the connection dropped, which is worth another try.
    """
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise llm.Passing("a WAV answer without a RIFF/WAVE header")
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
                raise llm.Passing(f"audio cut short ({len(data) - body} of {size} bytes)")
            end = len(data) if size in _PLACEHOLDER_SIZES else body + size
            return _pcm(data[body:end], fmt)
        pos = body + size + (size & 1)
    raise llm.Passing("a WAV answer with no audio data")


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
