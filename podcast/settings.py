"""The tables of podcast.toml other than the show's own keys: one frozen dataclass per table.

config.py reads them strictly (unknown keys and wrong types fail at load); each dataclass checks its
own values in __post_init__. Light imports only: every command loads these.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from podcast.errors import ConfigError
from podcast.text import clean, one_line

TEXT = "papercast.text"
"""Metadata key of a field holding text (a string or a tuple of strings) that `from_table` passes
through its value, podcast.text's clean or one_line: text is made safe where it enters."""
LINE = {TEXT: one_line}
"""Metadata of a field of one-line text: a title, a name, an id."""
PROSE = {TEXT: clean}
"""Metadata of a field of text that may hold paragraphs."""


@dataclass(frozen=True)
class VoiceRoles:
    """Which voice profile (a file stem in voices/) plays which part."""

    host: str = "host"
    """Opens the show, introduces each paper, closes."""
    cohost: str = "cohost"
    """Reads the summaries in the duo format."""


@dataclass(frozen=True)
class AudioSettings:
    loudness: float = -16.0
    """Integrated loudness target, LUFS as heard on two speakers (a mono file measured dual-mono)."""
    true_peak: float = -1.0
    """Ceiling in dBTP; the limiter aims a little lower so MP3 encoding cannot overshoot it."""
    bitrate: int = 96
    """Constant MP3 bitrate in kbps (Apple accepts 96-128 for speech)."""
    sentence_pause: float = 0.3
    """Silence between sentences of one speaker, in seconds."""
    line_pause: float = 0.55
    """Silence when the speaker changes or a new paragraph starts."""
    section_pause: float = 1.1
    """Silence at the end of the intro, of each paper and before the outro."""
    intro_music: str = ""
    outro_music: str = ""
    stinger: str = ""
    """A short sound played between papers."""
    music_gain: float = -20.0
    """Level of the music bed under speech, dB relative to the voice."""


MAX_PAUSE = 10.0
"""Seconds: the longest pause [audio] may ask for."""

DIALOGUE_MODES = ("auto", "on", "off")


@dataclass(frozen=True)
class ScriptSettings:
    """The [script] table: how script.md is written."""

    dialogue: str = "auto"
    """In the duo format, each paper as a short exchange between the two hosts, written by the LLM
    the summarizer uses: "on", "off" (the co-host reads the summary), or "auto": on when the
    summarizer engine is "openai"."""
    prompt: str = ""
    """Path of a prompt file for the exchange (relative to the show folder in podcast.toml; absolute
    once loaded); empty means the built-in data/prompts/dialogue.md. "{host}" and "{cohost}" in it
    become the speakers' names."""
    minutes: float = 0.0
    """The episode's target length in minutes; 0: no target. The highest-ranked papers (those in
    `highlights`, then episode.toml's order) are narrated in full, the rest shortened to their first
    sentences or, when even one sentence each is too long, left out (podcast.writing.budget)."""
    brief_minutes: float = 0.0
    """The length of a brief built beside the full episode, in minutes (3-5 is typical); 0: no brief.
    Each paper gets one or two of its summary's first sentences, planned to this length like
    `minutes` (podcast.writing.brief); feeds offer it as the episode's podcast:alternateEnclosure."""

    def __post_init__(self) -> None:
        if self.dialogue not in DIALOGUE_MODES:
            raise ConfigError(f'dialogue must be "auto", "on" or "off", not {self.dialogue!r}')
        if not 0 <= self.minutes <= 600:
            raise ConfigError(f"minutes must be from 0 (no target) to 600, not {self.minutes}")
        if self.brief_minutes and not 1 <= self.brief_minutes <= 15:
            raise ConfigError(f"brief_minutes must be 0 (no brief) or from 1 to 15, not {self.brief_minutes}")


@dataclass(frozen=True)
class PublishSettings:
    site: str = "public"
    """Local folder the site is written to."""
    s3_endpoint: str = ""
    """Endpoint URL of S3-compatible storage; empty means AWS_ENDPOINT_URL or AWS itself."""


EXECUTORS = ("local", "ray")
"""Where lines can be spoken (podcast.audio.executors)."""


