"""The TTS engine contract and the registry of engines by name.

An engine does its slow work (loading a model) once in __init__ and then speaks one sentence per
call. Built-in engines are named in BUILTIN and imported only when used, so listing engine names
never loads onnxruntime; a third-party engine registers with @register like the built-in ones do.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, ClassVar

from podcast.errors import EngineError

if TYPE_CHECKING:
    import numpy as np

BUILTIN: dict[str, str] = {
    "hibari": "podcast.tts.hibari",
    "piper": "podcast.tts.piper",
}
_REGISTRY: dict[str, type[TTSEngine]] = {}


class TTSEngine(ABC):
    name: ClassVar[str]
    sample_rate: int
    """Native rate of the audio `speak` returns."""

    def __init__(self, voice: str, speed: float = 1.0) -> None:
        """Load the voice; raise EngineError naming the voice when it is not available here."""
        self.voice = voice
        self.speed = speed

    @classmethod
    def voices(cls) -> list[str]:
        """Voices usable on this machine without a download."""
        return []

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
