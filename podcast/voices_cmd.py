"""`podcast voices` and `podcast say`: which voices work on this machine, and any text spoken with one.

`say` speaks through the episode machinery itself (podcast.audio.render): the same speech normalization,
sentence splitting, line cache and mastering, so a voice sounds in a test clip exactly as it will
in an episode. Inside a show folder it uses the show's voice profiles, audio settings and cache;
elsewhere the voices `podcast init` writes, default audio settings and a per-user cache.
"""

from __future__ import annotations

import io
import os
import re
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from mutagen.id3 import ID3, TIT2, TPE1

from podcast.audio.render import Progress, Rendering, render
from podcast.config import ShowConfig, find_root, load_show, load_voices, voice_profile
from podcast.errors import ConfigError, EngineError, InputError
from podcast.fsutil import atomic_open
from podcast.models import Line, Script, Section, VoiceProfile
from podcast.settings import AudioSettings
from podcast.tts import ENGINES, TTSEngine, engine_names, get_engine
from podcast.writing.speech import speakable

DEFAULT_VOICES = Path(__file__).parent / "data" / "init" / "voices"
"""The profiles `podcast init` writes: what `say` offers outside a show."""
AD_HOC = "(--engine)"
"""Profile id of a voice given as --engine NAME --voice VOICE rather than as a profile."""
SECTION_CHARS = 2000
"""Paragraphs are grouped into sections of about this size: each is cached, and spoken in parallel."""
TITLE_WORDS = 8


# -- podcast voices --------------------------------------------------------------------------------


@dataclass(frozen=True)
class EngineStatus:
    name: str
    package: str
    """The installed package that provides the engine ("papercast" for the built-in ones); two
    packages that both declare the name are listed together, and the engine is unusable."""
    problem: str | None
    """Why the engine cannot be used here; None when it can."""
    voices: tuple[str, ...]


def engine_status(name: str) -> EngineStatus:
    """Whether engine `name` is usable here, who provides it, and its voices: cheap, no model loaded
    and no server called (the engine's module is imported)."""
    package = ", ".join(p.package for p in ENGINES.providers(name))
    try:
        cls = get_engine(name)
    except EngineError as e:
        return EngineStatus(name, package, str(e), ())
    try:
        voices = tuple(cls.voices())
    except ImportError:
        voices = ()
    return EngineStatus(name, package, cls.check(), voices)


def profile_problem(profile: VoiceProfile, engines: dict[str, EngineStatus]) -> str | None:
    """Why a voice profile cannot speak here, or None."""
    status = engines.get(profile.engine) or engine_status(profile.engine)
    if status.problem:
        return f"{profile.engine}: {status.problem}"
    return get_engine(profile.engine).check(profile.voice)


def voices_report(cfg: ShowConfig | None) -> str:
    """The `podcast voices` tables: every engine, then the show's profiles (or the default ones)."""
    engines = {name: engine_status(name) for name in engine_names()}
    rows = [["engine", "package", "usable", "voices here", "note"]]
    for s in engines.values():
        voices = _shorten(", ".join(s.voices), 40)
        rows.append([s.name, s.package, _yes(s.problem), voices, s.problem or ""])
    out = ["engines", *_table(rows), ""]
    if cfg is None:
        profiles, roles = load_voices(DEFAULT_VOICES), {"host": "host", "cohost": "cohost"}
        out.append("no show here (no podcast.toml): `podcast say` offers the voices `podcast init` writes")
    else:
        profiles = cfg.profiles
        roles = {cfg.roles.host: "host"}
        if cfg.format == "duo":
            roles.setdefault(cfg.roles.cohost, "cohost")
        out.append(f"voice profiles in {cfg.root / 'voices'}")
    rows = [["profile", "name", "role", "engine", "voice", "usable", "note"]]
    for pid, p in sorted(profiles.items()):
        problem = profile_problem(p, engines)
        model = dict(p.settings).get("model")
        voice = f"{p.voice} ({model})" if model else p.voice
        rows.append([pid, p.name, roles.get(pid, ""), p.engine, voice, _yes(problem), problem or ""])
    return "\n".join([*out, *_table(rows)])


def _yes(problem: str | None) -> str:
    return "no" if problem else "yes"


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1].rsplit(", ", 1)[0] + ", …"


def _table(rows: Sequence[Sequence[str]]) -> list[str]:
    """Rows as left-aligned columns, two spaces apart, indented by two.

    >>> _table([["a", "bb"], ["ccc", "d"]])
    ['  a    bb', '  ccc  d']
    """
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  " + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]


# -- podcast say -----------------------------------------------------------------------------------


def show_here(start: Path) -> ShowConfig | None:
    """The show whose folder holds `start`, or None outside any show (a broken show is an error)."""
    try:
        root = find_root(start)
    except ConfigError:
        return None
    return load_show(root)


def user_cache_dir() -> Path:
    """Where `say` caches outside a show: $XDG_CACHE_HOME/papercast, else the platform's cache folder."""
    if os.environ.get("XDG_CACHE_HOME"):
        base = Path(os.environ["XDG_CACHE_HOME"])
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    elif os.name == "nt":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    else:
        base = Path.home() / ".cache"
    return base / "papercast"