@dataclass(frozen=True)
class RenderSettings:
    """The [render] table: where the voices speak."""

    executor: str = "local"
    """"local": worker processes on this machine. "ray": Ray actors on the cluster RAY_ADDRESS names,
    else on a Ray started for the build (needs `pip install 'papercast[ray]'`). Mixing, mastering and
    encoding stay on this machine either way. `podcast build --executor` overrides it."""

    def __post_init__(self) -> None:
        if self.executor not in EXECUTORS:
            raise ConfigError(f'executor must be "local" or "ray", not {self.executor!r}')


ARXIV_CATEGORY = re.compile(r"[a-z]+(?:-[a-z]+)?(?:\.[A-Za-z]+(?:-[a-z]+)?)?")
"""cs.LG, hep-th, cond-mat.str-el, physics.comp-ph."""


@dataclass(frozen=True)
class FindSettings:
    """The [find] table: which arXiv papers `podcast find` lists, and how politely it asks."""

    categories: tuple[str, ...] = ("cs.LG", "cs.CL", "cs.AI")
    """arXiv categories; a paper in (or cross-listed to) any of them is listed."""
    include: tuple[str, ...] = field(default=(), metadata=LINE)
    """Terms of which a paper must mention at least one (title, abstract, authors); empty: any."""
    exclude: tuple[str, ...] = field(default=(), metadata=LINE)
    """Terms a listed paper must not mention."""
    max: int = 30
    """How many papers `podcast find` lists at most, newest first."""
    days: int = 7
    """Without --since, `podcast find` looks at this many days up to --until (default: today)."""
    arxiv_api: str = ""
    """The arXiv API URL; empty: https://export.arxiv.org/api/query. PODCAST_ARXIV_API_URL overrides."""
    delay: float = 3.0
    """Seconds between two requests to arXiv, which asks for at least 3."""
    full_text: bool = True
    """Build summaries from each arXiv paper's PDF (downloaded once), not only its abstract."""
    pick: int = 10
    """How many of the week's best-ranked papers `podcast week` puts in the episode (of the at most
    `max` it finds)."""

    def __post_init__(self) -> None:
        for cat in self.categories:
            if not ARXIV_CATEGORY.fullmatch(cat):
                raise ConfigError(f"categories: {cat!r} is not an arXiv category like cs.LG or hep-th")
        for name in ("include", "exclude"):
            if any(not term.strip() for term in getattr(self, name)):
                raise ConfigError(f"{name}: a term is empty; remove it")
        if not 1 <= self.max <= 1000:
            raise ConfigError(f"max must be from 1 to 1000, not {self.max}")
        if self.days < 1:
            raise ConfigError(f"days must be at least 1, not {self.days}")
        if self.delay < 0:
            raise ConfigError(f"delay must be 0 or more seconds, not {self.delay}")
        if not 1 <= self.pick <= 1000:
            raise ConfigError(f"pick must be from 1 to 1000, not {self.pick}")


HTTPS_URL = re.compile(r"https://[A-Za-z0-9.-]+(?::[0-9]{1,5})?(?:[/?#][!#-;=?-~]*)?")
"""An https URL of printable ASCII without quotes, spaces, angle brackets or backslashes: safe in an
attribute and in XML, and never javascript: or data:."""

SUBSCRIBE_APPS = (
    ("apple_podcasts", "Apple Podcasts"),
    ("spotify", "Spotify"),
    ("youtube_music", "YouTube Music"),
    ("overcast", "Overcast"),
    ("pocket_casts", "Pocket Casts"),
    ("amazon_music", "Amazon Music"),
)
"""The [site] keys of listening apps, in the order the pages show them, with their names."""


@dataclass(frozen=True)
class SiteSettings:
    """The [site] table: where else listeners find the show. Each value is an https URL or empty."""

    apple_podcasts: str = ""
    """The show's page in Apple Podcasts, once it is listed (https://podcasts.apple.com/...)."""
    spotify: str = ""
    """The show's page on Spotify (https://open.spotify.com/show/...)."""
    youtube_music: str = ""
    """The show's playlist on YouTube Music (https://music.youtube.com/playlist?list=...)."""
    overcast: str = ""
    """The show in Overcast (https://overcast.fm/itunes...)."""
    pocket_casts: str = ""
    """The show in Pocket Casts (https://pca.st/...)."""
    amazon_music: str = ""
    """The show in Amazon Music (https://music.amazon.com/podcasts/...)."""
    newsletter_url: str = ""
    """Where readers sign up for the newsletter by email (a Buttondown, Substack, ... signup page)."""

    def __post_init__(self) -> None:
        for name in (*(key for key, _ in SUBSCRIBE_APPS), "newsletter_url"):
            url = getattr(self, name)
            if url and not HTTPS_URL.fullmatch(url):
                raise ConfigError(f"{name} must be an https:// URL without spaces or quotes, not {url!r}")

    def apps(self) -> tuple[tuple[str, str], ...]:
        """(app name, URL) of each app the show is listed in, in SUBSCRIBE_APPS order."""
        return tuple((label, getattr(self, key)) for key, label in SUBSCRIBE_APPS if getattr(self, key))


