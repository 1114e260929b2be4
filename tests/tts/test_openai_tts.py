"""The openai TTS engine against a real HTTP server on 127.0.0.1 that speaks OpenAI's protocol."""

from __future__ import annotations

import wave
from io import BytesIO
from pathlib import Path

import numpy as np
import pytest
from fakes.openai_speech import KEY, RATE, SpeechServer, hibari_voice, tone_voice

from podcast.audio.encode import decode
from podcast.audio.render import render
from podcast.config import load_show
from podcast.errors import ConfigError, EngineError
from podcast.models import Line, Script, Section, VoiceProfile
from podcast.scaffold import init_show
from podcast.tts import get_engine
from podcast.tts.openai import API_LIMIT, PIECE_PAUSE, OpenAIEngine, wav_samples


@pytest.fixture
def api(openai_speech: SpeechServer, monkeypatch: pytest.MonkeyPatch) -> SpeechServer:
    """The fake speech endpoint, with the environment pointing at it."""
    _point_at(openai_speech, monkeypatch)
    return openai_speech


def _point_at(server: SpeechServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")


def test_long_text_is_split_at_sentences_and_nothing_is_lost(monkeypatch: pytest.MonkeyPatch) -> None:
    ordinary = [f"Sentence {i} is about attention, memory and scale." for i in range(160)]
    clauses = "Then " + ", ".join(f"clause {i} of one very long sentence" for i in range(180)) + "."
    words = "Finally " + " ".join(f"word{i}" for i in range(900)) + "."
    text = " ".join([*ordinary[:90], clauses, *ordinary[90:], words])
    assert len(clauses) > API_LIMIT and len(words) > API_LIMIT and len(text) > 4 * API_LIMIT

    with SpeechServer(synthesize=tone_voice) as server:
        _point_at(server, monkeypatch)
        audio = OpenAIEngine("alloy").speak(text)
    sent = [r.input for r in server.requests]

    assert all(r.answer == "ok" for r in server.requests)
    assert all(len(piece) <= API_LIMIT for piece in sent)
    assert " ".join(sent).split() == text.split()  # every word, once, in order
    # Ordinary sentences are never cut; the long one is cut at its commas only.
    assert all(sum(s in piece for piece in sent) == 1 for s in ordinary)
    clause_pieces = [p for p in sent if "clause 1 " in p or "clause 100 " in p or "clause 179 " in p]
    assert all(p.endswith((",", ".")) for p in clause_pieces)
    assert len(sent) <= 8  # packed: about 22,000 characters need 6 requests, the long sentences 2 more
    gaps = (len(sent) - 1) * round(PIECE_PAUSE * RATE)
    assert len(audio) == sum(len(tone_voice(p)) for p in sent) + gaps
    first = server.requests[0]
    assert (first.voice, first.model, first.response_format) == ("alloy", "tts-1", "wav")
    assert first.authorization == f"Bearer {KEY}"


def test_retries_rate_limits_errors_and_dropped_connections(api: SpeechServer) -> None:
    # An HTTP date in the past: no wait. The waits themselves are checked in test_llm.py.
    api.script("429:1", "500", "drop", "cut", "425", "408", "429:Wed, 21 Oct 2015 07:28:00 GMT")
    text = "Hello from a server that is having a bad day."
    audio = OpenAIEngine("nova", attempts=8, backoff=0.01).speak(text)

    answers = ["429", "500", "drop", "cut", "425", "408", "429", "ok"]
    assert [r.answer for r in api.requests] == answers
    assert {r.input for r in api.requests} == {text}
    assert api.requests[1].at - api.requests[0].at >= 1.0  # Retry-After: 1 was obeyed
    reference = hibari_voice(text)
    assert len(audio) == len(reference)
    assert np.max(np.abs(audio - reference)) < 2e-4  # the WAV decoded to the very samples sent


def test_persistent_failure_ends_with_a_clear_error(api: SpeechServer) -> None:
    api.fail_after(0, "503")
    with pytest.raises(EngineError) as e:
        OpenAIEngine("alloy", attempts=3, backoff=0.01).speak("Nobody will hear this.")
    assert [r.answer for r in api.requests] == ["503"] * 3
    message = str(e.value)
    assert message.startswith(f"openai voice 'alloy' (model tts-1) at {api.base_url}: gave up after 3 tries")
    assert "(last: HTTP 503: The server had an error)" in message and message.endswith("resumes where this one stopped")


def test_unknown_voice_model_and_misplaced_instructions(api: SpeechServer) -> None:
    with pytest.raises(EngineError, match=r"no voice 'nobody' .*set voice to one it has \(OpenAI: alloy"):
        OpenAIEngine("nobody").speak("Hi.")
    with pytest.raises(EngineError, match=r"model 'tts-9' not found \(HTTP 404: .*set model to .*gpt-4o-mini-tts"):
        OpenAIEngine("alloy", model="tts-9").speak("Hi.")
    assert [r.answer for r in api.requests] == ["400", "404"]  # neither is retried
    with pytest.raises(EngineError, match="does not take instructions"):
        OpenAIEngine("alloy", model="tts-1", instructions="Whisper.")
    assert len(api.requests) == 2


def _one_line_script(speaker: str, text: str) -> Script:
    return Script((Section("intro", "Intro", (Line(speaker, text),)),))


def test_refused_or_missing_key_names_the_profile(
    api: SpeechServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from podcast.settings import AudioSettings

    profiles = {"narrator": VoiceProfile("narrator", "Narrator", "openai", "echo")}
    monkeypatch.setenv("OPENAI_API_KEY", "sk-wrong-key-that-must-not-leak")
    with pytest.raises(EngineError) as e:
        render(_one_line_script("narrator", "Hello."), profiles, AudioSettings(), tmp_path, workers=1)
    message = str(e.value)
    assert message.startswith("voices/narrator.toml: ") and "HTTP 401" in message
    assert "OPENAI_API_KEY" in message and "sk-wr" not in message
    assert [r.answer for r in api.requests] == ["401"]  # a refused key is not retried

    monkeypatch.delenv("OPENAI_API_KEY")
    monkeypatch.delenv("OPENAI_BASE_URL")  # OpenAI itself, which needs a key: fails before any request
    with pytest.raises(EngineError, match=r"^voices/narrator.toml: OPENAI_API_KEY is not set"):
        render(_one_line_script("narrator", "Hello again."), profiles, AudioSettings(), tmp_path, workers=1)
    assert len(api.requests) == 1


OPENAI_HOST = 'name = "Alloy"\nengine = "openai"\nvoice = "alloy"\nmodel = "gpt-4o-mini-tts"\n'
OPENAI_COHOST = 'name = "Nova"\nengine = "openai"\nvoice = "nova"\nmodel = "tts-1-hd"\n'


def _openai_show(root: Path, instructions: str) -> Path:
    init_show(root)
    (root / "voices" / "host.toml").write_text(OPENAI_HOST + f'instructions = "{instructions}"\n', "utf-8")
    (root / "voices" / "cohost.toml").write_text(OPENAI_COHOST, "utf-8")
    return root


SCRIPT = Script(
    (
        Section(
            "intro",
            "Intro",
            (
                Line("host", "Welcome to the show."),
                Line("cohost", "Today we read one paper."),
                Line("host", "Let us begin."),
            ),
        ),
        Section(
            "paper",
            "xLSTM",
            (
                Line("cohost", "The authors scale the LSTM up."),
                Line("host", "It holds up against Transformers."),
                Line("cohost", "That is all for today."),
            ),
        ),
    )
)
SENTENCES = [line.text for section in SCRIPT.sections for line in section.lines]


def test_a_failed_build_resumes_from_the_cache(api: SpeechServer, tmp_path: Path) -> None:
    cfg = load_show(_openai_show(tmp_path / "show", "Warm and unhurried."))

    def build(profiles: dict[str, VoiceProfile] = cfg.profiles) -> list[int]:
        rendering = render(SCRIPT, profiles, cfg.audio, cfg.cache_dir, workers=1)
        return rendering.synthesized_sections

    api.fail_after(4, "429:0")  # the rate limit hits in the middle of the second section
    with pytest.raises(EngineError, match=r"^voices/host.toml: .*gave up after 6 tries .*HTTP 429.*resumes"):
        build()
    assert api.inputs() == SENTENCES[:4]
    assert [r.answer for r in api.requests[4:]] == ["429"] * 6

    api.heal()
    api.requests.clear()
    assert build() == [1]  # the intro comes whole from the cache
    assert api.inputs() == SENTENCES[4:]  # only what was not spoken yet
    host = api.requests[0]
    assert (host.voice, host.model, host.instructions) == ("alloy", "gpt-4o-mini-tts", "Warm and unhurried.")
    assert (api.requests[1].voice, api.requests[1].model) == ("nova", "tts-1-hd")

    api.requests.clear()
    assert build() == [] and api.requests == []  # a third build: nothing to say

    # New instructions change the host's audio: only the host's lines are spoken again.
    brisk = load_show(_openai_show(tmp_path / "show2", "Brisk.")).profiles
    assert build(brisk) == [0, 1]
    assert api.inputs() == [s for s, line in zip(SENTENCES, _lines(), strict=True) if line.speaker == "host"]
    assert {r.instructions for r in api.requests} == {"Brisk."}


def test_editing_one_sentence_of_a_paragraph_speaks_that_sentence_only(
    api: SpeechServer, tmp_path: Path
) -> None:
    cfg = load_show(_openai_show(tmp_path / "show", "Warm and unhurried."))
    first = "It scales the LSTM. It adds a matrix memory. It rivals Transformers."
    edited = "It scales the LSTM. It adds exponential gates. It rivals Transformers."

    def spoken(text: str) -> tuple[list[str], list[int], np.ndarray]:
        api.requests.clear()
        rendering = render(_one_line_script("cohost", text), cfg.profiles, cfg.audio, cfg.cache_dir, workers=1)
        mp3 = tmp_path / "line.mp3"
        rendering.write_mp3(mp3)
        return api.inputs(), rendering.synthesized_sections, decode(str(mp3))

    said, sections, before = spoken(first)
    assert said == ["It scales the LSTM.", "It adds a matrix memory.", "It rivals Transformers."]
    said, sections, after = spoken(edited)
    assert said == ["It adds exponential gates."] and sections == [0]  # the line is new; one sentence spoken
    assert len(after) > 0 and not np.array_equal(before, after)
    said, sections, again = spoken(first)  # the first version is whole in the line cache
    assert said == [] and sections == [] and np.array_equal(again, before)


def _lines() -> list[Line]:
    return [line for section in SCRIPT.sections for line in section.lines]


def test_profile_settings_are_strict(tmp_path: Path) -> None:
    init_show(tmp_path / "show")
    (tmp_path / "show" / "voices" / "host.toml").write_text(
        'engine = "piper"\nvoice = "joe"\nmodel = "tts-1"\n', "utf-8"
    )
    with pytest.raises(ConfigError, match=r"host.toml: the piper engine does not use 'model'; remove it"):
        load_show(tmp_path / "show")
    assert get_engine("openai").profile_keys == ("model", "instructions")


def _wav_bytes(samples: np.ndarray, rate: int, width: int, channels: int) -> bytes:
    buf = BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(samples.tobytes())
    return buf.getvalue()


def test_wav_answers_streamed_stereo_and_24_bit() -> None:
    mono = (np.sin(np.arange(2400) / 10) * 0.5).astype(np.float32)
    pcm16 = (mono * 32767).astype("<i2")
    data = _wav_bytes(pcm16, 22_050, 2, 1)
    # A streamed WAV does not know its length yet: OpenAI-style placeholder sizes.
    streamed = data[:4] + b"\xff\xff\xff\xff" + data[8:40] + b"\xff\xff\xff\xff" + data[44:]
    for blob in (data, streamed):
        audio, rate = wav_samples(blob)
        assert rate == 22_050 and np.max(np.abs(audio - mono)) < 1e-4

    stereo = np.stack([pcm16, pcm16], axis=1)
    audio, _ = wav_samples(_wav_bytes(stereo, 24_000, 2, 2))
    assert np.max(np.abs(audio - mono)) < 1e-4
    as24 = (mono.astype(np.float64) * 2**23).astype("<i4")
    packed = np.frombuffer(as24.tobytes(), np.uint8).reshape(-1, 4)[:, :3].copy()
    audio, _ = wav_samples(_wav_bytes(packed, 24_000, 3, 1))
    assert np.max(np.abs(audio - mono)) < 1e-6

    with pytest.raises(Exception, match=r"cut short"):
        wav_samples(data[:-100])
