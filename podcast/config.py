"""The show folder's TOML files, read strictly into frozen dataclasses.

A typo must fail at load, naming the file and the key: every table maps onto a dataclass, unknown
keys and wrong types are errors, and the message lists what is allowed.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
import types
import typing
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar, get_args, get_origin

from podcast.errors import ConfigError, EngineError
from podcast.models import Category, Show, VoiceProfile
from podcast.settings import (
    LINE,
    MAX_PAUSE,
    PROSE,
    TEXT,
    TOML_KEY,
    AudioSettings,
    FindSettings,
    MailSettings,
    PublishSettings,
    RenderSettings,
    ScriptSettings,
    SiteSettings,
    VoiceRoles,
)
from podcast.summarize.base import SummarizerSettings, resolve_engine
from podcast.writing.lexicon import Lexicon, load_lexicon

T = TypeVar("T")
PLACEHOLDER_HOSTS = ("example.com", "example.org", "example.net", "localhost")


@dataclass(frozen=True)
class ShowFile:
    """podcast.toml, key for key."""

    title: str = field(metadata=LINE)
    author: str = field(metadata=LINE)
    email: str = field(metadata=LINE)
    base_url: str = field(metadata=LINE)
    description: str = field(default="", metadata=PROSE)
    language: str = "en"
    category: str = "Technology"
    subcategory: str = ""
    explicit: bool = False
    cover: str = ""
    guid: str = field(default="", metadata=LINE)
    locked: bool = False
    copyright: str = field(default="", metadata=LINE)
    format: str = "duo"
    voices: VoiceRoles = field(default_factory=VoiceRoles)
    summarizer: SummarizerSettings = field(default_factory=SummarizerSettings)
    script: ScriptSettings = field(default_factory=ScriptSettings)
    audio: AudioSettings = field(default_factory=AudioSettings)
    publish: PublishSettings = field(default_factory=PublishSettings)
    find: FindSettings = field(default_factory=FindSettings)
    mail: MailSettings = field(default_factory=MailSettings)
    render: RenderSettings = field(default_factory=RenderSettings)
    site: SiteSettings = field(default_factory=SiteSettings)


@dataclass(frozen=True)
class VoiceFile:
    """voices/<id>.toml: the keys every profile has. Any other key is the engine's own: its Options
    (podcast.tts.TTSEngine) declare and check them."""

    engine: str
    """The engine's name, as `podcast voices` lists them."""
    voice: str
    """One of the engine's voices; for an engine that runs a model file, maybe the model's path."""
    name: str = field(default="", metadata=LINE)
    """How transcripts name the speaker; empty: the file's stem in title case."""
    speed: float = 1.0
    """0.5 to 2.0."""

    def __post_init__(self) -> None:
        if not 0.5 <= self.speed <= 2.0:
            raise ConfigError(f"speed must be between 0.5 and 2.0, not {self.speed}")


@dataclass(frozen=True)
class PaperEntry:
    """One [[papers]] table of episode.toml."""

    title: str = field(default="", metadata=LINE)
    id: str = field(default="", metadata=LINE)
    authors: tuple[str, ...] = field(default=(), metadata=LINE)
    url: str = field(default="", metadata=LINE)
    published: date | None = None
    abstract: str = field(default="", metadata=PROSE)
    pdf: str = ""
    """Path of a local PDF (relative to the episode folder) whose text is summarized; it must be in
    the show folder."""


@dataclass(frozen=True)
class EpisodeFile:
    """episode.toml, key for key."""

    title: str = field(metadata=LINE)
    date: date
    number: int = 0
    """itunes:episode; 0 means its position among the show's episodes by date."""
    guid: str = field(default="", metadata=LINE)
    """Stable item guid; empty means one derived from the folder name."""
    intro: str = field(default="", metadata=PROSE)
    outro: str = field(default="", metadata=PROSE)
    papers: tuple[PaperEntry, ...] = ()
    highlights: tuple[str, ...] = field(default=(), metadata=LINE)
    """Ids of the papers that get a full summary; the others get one sentence. Empty: all are full."""
    image: str = ""
    """The episode's art: a square JPEG/PNG of 1400-3000 px (relative to episode.toml, inside the
    show); empty: drawn from the title in the show cover's colors."""


