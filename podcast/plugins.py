"""Engines by name: the voice engines and summarizers that installed packages declare.

A package offers an engine through an entry point in its pyproject.toml: group "papercast.tts" for a
voice engine (a `podcast.tts.TTSEngine` subclass) or "papercast.summarizers" for a summarizer (a
`podcast.summarize.Summarizer` subclass), the engine's name as the key and "module:Class" as the value.
papercast declares its own engines the same way, so they are found like anyone else's. Listing the
names reads the installed packages' metadata only; an engine's module is imported when the engine is
asked for. A class can also be registered in this process (tests, a script that defines its own).
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from typing import Any, Generic, TypeVar, cast

from podcast.errors import EngineError

E = TypeVar("E")

DISTRIBUTION = "papercast"
"""The distribution whose entry points are the built-in engines."""


@dataclass(frozen=True)
class Provider:
    """Where an engine of some name comes from."""

    name: str
    """The engine's name, as voice profiles and podcast.toml write it."""
    package: str
    """The installed distribution that declares it ("papercast" for the built-in engines); for a class
    registered in this process, its module."""
    target: str
    """The class, as "module:QualifiedName"."""


class Registry(Generic[E]):
    """The engines of one kind by name: those installed packages declare in the entry point group
    `group`, and classes registered in this process. A name declared by two packages is an error when
    that name is used, naming both, so neither package silently wins."""

    def __init__(self, group: str, base: type, kind: str) -> None:
        self.group = group
        """The entry point group, e.g. "papercast.tts"."""
        self.base = base
        """The class every engine of this kind subclasses."""
        self.kind = kind
        """How messages name one engine, e.g. "TTS engine"."""
        self._local: dict[str, type[E]] = {}
        self._loaded: dict[str, type[E]] = {}
        self._declared: dict[str, list[tuple[Provider, metadata.EntryPoint]]] | None = None

    # -- what is there, from metadata only --------------------------------------------------------------

    def names(self) -> list[str]:
        """Every engine name, sorted; no engine module is imported."""
        return sorted(self._entry_points().keys() | self._local.keys())

    def providers(self, name: str) -> list[Provider]:
        """Who offers `name`: one provider, several (a clash), or none (unknown)."""
        if name in self._local:
            return [_provider(name, self._local[name])]
        return [p for p, _ in self._entry_points().get(name, [])]

    def provider(self, name: str) -> Provider:
        """The one provider of `name`; EngineError when no package offers it or two do."""
        found = self.providers(name)
        if not found:
            # None at all means no package metadata was found: papercast itself runs uninstalled.
            known = ", ".join(self.names()) or "none (install papercast to find its own: pip install -e .)"
            raise EngineError(f"unknown {self.kind} {name!r}; known: {known}")
        if len(found) > 1:
            who = " and ".join(f"{p.package} ({p.target})" for p in found)
            raise EngineError(
                f"{self.kind} {name!r} is declared by two packages: {who}; uninstall one of them"
            )
        return found[0]

    # -- the classes ---------------------------------------------------------------------------------

    def get(self, name: str) -> type[E]:
        """The engine class named `name`, its module imported on first use; EngineError naming the
        package when the name is unknown or taken twice, its module fails to import, or what the entry
        point names is not an engine of this kind called `name`."""
        if name in self._local:
            return self._local[name]
        if name not in self._loaded:
            provider = self.provider(name)
            entry = next(ep for p, ep in self._entry_points()[name] if p == provider)
            self._loaded[name] = self._load(provider, entry)
        return self._loaded[name]

    def register(self, cls: type[E]) -> type[E]:
        """Class decorator: make `cls` available in this process under `cls.name`.

        TypeError for a class that cannot be an engine; ValueError when an installed package declares
        the name for another class, or another class was registered under it.
        """
        problem = self._problem(cls)
        if problem:
            raise TypeError(problem)
        name: str = cast(Any, cls).name
        for p in self.providers(name):
            if p.target == _target(cls):
                continue
            if name in self._local:
                raise ValueError(f"{self.kind} name {name!r} is already registered by {p.target}")
            owner = "built in" if p.package == DISTRIBUTION else f"declared by package {p.package}"
            raise ValueError(f"{self.kind} name {name!r} is {owner} ({p.target}); pick another name")
        self._local[name] = cls
        return cls

    def unregister(self, name: str) -> None:
        """Forget the class registered in this process as `name` (installed packages' stay)."""
        self._local.pop(name, None)

    @contextmanager
    def registered(self, cls: type[E]) -> Iterator[type[E]]:
        """`cls` registered for the duration of a `with` block, e.g. one test."""
        self.register(cls)
        try:
            yield cls
        finally:
            self.unregister(cast(Any, cls).name)

    # -- helpers -------------------------------------------------------------------------------------

    def _entry_points(self) -> dict[str, list[tuple[Provider, metadata.EntryPoint]]]:
        # Read once per process: packages installed while it runs are found by the next one.
        if self._declared is None:
            declared: dict[str, list[tuple[Provider, metadata.EntryPoint]]] = {}
            for ep in metadata.entry_points(group=self.group):
                package = ep.dist.name if ep.dist is not None else "?"
                provider = Provider(ep.name, package, ep.value)
                claims = declared.setdefault(ep.name, [])
                if provider not in (p for p, _ in claims):
                    claims.append((provider, ep))
            self._declared = declared
        return self._declared

    def _load(self, provider: Provider, entry: metadata.EntryPoint) -> type[E]:
        where = f"{self.kind} {provider.name!r} of package {provider.package} ({provider.target})"
        try:
            obj = entry.load()
        except ModuleNotFoundError as e:
            missing = e.name or "?"
            if entry.module == missing or entry.module.startswith(missing + "."):
                raise EngineError(f"{where}: no module {missing!r}; reinstall {provider.package}") from e
            package = missing.split(".")[0]
            raise EngineError(f"{where} needs the Python package {package!r}: pip install {package}") from e
        except Exception as e:  # a plugin's import can fail in any way; report it in one line
            raise EngineError(f"{where} cannot be loaded: {type(e).__name__}: {_one_line(e)}") from e
        problem = self._problem(obj, provider.name)
        if problem:
            raise EngineError(f"{where}: {problem}")
        return cast(type[E], obj)

    def _problem(self, cls: object, name: str | None = None) -> str | None:
        """Why `cls` cannot be the engine called `name` (any name when None), or None."""
        if not (inspect.isclass(cls) and issubclass(cls, self.base)):
            return f"{cls!r} is not a {self.base.__name__} subclass"
        own = cls.__dict__.get("name")
        if not isinstance(own, str) or not own.strip():
            return f"{cls.__qualname__} must set a class attribute `name`, e.g. name = 'mine'"
        if name is not None and own != name:
            return f"{cls.__qualname__} is named {own!r}, not {name!r}; make the two the same"
        if inspect.isabstract(cls):
            missing = sorted(getattr(cls, "__abstractmethods__", ()))
            return f"{cls.__qualname__} does not implement {', '.join(m + '()' for m in missing)}"
        return None


def _target(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def _provider(name: str, cls: type) -> Provider:
    return Provider(name, cls.__module__, _target(cls))


def _one_line(error: BaseException, limit: int = 200) -> str:
    text = " ".join(str(error).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
