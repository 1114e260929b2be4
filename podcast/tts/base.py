"""The TTS engine contract, and the registry of engines by name.

An engine does its slow work (loading a model) once in __init__ and then speaks one sentence per
call. It declares the voice-profile keys it reads as a frozen dataclass, `Options`, and is found by
name through the "papercast.tts" entry points (podcast.plugins), papercast's own engines included;
its module is imported only when it is used, so heavy imports belong inside its methods.
"""

from __future__ import annotations

import dataclasses
import inspect
from abc import ABC, abstractmethod
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from podcast.plugins import Registry

if TYPE_CHECKING:
    import numpy as np

PATH = "papercast.path"
"""Metadata key of an Options field that holds a path (see `path_option`)."""


def path_option(default: str = "") -> Any:
    """An Options field that holds the path of a file or folder: a relative path in a voice profile
    is taken from the show folder (when something is there), so a build works from any folder, and
    any path must lead to a place in the show folder (podcast.config.in_show)."""
    return dataclasses.field(default=default, metadata={PATH: True})


@dataclasses.dataclass(frozen=True)
class NoOptions:
    """An engine that reads no voice-profile keys besides engine, voice, name and speed."""


class TTSEngine(ABC):
    name: ClassVar[str]
    """The registry key, as voice profiles write it."""
    sample_rate: int
    """Native rate of the audio `speak` returns."""
    Options: ClassVar[type[Any]] = NoOptions
    """A frozen dataclass of the voice-profile keys this engine reads besides engine, voice, name and
    speed, with their types, defaults and a docstring under each (mark paths with `path_option`). A
    profile is checked against it as strictly as the rest of the show's config, and the values that
    differ from the defaults reach __init__ as keyword arguments and join the audio's cache key."""
    profile_keys: ClassVar[tuple[str, ...]] = ()
    """The names of the Options fields (set from Options when the class is made)."""
    voice_may_be_path: ClassVar[bool] = False
    """The voice may be the path of a model file or folder; a relative one in a voice profile is taken
    from the show folder, and a path must stay in it, as a `path_option`'s."""
    cost: ClassVar[float] = 1.0
    """Rough wall time per character relative to hibari (1). The renderer gives each engine a share of
    the worker processes in proportion to its characters times this, so the engines finish together."""
    gpus: ClassVar[float] = 0.0
    """GPUs one loaded voice needs: the Ray executor asks the cluster for this many per worker (a
    fraction lets several workers share a GPU). 0: the engine runs on CPUs."""
    cache_tag: ClassVar[str] = ""
    """Set (or change) when the engine starts speaking the same text with the same settings
    differently: it joins the cache keys of the audio the engine makes, so audio cached before never
    mixes with the new. Empty: the keys are what they were before engines had tags."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not (isinstance(cls.Options, type) and dataclasses.is_dataclass(cls.Options)):
            raise TypeError(f"{cls.__qualname__}.Options must be a dataclass of its voice-profile keys")
        cls.profile_keys = tuple(f.name for f in dataclasses.fields(cls.Options))
        params = inspect.signature(cls.__init__).parameters
        if not any(p.kind is p.VAR_KEYWORD for p in params.values()):
            missing = [key for key in cls.profile_keys if key not in params]
            if missing:
                raise TypeError(
                    f"{cls.__qualname__}.__init__ must take its options as keyword arguments: "
                    f"{', '.join(missing)}"
                )

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


ENGINES: Registry[TTSEngine] = Registry("papercast.tts", TTSEngine, "TTS engine")
"""Every TTS engine by name: installed packages' ("papercast.tts" entry points) and this process's."""
register = ENGINES.register
engine_names = ENGINES.names
get_engine = ENGINES.get
