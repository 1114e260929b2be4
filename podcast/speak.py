"""The synthesis stage: speak one script line with its voice and keep it in the line cache.

This runs in the renderer's worker processes, one process per engine (podcast.render), so it imports
only numpy, the engines and the cache, never mastering: scipy alone would add about 80 MB to every
worker. A worker returns nothing big: the line goes to the cache, where the parent reads it back.
"""

from __future__ import annotations

import importlib
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from podcast import cache as cachemod
from podcast.audio import SpokenLine, give_back_memory, join_sentences
from podcast.errors import EngineError, PodcastError
from podcast.models import VoiceProfile
from podcast.tts import TTSEngine, get_engine


@dataclass(frozen=True)
class LineTask:
    """One line to synthesize: what the voice says, where it goes in the cache, where it is in the script."""

    key: str
    """The line cache key (podcast.render.SectionJob.line_key)."""
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


def engine_key(profile: VoiceProfile) -> tuple[str, str, float, tuple[tuple[str, str], ...]]:
    """What makes two profiles share one loaded engine."""
    return (profile.engine, profile.voice, profile.speed, profile.settings)


_ENGINES: dict[tuple[str, str, float, tuple[tuple[str, str], ...]], TTSEngine] = {}
"""Engines loaded in this process: a model loads once per process, not once per line."""


def engine(profile: VoiceProfile) -> TTSEngine:
    k = engine_key(profile)
    if k not in _ENGINES:
        try:
            _ENGINES[k] = get_engine(profile.engine)(profile.voice, profile.speed, **dict(profile.settings))
        except EngineError as e:
            raise EngineError(f"voices/{profile.id}.toml: {e}") from None
    return _ENGINES[k]


def init_worker(engine_modules: Sequence[str]) -> None:
    """Worker initializer: a spawned process knows only the built-in engines until their modules import."""
    for module in engine_modules:
        importlib.import_module(module)


def synthesize(task: LineTask) -> None:
    """Worker entry: speak the line and store it in the line cache."""
    store_line(cachemod.Cache(task.cache_root), task.key, speak_line(task))
    give_back_memory()


def speak_line(task: LineTask) -> SpokenLine:
    """Synthesize the task's sentences (as the voice should receive them); the line keeps the written ones."""
    profile = task.profile
    voice = engine(profile)
    clips = []
    for sentence in task.sentences:
        try:
            clip = voice.speak(sentence)
        except EngineError as e:  # e.g. a refused API key: say which profile to fix
            raise EngineError(f"voices/{profile.id}.toml: {e}") from None
        except PodcastError:
            raise
        except Exception as e:  # an engine's own failure, whatever its type: name the place and the text
            raise EngineError(
                f"{voice.name} could not speak a sentence of '{task.section}': {sentence[:120]!r} ({e})"
            ) from None
        if not np.all(np.isfinite(clip)):
            raise EngineError(f"{voice.name} returned invalid audio for '{task.section}': {sentence[:120]!r}")
        clips.append(clip)
    audio, spans = join_sentences(clips, voice.sample_rate, task.sentence_pause)
    return SpokenLine(task.speaker, voice.sample_rate, audio, tuple(spans), task.written)


def store_line(cache: cachemod.Cache, key: str, line: SpokenLine) -> None:
    """Keep the line as 16-bit PCM with its sentence spans (mixing always reads it back from here,
    so a section mixes the same whether its lines were just spoken or cached long ago)."""
    buf = io.BytesIO()
    pcm = (np.clip(line.audio, -1, 1) * 32767).astype("<i2")
    np.savez(buf, audio=pcm, spans=np.asarray(line.spans, np.int64).reshape(-1, 2), rate=line.rate)
    cache.put("line", key, ".npz", buf.getvalue())


def load_line(cache: cachemod.Cache, key: str, speaker: str, sentences: Sequence[str]) -> SpokenLine | None:
    """The cached line, or None when it is missing or damaged (it is then synthesized again)."""
    data = cache.get("line", key, ".npz")
    if data is None:
        return None
    try:
        with np.load(io.BytesIO(data)) as z:
            audio = z["audio"].astype(np.float32) / 32767
            spans = tuple((int(a), int(b)) for a, b in z["spans"])
            rate = int(z["rate"])
    except (ValueError, KeyError, OSError):
        return None
    if len(spans) != len(sentences):
        return None
    return SpokenLine(speaker, rate, audio, spans, tuple(sentences))
