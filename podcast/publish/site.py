"""The static site's pages: the show's index, one page per episode, and a newsletter feed for readers.

Pages are Jinja2 templates shipped in podcast/templates/; a show overrides any of them by putting a
file of the same name in its own templates/ folder (pass it in `template_dirs`). Every link between
published files is relative, so the site works from a folder on disk as well as from a server:

    index.html  feed.xml  <cover>  newsletter.xml
    episodes/<slug>/index.html  <slug>.mp3  chapters.json  transcript.vtt|srt|json
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
from feedgen.feed import FeedGenerator
from markupsafe import Markup

from podcast.errors import ConfigError
from podcast.models import BuiltEpisode, Cue, Show
from podcast.publish.feed import channel_description, clip_title, xml_text
from podcast.publish.markup import NEWSLETTER, NOTES, safe_html, text_html
from podcast.writing.newsletter import format_clock

__all__ = [
    "NEWSLETTER_FEED",
    "episode_page",
    "render_episode_page",
    "render_index",
    "render_newsletter_feed",
]

NEWSLETTER_FEED = "newsletter.xml"
"""File name, at the site's root, of the readers' feed that `render_newsletter_feed` makes."""

_PACKAGE_TEMPLATES = Path(__file__).parent / "templates"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def episode_page(slug: str) -> str:
    """Where an episode's page lives, relative to the site's root."""
    return f"episodes/{slug}/index.html"


@dataclass(frozen=True)
class Turn:
    """Consecutive transcript cues by one speaker: printed as one paragraph."""

    speaker: str
    start: float
    cues: tuple[Cue, ...]


def render_index(
    show: Show, episodes: Sequence[BuiltEpisode], cover_name: str, *, template_dirs: Sequence[Path] = ()
) -> str:
    """The site's front page: the show and its cover, how to subscribe, and the episodes newest first."""
    return _render(
        template_dirs,
        "index.html",
        show=show,
        episodes=_newest_first(episodes),
        cover_name=cover_name,
        root="",
        newsletter_feed=NEWSLETTER_FEED,
        episode_page=episode_page,
    )


def render_episode_page(
    show: Show,
    ep: BuiltEpisode,
    newsletter_html: str,
    cues: Sequence[Cue],
    cover_name: str,
    *,
    template_dirs: Sequence[Path] = (),
) -> str:
    """An episode's page (episodes/<slug>/index.html): player, chapters, newsletter and transcript.

    `newsletter_html` is the output of `newsletter.render_html` (build/newsletter.html), cleaned to
    the newsletter's allowlist in case the file was edited by hand. The MP3, chapters.json and the
    transcripts are expected beside the page.
    """
    return _render(
        template_dirs,
        "episode.html",
        show=show,
        ep=ep,
        newsletter_html=Markup(safe_html(newsletter_html, NEWSLETTER)),
        turns=_turns(cues),
        cover_name=cover_name,
        root="../../",
        newsletter_feed=NEWSLETTER_FEED,
    )


def render_newsletter_feed(
    show: Show, episodes: Sequence[BuiltEpisode], newsletters: Mapping[str, str]
) -> bytes:
    """An RSS 2.0 feed for readers: one item per episode, its newsletter (slug -> HTML) as content.

    An episode missing from `newsletters` falls back to its show notes. Descriptions are escaped
    text and the newsletters are cleaned to the newsletter's allowlist (podcast.publish.markup), so
    a reader renders no markup a title, an author or a hand-edited file brought in. The same inputs
    give the same bytes: lastBuildDate is the newest episode's date, never the clock.
    """
    fg = FeedGenerator()
    fg.title(xml_text(f"{show.title}: the newsletter").strip())
    fg.link(href=show.base_url + NEWSLETTER_FEED, rel="self")  # feedgen's <link> is the last one added
    fg.link(href=show.base_url)
    fg.description(channel_description(show))
    fg.language(show.language)
    fg.generator("papercast")
    if show.copyright:
        fg.copyright(xml_text(show.copyright))
    eps = _newest_first(episodes)
    fg.lastBuildDate(eps[0].published if eps else _EPOCH)
    for ep in eps:
        page = show.base_url + quote(episode_page(ep.slug).removesuffix("index.html"))
        listen = f'<p><a href="{html.escape(page)}">Listen to the episode</a> ({_minutes(ep.duration)})</p>\n'
        letter = newsletters.get(ep.slug)
        if letter is None:
            body = safe_html(xml_text(ep.notes_html), NOTES)
        else:
            body = safe_html(xml_text(letter), NEWSLETTER)
        fe = fg.add_entry(order="append")
        fe.title(clip_title(ep.title))
        fe.link(href=page)
        fe.guid(page, permalink=True)
        fe.pubDate(ep.published)
        fe.description(text_html(xml_text(ep.description)) or text_html(xml_text(ep.title)))
        fe.content(listen + body, type="CDATA")
    return bytes(fg.rss_str(pretty=True, xml_declaration=True, encoding="UTF-8"))


def _newest_first(episodes: Sequence[BuiltEpisode]) -> list[BuiltEpisode]:
    return sorted(episodes, key=lambda e: (e.published, e.number), reverse=True)


def _turns(cues: Sequence[Cue]) -> list[Turn]:
    turns: list[Turn] = []
    for cue in cues:
        if turns and turns[-1].speaker == cue.speaker:
            last = turns[-1]
            turns[-1] = Turn(last.speaker, last.start, (*last.cues, cue))
        else:
            turns.append(Turn(cue.speaker, cue.start, (cue,)))
    return turns


def _render(template_dirs: Sequence[Path], name: str, **context: Any) -> str:
    env = _environment(tuple(Path(d) for d in template_dirs))
    try:
        return env.get_template(name).render(**context)
    except jinja2.TemplateSyntaxError as e:
        raise ConfigError(f"{e.filename or e.name}:{e.lineno}: {e.message}; fix the template") from e
    except jinja2.TemplateError as e:  # an override that names a variable or template we do not have
        raise ConfigError(f"template {name}: {e.message}; fix your templates/ override") from e


def _environment(template_dirs: tuple[Path, ...]) -> jinja2.Environment:
    """Templates from the show's folders first, then the package's (so a show overrides by file name).

    A fresh environment per page (a few ms): a cached one would miss an override file added later.
    """
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([*template_dirs, _PACKAGE_TEMPLATES]),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters.update(clock=format_clock, minutes=_minutes, longdate=_longdate, filesize=_filesize)
    return env


def _minutes(seconds: float) -> str:
    """A duration for people: "42 min", "1 h 05 min".

    >>> _minutes(29.6), _minutes(3900)
    ('1 min', '1 h 05 min')
    """
    m = max(1, round(seconds / 60))
    return f"{m // 60} h {m % 60:02d} min" if m >= 60 else f"{m} min"


def _longdate(when: date) -> str:
    """A locale-independent date: "28 November 2025"."""
    return f"{when.day} {when:%B %Y}"


def _filesize(n: int) -> str:
    """Bytes for people: "23.4 MB".

    >>> _filesize(23_400_000), _filesize(900)
    ('23.4 MB', '1 kB')
    """
    return f"{n / 1e6:.1f} MB" if n >= 1e6 else f"{max(1, round(n / 1e3))} kB"
