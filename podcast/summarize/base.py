"""The summarizer contract: its settings, a small base class, and the registry of engines by name.

An engine does its slow set-up (a client, a model) once in __init__ and then writes one summary per
`summarize` call. Built-in engines are named in BUILTIN and imported only when asked for, so
listing the names never imports an engine's packages; a third-party engine registers with
@register exactly as the built-in ones do.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar, TypeVar

from podcast.errors import ConfigError, EngineError
from podcast.models import Paper

BUILTIN: dict[str, str] = {
    "extractive": "podcast.summarize.extractive",
    "openai": "podcast.summarize.openai",
}
"""Built-in engine name -> the module that registers it when imported."""

_REGISTRY: dict[str, type[Summarizer]] = {}


@dataclass(frozen=True)
class SummarizerSettings:
    """How summaries are written: the [summarizer] table of podcast.toml."""

    engine: str = "extractive"
    """Registry name of the engine: "extractive" (offline), "openai", or a third party's."""
    words: int = 130
    """Target length of one summary in words; engines aim for about this many."""
    model: str = ""
    """Model name for LLM engines ("gpt-4o-mini", "llama3.1"); empty means the engine's default."""
    temperature: float = 0.3
    """Sampling temperature for LLM engines, 0 to 2; the extractive engine ignores it."""
    prompt: str = ""
    """Path of a prompt file for LLM engines; empty means the engine's built-in prompt."""

    def __post_init__(self) -> None:
        if not isinstance(self.engine, str) or not self.engine.strip():
            raise ConfigError(f"summarizer.engine must name an engine, got {self.engine!r}")
        if isinstance(self.words, bool) or not isinstance(self.words, int) or self.words < 1:
            raise ConfigError(f"summarizer.words must be a whole number of at least 1, got {self.words!r}")
        t = self.temperature
        if isinstance(t, bool) or not isinstance(t, int | float) or not 0 <= t <= 2:
            raise ConfigError(f"summarizer.temperature must be a number from 0 to 2, got {t!r}")


class Summarizer(ABC):
    """One summarizing engine. Subclasses set `name`, load what they need in __init__, and
    implement `summarize`."""

    name: ClassVar[str]
    """The registry key, as written in podcast.toml."""

    def __init__(self, settings: SummarizerSettings) -> None:
        self.settings = settings

    @abstractmethod
    def summarize(self, paper: Paper) -> str:
        """The paper's summary as Markdown paragraphs, about `settings.words` words long.

        Raise podcast.errors.EngineError when the engine itself fails (a refused request, a
        missing model); return "" only when the paper gives nothing to summarize.
        """


_S = TypeVar("_S", bound=Summarizer)


def register(cls: type[_S]) -> type[_S]:
    """Class decorator: make `cls` available under `cls.name` (to `get` and podcast.toml).

    Raises TypeError for a class that cannot be an engine, and ValueError when the name is taken
    by another class (a built-in name belongs to its built-in module).
    """
    if not (inspect.isclass(cls) and issubclass(cls, Summarizer)):
        raise TypeError(f"{cls!r} is not a Summarizer subclass")
    name = cls.__dict__.get("name")
    if not isinstance(name, str) or not name.strip():
        raise TypeError(f"{cls.__qualname__} must set a class attribute `name`, e.g. name = 'mine'")
    if inspect.isabstract(cls):
        raise TypeError(f"{cls.__qualname__} does not implement summarize()")
    owner = BUILTIN.get(name)
    if owner is not None and cls.__module__ != owner:
        raise ValueError(f"summarizer name {name!r} is built in ({owner}); pick another name")
    taken = _REGISTRY.get(name)
    if taken is not None and _qualified(taken) != _qualified(cls):
        raise ValueError(f"summarizer name {name!r} is already registered by {_qualified(taken)}")
    _REGISTRY[name] = cls
    return cls


def names() -> list[str]:
    """Every engine name `get` accepts, sorted; built-ins are listed without being imported."""
    shipped = {name for name, module in BUILTIN.items() if importlib.util.find_spec(module) is not None}
    return sorted(shipped | _REGISTRY.keys())


def get(name: str) -> type[Summarizer]:
    """The engine class registered as `name`, importing a built-in one on first use."""
    if name not in _REGISTRY and name in BUILTIN:
        _import_builtin(name)
    if name not in _REGISTRY:
        raise EngineError(f"unknown summarizer {name!r}; known: {', '.join(names())}")
    return _REGISTRY[name]


def load(settings: SummarizerSettings) -> Summarizer:
    """The engine that `settings.engine` names, set up once to summarize many papers."""
    return get(settings.engine)(settings)


def _import_builtin(name: str) -> None:
    module = BUILTIN[name]
    try:
        importlib.import_module(module)
    except ModuleNotFoundError as e:
        if e.name == module:  # not shipped in this version: `get` reports it as unknown
            return
        package = (e.name or "?").split(".")[0]
        raise EngineError(
            f"summarizer {name!r} needs the Python package {package!r}: pip install {package}"
        ) from e
    except ImportError as e:
        raise EngineError(f"summarizer {name!r} cannot be loaded: {e}") from e


def _qualified(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"
