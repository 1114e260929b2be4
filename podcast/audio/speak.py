"""The synthesis stage: speak one script line with its voice and keep it in the line cache.

This runs in an executor's workers (podcast.audio.executors), each holding one engine, so it imports
only numpy, the engines and the cache, never mastering. A worker on this machine returns nothing
big: the line goes to the cache, where the building process reads it back. A worker on another
machine (a Ray actor) gets the line's cached sentences with it and returns what it spoke as cache
entries, which the building process stores (`synthesize_remote`, `store_remote`).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from podcast import cache as cachemod
from podcast.audio.clips import SpokenLine, give_back_memory, join_sentences
from podcast.errors import EngineError, PodcastError
from podcast.models import VoiceProfile
from podcast.tts import ENGINES, TTSEngine, get_engine


@dataclass(frozen=True)
class LineTask:
    """One line to synthesize: what the voice says, where it goes in the cache, where it is in the script."""

    key: str
    """The line cache key (podcast.audio.render.SectionJob.line_key)."""
    speaker: str
    profile: VoiceProfile
    sentences: tuple[str, ...]
    """As the voice receives them (respelled by the lexicon)."""
    written: tuple[str, ...]
    """As the script writes them: what the line's transcript keeps."""
    section: str
    """The section's title, for error messages."""
    sentence_pause: float
    cache_root: Path


def speech_key(profile: VoiceProfile, kind: str, version: int, *text: object) -> str:
    """The cache key of `text` spoken by `profile`: everything that changes the audio. The engine's
    own settings (its options that differ from their defaults) and its `cache_tag` join the key only
    when there are any, so the keys of other profiles are what they were before engines had them."""
    extra: list[object] = [dict(profile.settings)] if profile.settings else []
    tag = get_engine(profile.engine).cache_tag
    if tag:
        extra.append({"cache_tag": tag})
    return cachemod.key(kind, version, profile.engine, profile.voice, profile.speed, *text, *extra)


def engine_key(profile: VoiceProfile) -> str:
    """What makes two profiles share one loaded engine."""
    return speech_key(profile, "engine", 1)


_ENGINES: dict[str, TTSEngine] = {}
"""Engines loaded in this process: a model loads once per process, not once per line."""


def engine(profile: VoiceProfile) -> TTSEngine:
    k = engine_key(profile)
    if k not in _ENGINES:
        try:
            _ENGINES[k] = get_engine(profile.engine)(profile.voice, profile.speed, **dict(profile.settings))
        except EngineError as e:
            raise EngineError(f"voices/{profile.id}.toml: {e}") from None
    return _ENGINES[k]


def init_worker(engine: type[TTSEngine]) -> None:
    """Worker initializer: a spawned process finds installed engines by their entry points, but not
    one registered in the parent process (a script's own engine, a test's fake), so the parent hands
    over the class itself (pickled by reference) and it is registered here too."""
    ENGINES.register(engine)


def synthesize(task: LineTask) -> None:
    """Worker entry: speak the line and store it in the line cache."""
    cache = cachemod.Cache(task.cache_root)
    store_line(cache, task.key, speak_line(task, cache))
    give_back_memory()


Entries = dict[tuple[str, str], bytes]
"""Cache entries by (kind, key), as a worker without the building process's disk gets and returns them."""


class MemoryCache(cachemod.Cache):
    """A worker's cache on another machine: the entries the building process sent (the line's cached
    sentences), and what speaking adds (`added`), which goes back to be stored in the real cache."""

    def __init__(self, entries: Entries) -> None:
        super().__init__(Path("memory"))
        self.entries = dict(entries)
        self.added: Entries = {}

    def get(self, kind: str, digest: str, ext: str) -> bytes | None:
        return self.entries.get((kind, digest))

    def put(self, kind: str, digest: str, ext: str, data: bytes) -> Path:
        self.entries[(kind, digest)] = self.added[(kind, digest)] = data
        return self.path(kind, digest, ext)


def synthesize_remote(task: LineTask, sentences: Entries) -> Entries:
    """Worker entry on another machine: the line, and the sentences spoken for it, as cache entries
    (`sentences`: those of its sentences the building process has cached)."""
    cache = MemoryCache(sentences)
    store_line(cache, task.key, speak_line(task, cache))
    give_back_memory()
    return cache.added


def cached_sentences(cache: cachemod.Cache, task: LineTask) -> Entries:
    """The entries of the task's sentences that `cache` holds, for `synthesize_remote`."""
    out: Entries = {}
    for sentence in task.sentences:
        key = sentence_key(task.profile, sentence)
        data = cache.get("sentence", key, ".npz")
        if data is not None:
            out[("sentence", key)] = data
    return out