@dataclass(frozen=True)
class ShowConfig:
    """Everything podcast.toml and voices/ say, resolved against the show folder."""

    root: Path
    show: Show
    format: str
    roles: VoiceRoles
    profiles: dict[str, VoiceProfile]
    summarizer: SummarizerSettings
    audio: AudioSettings
    publish: PublishSettings
    warnings: tuple[str, ...] = ()
    find: FindSettings = field(default_factory=FindSettings)
    lexicon: Lexicon = field(default_factory=Lexicon)
    """voices/lexicon.toml: how the voices should say the words they get wrong."""
    script: ScriptSettings = field(default_factory=ScriptSettings)
    """[script], its prompt path made absolute."""
    dialogue: bool = False
    """Each paper is an exchange between the hosts written by the LLM ([script] dialogue resolved)."""
    mail: MailSettings = field(default_factory=MailSettings)
    render: RenderSettings = field(default_factory=RenderSettings)

    @property
    def cache_dir(self) -> Path:
        return self.root / ".cache"

    @property
    def episodes_dir(self) -> Path:
        return self.root / "episodes"

    def speakers(self) -> tuple[str, str]:
        """(host, reader of summaries): the same profile twice in the solo format."""
        return (self.roles.host, self.roles.host if self.format == "solo" else self.roles.cohost)


# -- generic strict loading ------------------------------------------------------------------------


def read_toml(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML ({e}); fix the syntax") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: cannot read it ({e})") from None


def from_table(cls: type[T], table: dict[str, Any], where: str) -> T:
    """Build dataclass `cls` from a TOML table, rejecting unknown keys and wrong types.

    >>> from_table(VoiceFile, {"engine": "piper", "voice": "joe"}, "host.toml").speed
    1.0
    >>> from_table(VoiceFile, {"engine": "piper", "voyce": "joe"}, "host.toml")
    Traceback (most recent call last):
    ...
    podcast.errors.ConfigError: host.toml: unknown key 'voyce'; allowed: engine, voice, name, speed
    """
    assert dataclasses.is_dataclass(cls)
    fields = {f.metadata.get(TOML_KEY, f.name): f for f in dataclasses.fields(cls)}
    for key in table:
        if key not in fields:
            raise ConfigError(f"{where}: unknown key '{key}'; allowed: {', '.join(fields)}")
    hints = typing.get_type_hints(cls)
    values = {fields[key].name: _coerce(value, hints[fields[key].name], f"{where}: {key}")
              for key, value in table.items()}
    names = {f.name: f for f in fields.values()}
    for key, value in values.items():
        sanitize = names[key].metadata.get(TEXT)
        if sanitize is not None:
            values[key] = tuple(map(sanitize, value)) if isinstance(value, tuple) else sanitize(value)
    missing = [
        name
        for name, f in fields.items()
        if f.name not in values
        and f.default is dataclasses.MISSING
        and f.default_factory is dataclasses.MISSING
    ]
    if missing:
        raise ConfigError(f"{where}: missing required key '{missing[0]}'")
    try:
        return cls(**values)
    except ConfigError as e:  # a dataclass's own validation: add where it came from
        raise ConfigError(f"{where}: {e}") from None


def _coerce(value: Any, hint: Any, where: str) -> Any:
    origin, args = get_origin(hint), get_args(hint)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        return _coerce(value, inner[0], where)
    if dataclasses.is_dataclass(hint):
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a table")
        table_where = where.replace(": ", " [", 1) + "]" if ": " in where else where
        return from_table(typing.cast(type, hint), value, table_where)
    if origin is tuple:
        if not isinstance(value, list):
            raise ConfigError(f"{where}: expected a list")
        return tuple(_coerce(v, args[0], f"{where}[{i}]") for i, v in enumerate(value))
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint is date and isinstance(value, datetime):
        return value.date()
    if hint is date and isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise ConfigError(f"{where}: expected a date like 2024-05-10, got {value!r}") from None
    if not isinstance(value, hint) or (hint is int and isinstance(value, bool)):
        raise ConfigError(f"{where}: expected {_type_name(hint)}, got {type(value).__name__} {value!r}")
    return value


