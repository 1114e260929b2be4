"""The TTS engine contract and the registry of engines by name.

An engine does its slow work (loading a model) once in __init__ and then speaks one sentence per
call. Built-in engines are named in BUILTIN and imported only when used, so listing engine names
never loads onnxruntime; a third-party engine registers with @register like the built-in ones do.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from podcast.errors import EngineError

if TYPE_CHECKING:
    import numpy as np

BUILTIN: dict[str, str] = {
    "coqui": "podcast.tts.coqui",
    "hibari": "podcast.tts.hibari",
    "openai": "podcast.tts.openai",
    "piper": "podcast.tts.piper",
}
_REGISTRY: dict[str, type[TTSEngine]] = {}


class TTSEngine(ABC):
    name: ClassVar[str]
    sample_rate: int
    """Native rate of the audio `speak` returns."""
    profile_keys: ClassVar[tuple[str, ...]] = ()
    """Voice-profile keys besides engine, voice and speed that this engine reads (openai: model,
    instructions); a profile's values for them reach __init__ as keyword arguments."""
    cost: ClassVar[float] = 1.0
    """Rough wall time per character relative to hibari (1). The renderer gives each engine a share of
    the worker processes in proportion to its characters times this, so the engines finish together."""

    def __init__(self, voice: str, speed: float = 1.0) -> None:
        """Load the voice; raise EngineError naming the voice when it is not available here."""
        self.voice = voice
        self.speed = speed

    @classmethod
    def voices(cls) -> list[str]:
        """Voices usable on this machine without a download."""
        return []

    @classmethod
    def check(cls, voice: str | None = None) -> str | None:
        """What keeps this engine (or this voice of it) from working here; None when nothing should.

        Cheap: it loads no model and calls no server. By default the engine's packages must import,
        and the voice must be one of `voices()` or the path of an existing file (engines that run a
        local model take its path). Engines override it to check what else they need.
        """
        try:
            names = cls.voices()
        except ImportError as e:
            return f"not installed here ({e.name or e} is missing)"
        if voice is None or voice in names or Path(voice).is_file():
            return None
        return f"no voice {voice!r} here; voices: {', '.join(names) or 'none'}"

    @abstractmethod
    def speak(self, text: str) -> np.ndarray:
        """One sentence of speakable text -> mono float32 samples in [-1, 1] at self.sample_rate."""

    def settings_key(self) -> str:
        """Everything besides the text that changes the audio; part of the segment cache key."""
        return f"{self.name}:{self.voice}:{self.speed:g}"


def register(cls: type[TTSEngine]) -> type[TTSEngine]:
    _REGISTRY[cls.name] = cls
    return cls


def engine_names() -> list[str]:
    return sorted(set(BUILTIN) | set(_REGISTRY))


def get_engine(name: str) -> type[TTSEngine]:
    if name not in _REGISTRY and name in BUILTIN:
        importlib.import_module(BUILTIN[name])
    if name not in _REGISTRY:
        raise EngineError(f"unknown TTS engine {name!r}; engines: {', '.join(engine_names())}")
    return _REGISTRY[name]