TOML_KEY = "papercast.key"
"""Metadata key of a field whose key in the TOML file is not its name: `from`, a Python keyword."""

SMTP_TLS = ("starttls", "ssl", "none")
EMAIL_ADDRESS = re.compile(
    r"(?=.{3,254}\Z)(?=[^@]{1,64}@)[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)
"""An address of the mail `podcast mail` sends: ASCII, a dotted local part, a domain with a TLD."""


@dataclass(frozen=True)
class MailSettings:
    """The [mail] table: how `podcast mail` sends the newsletter. The password is never here: it is
    read from PODCAST_SMTP_PASSWORD."""

    smtp: str = field(default="", metadata=LINE)
    """The server as "host:port", e.g. "smtp.example.org:587"; empty: only --dry-run and --eml work."""
    sender: str = field(default="", metadata={**LINE, TOML_KEY: "from"})
    """The From address, "news@example.org" or "Papers & Pods <news@example.org>"; empty: the show's
    email, named after the show."""
    tls: str = "starttls"
    """"starttls" (port 587), "ssl" (port 465, TLS from the first byte) or "none" (a relay on this
    machine or network)."""
    user: str = field(default="", metadata=LINE)
    """The login; empty: no login."""
    per_minute: int = 60
    """Messages per minute at most, paced evenly."""
    unsubscribe: tuple[str, ...] = field(default=(), metadata=LINE)
    """Where a reader leaves the list: a "mailto:" address and/or an https URL ("{email}" in either
    becomes the reader's address). Mail providers require it of newsletters; `podcast mail` does too."""

    def __post_init__(self) -> None:
        if self.smtp:
            host, _, port = self.smtp.rpartition(":")
            if not host or not re.fullmatch(r"[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]", host) or not (
                port.isdigit() and 1 <= int(port) <= 65535
            ):
                raise ConfigError(f'smtp must be "host:port" like "smtp.example.org:587", not {self.smtp!r}')
        if self.tls not in SMTP_TLS:
            raise ConfigError(f'tls must be "starttls", "ssl" or "none", not {self.tls!r}')
        if self.sender and not EMAIL_ADDRESS.fullmatch(self.sender.rpartition("<")[2].rstrip(">").strip()):
            raise ConfigError('from must be an address like "news@example.org" or '
                              f'"Name <news@example.org>", not {self.sender!r}')
        if not 1 <= self.per_minute <= 100_000:
            raise ConfigError(f"per_minute must be from 1 to 100000, not {self.per_minute}")
        kinds = [_unsubscribe_kind(u) for u in self.unsubscribe]
        if len(set(kinds)) != len(kinds):
            raise ConfigError("unsubscribe: give at most one mailto: address and one https URL")

    @property
    def host(self) -> str:
        return self.smtp.rpartition(":")[0].strip("[]")

    @property
    def port(self) -> int:
        return int(self.smtp.rpartition(":")[2])


def _unsubscribe_kind(target: str) -> str:
    """"mailto" or "https" for a valid unsubscribe target; ConfigError for anything else."""
    bare = target.replace("{email}", "x")
    if target.startswith("mailto:"):
        address = bare[len("mailto:") :].partition("?")[0]
        if EMAIL_ADDRESS.fullmatch(address) and re.fullmatch(r"[!#-;=?-~]*", bare):
            return "mailto"
    elif HTTPS_URL.fullmatch(bare):
        return "https"
    raise ConfigError(f"unsubscribe: {target!r} is neither a mailto: address nor an https:// URL "
                      "(without spaces, quotes or angle brackets)")