def store_remote(cache: cachemod.Cache, task: LineTask, added: Entries) -> None:
    """Keep what `synthesize_remote` returned for `task`: its line, then its new sentences. Only the
    entries the task can make are taken (a worker names no other file)."""
    expected = {("line", task.key)} | {("sentence", sentence_key(task.profile, s)) for s in task.sentences}
    if ("line", task.key) not in added or not set(added) <= expected:
        raise EngineError(f"a worker returned other audio than the line of '{task.section}' it was given")
    for kind, key in sorted(added, key=lambda e: e[0] == "line"):  # the line last: it marks the task done
        cache.put(kind, key, ".npz", added[(kind, key)])


SENTENCE_FORMAT = 1
"""Bump when what a cached sentence holds changes."""


def sentence_key(profile: VoiceProfile, sentence: str) -> str:
    return speech_key(profile, "sentence", SENTENCE_FORMAT, sentence)


def speak_line(task: LineTask, cache: cachemod.Cache) -> SpokenLine:
    """The task's sentences (as the voice should receive them) spoken and joined; the line keeps the
    written ones. Each sentence is cached on its own, so editing one sentence of a paragraph speaks
    that sentence only (and a line whose sentences are all cached loads no model)."""
    profile = task.profile
    clips: list[np.ndarray] = []
    rate = 0
    for sentence in task.sentences:
        key = sentence_key(profile, sentence)
        cached = cache.load("sentence", key, ".npz", _read_pcm)
        if cached is not None:
            clip, clip_rate, _ = cached
        else:
            clip, clip_rate = _speak(task, sentence), engine(profile).sample_rate
            cache.put("sentence", key, ".npz", _pcm(clip, clip_rate))
        if rate and clip_rate != rate:
            raise EngineError(f"voices/{profile.id}.toml: the voice changed its sample rate mid-line")
        rate = clip_rate
        clips.append(clip)
    audio, spans = join_sentences(clips, rate or engine(profile).sample_rate, task.sentence_pause)
    return SpokenLine(task.speaker, rate, audio, tuple(spans), task.written)


def _speak(task: LineTask, sentence: str) -> np.ndarray:
    voice = engine(task.profile)
    try:
        clip = voice.speak(sentence)
    except EngineError as e:  # e.g. a refused API key: say which profile to fix
        raise EngineError(f"voices/{task.profile.id}.toml: {e}") from None
    except PodcastError:
        raise
    except Exception as e:  # an engine's own failure, whatever its type: name the place and the text
        raise EngineError(
            f"{voice.name} could not speak a sentence of '{task.section}': {sentence[:120]!r} ({e})"
        ) from None
    if not np.all(np.isfinite(clip)):
        raise EngineError(f"{voice.name} returned invalid audio for '{task.section}': {sentence[:120]!r}")
    return np.asarray(clip, np.float32)


def _pcm(audio: np.ndarray, rate: int, spans: Sequence[tuple[int, int]] | None = None) -> bytes:
    """16-bit PCM with its rate (and sentence spans), as the caches keep audio."""
    pcm = (np.clip(audio, -1, 1) * 32767).astype("<i2")
    buf = io.BytesIO()
    if spans is None:
        np.savez(buf, audio=pcm, rate=rate)
    else:
        np.savez(buf, audio=pcm, rate=rate, spans=np.asarray(spans, np.int64).reshape(-1, 2))
    return buf.getvalue()


def _read_pcm(data: bytes) -> tuple[np.ndarray, int, np.ndarray | None]:
    """(audio, rate, spans or None) of a cached entry. Raises on a damaged one: the zip's CRCs catch
    changed bytes, and a truncated file is no zip."""
    with np.load(io.BytesIO(data)) as z:
        spans = z["spans"] if "spans" in z.files else None
        audio, rate = z["audio"], int(z["rate"])
    if audio.dtype != np.dtype("<i2") or audio.ndim != 1 or rate <= 0:
        raise ValueError("not 16-bit mono PCM")
    return audio.astype(np.float32) / 32767, rate, spans


def store_line(cache: cachemod.Cache, key: str, line: SpokenLine) -> None:
    """Keep the line as 16-bit PCM with its sentence spans (mixing always reads it back from here,
    so a section mixes the same whether its lines were just spoken or cached long ago)."""
    cache.put("line", key, ".npz", _pcm(line.audio, line.rate, line.spans))


def load_line(cache: cachemod.Cache, key: str, speaker: str, sentences: Sequence[str]) -> SpokenLine | None:
    """The cached line, or None when it is missing or damaged (it is then synthesized again)."""
    got = cache.load("line", key, ".npz", _read_pcm)
    if got is None:
        return None
    audio, rate, spans = got
    if spans is None or spans.ndim != 2 or len(spans) != len(sentences):
        cache.damaged("line")
        return None
    return SpokenLine(speaker, rate, audio, tuple((int(a), int(b)) for a, b in spans), tuple(sentences))