def _type_name(hint: Any) -> str:
    return {str: "a string", int: "an integer", float: "a number", bool: "true or false", date: "a date"}.get(
        hint, getattr(hint, "__name__", str(hint))
    )


# -- the show --------------------------------------------------------------------------------------


def find_root(start: Path) -> Path:
    """The show folder: `start` or the nearest parent holding podcast.toml."""
    root = _root_of(start)
    if root is None:
        raise ConfigError(
            f"no podcast.toml in {start.resolve()} or its parents; run 'podcast init DIR' to make a show"
        )
    return root


def _root_of(start: Path) -> Path | None:
    start = start.resolve()
    return next((d for d in (start, *start.parents) if (d / "podcast.toml").is_file()), None)


def in_show(
    root: Path, value: str, where: str, *, base: Path | None = None, what: str = "the file", hint: str = ""
) -> Path:
    """The path `value` that a show's TOML names under `where` (relative to `base`, by default the show
    folder `root`): ConfigError when it leads out of the show folder, by an absolute path, by '..' or
    by a symbolic link. What these keys name is read, published or sent to an LLM, so a show folder
    from someone else (a clone, a pull request) must not reach the rest of the disk. The error says to
    copy `what` into the show (`hint`: where, e.g. "music/").
    """
    path = (base or root) / value
    try:
        inside = path.resolve().is_relative_to(root.resolve())
    except (OSError, RuntimeError):  # a loop of symbolic links
        inside = False
    if not inside:
        raise ConfigError(
            f"{where} {value!r} leads outside the show folder {root}; copy {what} into the show"
            f"{f' (e.g. to {hint})' if hint else ''} and give that path (a symbolic link out of the show "
            "is refused too)"
        )
    return path


def load_show(root: Path) -> ShowConfig:
    path = root / "podcast.toml"
    raw = from_table(ShowFile, read_toml(path), str(path))
    warnings: list[str] = []
    base_url = _check_base_url(raw.base_url, path, warnings)
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", raw.email):
        raise ConfigError(f"{path}: email {raw.email!r} is not an email address (Apple requires the owner's)")
    if raw.format not in ("solo", "duo"):
        raise ConfigError(f'{path}: format must be "solo" or "duo", not {raw.format!r}')
    if not re.fullmatch(r"[a-z]{2,3}(-[A-Za-z]{2,4})?", raw.language):
        raise ConfigError(f'{path}: language {raw.language!r} is not an ISO 639 code like "en" or "en-US"')
    _check_category(raw.category, raw.subcategory, path)
    cover = in_show(root, raw.cover, f"{path}: cover", what="the image") if raw.cover else None
    if cover is not None and not cover.is_file():
        raise ConfigError(f"{path}: cover {raw.cover!r} not found; give a square JPEG/PNG or leave it empty")
    if raw.audio.bitrate not in (96, 112, 128):
        raise ConfigError(f"{path} [audio]: bitrate must be 96, 112 or 128 (kbps), not {raw.audio.bitrate}")
    if not -30.0 <= raw.audio.loudness <= -10.0 or not -12.0 <= raw.audio.true_peak <= 0:
        raise ConfigError(f"{path} [audio]: loudness must be -30..-10 LUFS and true_peak -12..0 dBTP")
    for key in ("sentence_pause", "line_pause", "section_pause"):
        # The mix allocates these as silence: a negative or absurd one is a mistake, never a request.
        if not 0.0 <= (pause := getattr(raw.audio, key)) <= MAX_PAUSE:
            raise ConfigError(f"{path} [audio]: {key} must be 0..{MAX_PAUSE:g} seconds, not {pause}")
    if not -60.0 <= raw.audio.music_gain <= 0.0:
        raise ConfigError(f"{path} [audio]: music_gain must be -60..0 dB, not {raw.audio.music_gain}")
    for key in ("intro_music", "outro_music", "stinger"):  # read from the show folder by the mix
        if name := getattr(raw.audio, key):
            in_show(root, name, f"{path} [audio]: {key}", what="the audio file", hint="music/")
    show = Show(
        title=raw.title,
        description=raw.description or raw.title,
        author=raw.author,
        email=raw.email,
        language=raw.language,
        base_url=base_url,
        category=Category(raw.category, raw.subcategory),
        explicit=raw.explicit,
        cover=cover,
        guid=raw.guid,
        locked=raw.locked,
        copyright=raw.copyright,
        site=raw.site,
    )
    profiles = load_voices(root / "voices")
    for role, profile_id in (("host", raw.voices.host), ("cohost", raw.voices.cohost)):
        if raw.format == "solo" and role == "cohost":
            continue
        if profile_id not in profiles:
            raise ConfigError(
                f"{path} [voices]: {role} = {profile_id!r} but there is no voices/{profile_id}.toml; "
                f"profiles: {', '.join(sorted(profiles)) or 'none'}"
            )
    summarizer = _summarizer(raw.summarizer, root, path)
    script_settings, dialogue = _script(raw.script, raw.format, summarizer, root, path)
    speakers = (raw.voices.host, raw.voices.cohost) if raw.format == "duo" else (raw.voices.host,)
    show = dataclasses.replace(show, hosts=tuple(dict.fromkeys(profiles[p].name for p in speakers)))
    return ShowConfig(
        root=root,
        show=show,
        format=raw.format,
        roles=raw.voices,
        profiles=profiles,
        summarizer=summarizer,
        audio=raw.audio,
        publish=raw.publish,
        warnings=tuple(warnings),
        find=raw.find,
        lexicon=load_lexicon(root / "voices" / "lexicon.toml"),
        script=script_settings,
        dialogue=dialogue,
        mail=raw.mail,
        render=raw.render,
    )