def pick_voice(
    cfg: ShowConfig | None,
    voice: str | None,
    engine: str | None = None,
    options: Mapping[str, str] | None = None,
) -> VoiceProfile:
    """The profile `say` speaks with: --engine NAME [--voice VOICE], else a profile (default: the host).

    `options` (--model, --instructions) set or override those keys of the profile; the engine
    checks them as it checks a profile's.
    """
    options = {k: v for k, v in (options or {}).items() if v}
    if engine:
        try:
            cls = get_engine(engine)
        except EngineError as e:
            raise ConfigError(f"--engine {engine}: {e}") from None
        voice = voice or _first_voice(cls)
        given = {"engine": engine, "voice": voice, "name": f"{engine} {voice}", **options}
        return voice_profile(AD_HOC, given, f"--engine {engine} --voice {voice}")
    profiles = cfg.profiles if cfg else load_voices(DEFAULT_VOICES)
    pid = voice or (cfg.roles.host if cfg else "host")
    if pid not in profiles:
        where = f"in {cfg.root / 'voices'}" if cfg else "outside a show"
        raise InputError(
            f"no voice profile {pid!r} {where}; profiles: {', '.join(sorted(profiles))} "
            "(or name an engine's voice: --engine NAME --voice VOICE)"
        )
    p = profiles[pid]
    if not options:
        return p
    table: dict[str, Any] = {"engine": p.engine, "voice": p.voice, "name": p.name, "speed": p.speed}
    flags = " ".join(f"--{key}" for key in options)
    return voice_profile(p.id, {**table, **dict(p.settings), **options}, f"voices/{pid}.toml with {flags}")


def _first_voice(cls: type[TTSEngine]) -> str:
    try:
        voices = cls.voices()
    except ImportError:
        voices = []
    if not voices:
        raise InputError(f"--engine {cls.name} needs --voice VOICE: it has no default voice")
    return voices[0]


def text_script(text: str, speaker: str, title: str) -> Script:
    """Any text as a script for one speaker: a line per paragraph, sections of about SECTION_CHARS.

    >>> s = text_script("One.\\n\\nTwo,\\nstill two.", "host", "t")
    >>> [ln.text for ln in s.sections[0].lines]
    ['One.', 'Two, still two.']
    """
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n[ \t\r]*\n", text.replace("\r\n", "\n"))]
    lines = [Line(speaker, p) for p in paragraphs if p and speakable(p).strip()]
    if not lines:
        raise InputError("nothing to say: the text has no words to speak")
    groups: list[list[Line]] = [[]]
    size = 0
    for line in lines:
        if groups[-1] and size + len(line.text) > SECTION_CHARS:
            groups.append([])
            size = 0
        groups[-1].append(line)
        size += len(line.text)
    return Script(tuple(Section("paper", f"{title} ({i})", tuple(g)) for i, g in enumerate(groups, 1)))


def title_of(text: str) -> str:
    """A title from the text's first words.

    >>> title_of("Hello there, this is a rather long sentence that goes on.")
    'Hello there, this is a rather long sentence…'
    """
    words = text.split()
    return " ".join(words[:TITLE_WORDS]) + ("…" if len(words) > TITLE_WORDS else "")


@dataclass(frozen=True)
class SaidReport:
    path: Path
    profile: VoiceProfile
    words: int
    duration: float
    sections: int
    spoken: int
    """Sections synthesized anew (the rest came from the cache)."""
    seconds: float


def say(
    text: str,
    out: Path,
    profile: VoiceProfile,
    audio: AudioSettings,
    cache_root: Path,
    *,
    title: str = "",
    workers: int | None = None,
    progress: Progress | None = None,
) -> SaidReport:
    """Speak `text` with `profile` into the MP3 `out` (44.1 kHz mono, mastered like an episode)."""
    t0 = time.perf_counter()
    if out.is_dir():
        raise InputError(f"{out} is a folder; give -o the name of the MP3 to write, e.g. {out / 'said.mp3'}")
    title = title or title_of(text)
    script = text_script(text, profile.id, title)
    # Sections here are only a unit of caching and parallel work: they are joined by the pause
    # between paragraphs, so the text sounds as if spoken in one piece.
    settings = replace(audio, section_pause=audio.line_pause)
    try:
        rendering = render(
            script, {profile.id: profile}, settings, cache_root, workers=workers, progress=progress
        )
    except EngineError as e:
        if profile.id != AD_HOC:
            raise
        # render names the profile's file; a voice given on the command line has none.
        where = f"--engine {profile.engine} --voice {profile.voice}"
        raise EngineError(str(e).replace(f"voices/{AD_HOC}.toml", where)) from None
    write_tagged(rendering, out, title, profile.name)
    spoken = len(rendering.synthesized_sections)
    words = len(text.split())
    return SaidReport(
        out, profile, words, rendering.duration, len(script.sections), spoken, time.perf_counter() - t0
    )


def write_tagged(rendering: Rendering, out: Path, title: str, artist: str) -> None:
    """The rendering's MP3 frames behind an ID3v2.3 tag (title, artist), written atomically."""
    tags = ID3()
    tags.add(TIT2(encoding=3, text=title))
    tags.add(TPE1(encoding=3, text=artist))
    head = io.BytesIO()
    tags.save(head, v2_version=3)
    with atomic_open(out, "wb") as f:
        f.write(head.getvalue())
        rendering.write_frames(f)
