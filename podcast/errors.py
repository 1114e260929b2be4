"""One family of errors. The library raises them; only the CLI turns them into `error: ...` and exit 1.

Each message says what is wrong and what to do, naming the file (and key or line) when there is one.
"""


class PodcastError(Exception):
    """Anything the user can fix: bad input, a missing file, an engine that cannot run here."""


class ConfigError(PodcastError):
    """podcast.toml, episode.toml, a voice profile or the lexicon is missing or malformed."""


class InputError(PodcastError):
    """Content given to a command (a newsletter, a PDF, a paper id) cannot be used."""


class EngineError(PodcastError):
    """A summarizer or TTS engine failed, or is unknown, or cannot run on this machine."""


class AudioError(PodcastError):
    """Mixing, mastering or encoding failed (ffmpeg errors include the command and its stderr)."""


class PublishError(PodcastError):
    """Writing or uploading the site failed, or a published site does not pass `podcast check`."""