def _summarizer(settings: SummarizerSettings, root: Path, path: Path) -> SummarizerSettings:
    """[summarizer] with the engine chosen (see resolve_engine) and the prompt file found in the show."""
    prompt = _prompt_file(settings.prompt, root, f"{path} [summarizer]")
    return resolve_engine(dataclasses.replace(settings, prompt=prompt))


def _prompt_file(name: str, root: Path, where: str) -> str:
    """The absolute path of a prompt file named in podcast.toml (relative to the show), or ""."""
    if not name:
        return ""
    prompt = in_show(root, name, f"{where}: prompt", what="the prompt file")
    if not prompt.is_file():
        raise ConfigError(
            f"{where}: prompt {name!r} not found; give a text file "
            "(relative to the show folder) or leave it empty for the built-in prompt"
        )
    return str(prompt)


def _script(
    settings: ScriptSettings, fmt: str, summarizer: SummarizerSettings, root: Path, path: Path
) -> tuple[ScriptSettings, bool]:
    """[script] with its prompt file found in the show, and whether papers are exchanges: "on", or
    "auto" with the duo format and the "openai" summarizer."""
    settings = dataclasses.replace(settings, prompt=_prompt_file(settings.prompt, root, f"{path} [script]"))
    if settings.dialogue == "on" and fmt != "duo":
        raise ConfigError(
            f'{path} [script]: dialogue = "on" needs two hosts; set format = "duo" or dialogue = "auto"'
        )
    if settings.dialogue == "auto":
        return settings, fmt == "duo" and summarizer.engine == "openai"
    return settings, settings.dialogue == "on"


def _check_base_url(url: str, path: Path, warnings: list[str]) -> str:
    m = re.fullmatch(r"(https?)://([^/\s?#]+)(/[^\s?#]*)?", url)
    if not m:
        raise ConfigError(
            f"{path}: base_url {url!r} must be an absolute http(s) URL like https://host/podcast/"
        )
    host = m.group(2).split(":")[0]
    if host in PLACEHOLDER_HOSTS or host.endswith(".example") or host.endswith(".invalid"):
        warnings.append(f"{path}: base_url {url!r} is a placeholder; set it to where the site will be served")
    return url if url.endswith("/") else url + "/"


