"""One episode's newsletter as mail: what every copy of it shares, read from the episode's build.

The body is the newsletter the episode page shows (build/newsletter.html), cleaned to the
newsletter's allowlist like the page cleans it, so a hand-edited file brings in no markup the site
would not show either. Links go to the published site (the show's base_url): a reader's mail client
has no relative paths to follow.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from podcast.errors import ConfigError
from podcast.models import BuiltEpisode, Show
from podcast.text import one_line


@dataclass(frozen=True)
class Edition:
    show: Show
    episode: BuiltEpisode
    body_html: str
    """The newsletter's HTML (no <html>/<body>), within the newsletter allowlist."""
    cover: str
    """The cover's file name at the site's root (feed.cover_name)."""

    @property
    def subject(self) -> str:
        """The episode title on one line: it goes into a header."""
        return one_line(self.episode.title) or self.episode.slug

    @property
    def page_url(self) -> str:
        from podcast.publish.feed import episode_url

        return episode_url(self.show, self.episode)

    @property
    def mp3_url(self) -> str:
        from podcast.publish.feed import episode_url

        return episode_url(self.show, self.episode, self.episode.audio)

    @property
    def cover_url(self) -> str:
        from podcast.publish.feed import site_url

        return site_url(self.show, self.cover)


def edition(show: Show, ep: BuiltEpisode, newsletter_html: str, cover: str) -> Edition:
    """The edition of a built episode whose newsletter HTML is `newsletter_html` (as built or edited)."""
    from podcast.publish.markup import NEWSLETTER, safe_html

    return Edition(show, ep, safe_html(newsletter_html, NEWSLETTER), cover)


def load_edition(show: Show, folder: Path) -> Edition:
    """The edition of the episode in `folder` (episodes/<slug>), from its build; ConfigError if unbuilt."""
    from podcast.episode import catalog
    from podcast.episode.files import MANIFEST
    from podcast.publish.feed import cover_name

    manifest = catalog.build_dir(folder) / MANIFEST
    if not manifest.is_file():
        raise ConfigError(f"{folder}: not built yet (no build/{MANIFEST}); run: podcast build {folder}")
    ep = catalog.load(manifest)
    path = catalog.record_files(folder, ep)[ep.newsletter_html]
    try:
        letter = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as e:
        why = e.strerror if isinstance(e, OSError) else "not UTF-8 text"
        raise ConfigError(f"{path}: cannot be read ({why}); rebuild the episode: "
                          f"podcast build {folder}") from None
    return edition(show, ep, letter, cover_name(show))