def _check_category(name: str, sub: str, path: Path) -> None:
    from podcast.publish.categories import APPLE_CATEGORIES

    if name not in APPLE_CATEGORIES:
        raise ConfigError(f'{path}: category {name!r} is not an Apple Podcasts category; e.g. "Technology"')
    if sub and sub not in APPLE_CATEGORIES[name]:
        subs = ", ".join(APPLE_CATEGORIES[name]) or "none"
        raise ConfigError(f"{path}: subcategory {sub!r} is not one of {name!r}'s: {subs}")


def load_voices(folder: Path) -> dict[str, VoiceProfile]:
    """Every voices/*.toml except lexicon.toml, keyed by file stem, each checked by its engine."""
    return {
        path.stem: voice_profile(path.stem, read_toml(path), str(path), folder.parent)
        for path in sorted(folder.glob("*.toml"))
        if path.stem != "lexicon"
    }


def voice_profile(pid: str, table: dict[str, Any], where: str, show: Path | None = None) -> VoiceProfile:
    """A checked profile from a voice profile's table: VoiceFile's keys, and the engine's own, which its
    Options declare and check as strictly (an unknown key or a wrong type is an error naming `where`
    and the key). Relative paths (the voice of an engine that runs a model file, options marked as
    paths) are taken from the `show` folder when one is given.

    Options left at their defaults are dropped: a profile that sets none keys its audio as before the
    engine had any.
    """
    from podcast.tts import get_engine
    from podcast.tts.base import PATH

    own = [f.name for f in dataclasses.fields(VoiceFile)]
    raw = from_table(VoiceFile, {k: v for k, v in table.items() if k in own}, where)
    try:
        engine = get_engine(raw.engine)
    except EngineError as e:
        raise ConfigError(f"{where}: {e}") from None
    extra = {k: v for k, v in table.items() if k not in own}
    for key in extra:
        if key not in engine.profile_keys:
            allowed = ", ".join([*own, *engine.profile_keys])
            raise ConfigError(
                f"{where}: the {raw.engine} engine does not use '{key}'; remove it (allowed: {allowed})"
            )
    options = from_table(engine.Options, extra, where)
    settings = []
    for f in dataclasses.fields(options):
        value = getattr(options, f.name)
        if f.default is not dataclasses.MISSING and value == f.default:
            continue
        if f.metadata.get(PATH):
            value = _in_show(value, show, f"{where}: {f.name}")
        settings.append((f.name, value))
    voice = _in_show(raw.voice, show, f"{where}: voice") if engine.voice_may_be_path else raw.voice
    name = raw.name or pid.replace("-", " ").title()
    settings.sort(key=lambda kv: kv[0])
    return VoiceProfile(pid, name, raw.engine, voice, raw.speed, tuple(settings))


def _in_show(path: str, root: Path | None, where: str) -> str:
    """A voice profile's path (or a voice's name), kept in the show folder when there is one (see
    `in_show`); one that exists there, when relative, made absolute, so any working folder works."""
    if root is None or not path:
        return path
    found = in_show(root, path, where, what="the model file", hint="voices/")
    if Path(path).is_absolute() or not found.exists():
        return path
    return str(found.resolve())


def load_episode(folder: Path) -> EpisodeFile:
    path = folder / "episode.toml"
    if not folder.is_dir():
        raise ConfigError(f"{folder}: no such episode folder; create one with 'podcast new {folder} ...'")
    ep = from_table(EpisodeFile, read_toml(path), str(path))
    if not ep.title.strip():
        raise ConfigError(f"{path}: title is empty; give the episode a title")
    if not ep.papers:
        raise ConfigError(f"{path}: no [[papers]]; add at least one paper")
    root = _root_of(folder) or folder
    for i, p in enumerate(ep.papers, 1):
        if not (p.title.strip() or p.id.strip()):
            raise ConfigError(f"{path}: paper {i} has neither a title nor an id")
        if p.pdf:
            hint = "papers/ beside episode.toml"
            in_show(root, p.pdf, f"{path}: paper {i} pdf", base=folder, what="the PDF", hint=hint)
    if ep.image and not in_show(root, ep.image, f"{path}: image", base=folder, what="the image").is_file():
        raise ConfigError(f"{path}: image {ep.image!r} not found; give a square JPEG/PNG or leave it empty")
    return ep
