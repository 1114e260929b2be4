"""The static site's pages: the show's index, one page per episode, and a newsletter feed for readers.

Pages are Jinja2 templates shipped in podcast/templates/; a show overrides any of them by putting a
file of the same name in its own templates/ folder (pass it in `template_dirs`). Every link between
published files is relative, so the site works from a folder on disk as well as from a server:

    index.html  feed.xml  <cover>  newsletter.xml
    episodes/<slug>/index.html  embed.html  episode.jpg  <slug>.mp3  chapters.json  transcript.vtt|srt|json

`render_site` makes every page and each episode's art; the front page carries the search index
(each episode's words) as JSON inside it, so search works from a folder on disk too.
"""

from __future__ import annotations

import html
import json
import re
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
from podcast.publish.feed import (
    EMBED_PAGE,
    EPISODE_IMAGE,
    channel_description,
    clip_title,
    episode_path,
    episode_url,
    xml_text,
)
from podcast.publish.markup import NEWSLETTER, NOTES, safe_html, text_html
from podcast.writing.newsletter import format_clock

__all__ = [
    "NEWSLETTER_FEED",
    "EpisodeSource",
    "episode_page",
    "render_episode_page",
    "render_index",
    "render_newsletter_feed",
    "render_site",
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


@dataclass(frozen=True)
class EpisodeSource:
    """An episode's record with what its page shows besides: the newsletter's HTML and the transcript."""

    ep: BuiltEpisode
    newsletter_html: str
    cues: tuple[Cue, ...] = ()
    art: Path | None = None
    """The episode's own art (episode.toml's image); None: drawn from its title."""


def render_site(
    show: Show,
    sources: Sequence[EpisodeSource],
    cover_name: str,
    *,
    template_dirs: Sequence[Path] = (),
    cache_root: Path | None = None,
) -> dict[str, bytes]:
    """Every page of the site and each episode's art, by site-relative path: the art first, then each
    episode's page (linked to the episodes before and after it) and embeddable player, then index.html
    with the search index. `cache_root` keeps the drawn art between publishes."""
    from podcast.episode.cover import episode_art, episode_cover

    oldest_first = sorted(sources, key=lambda s: (s.ep.published, s.ep.number, s.ep.slug))
    files = {
        episode_path(s.ep, EPISODE_IMAGE): episode_art(s.art) if s.art else episode_cover(
            show.title, s.ep.title, f"Episode {s.ep.number} · {show.title}", cache_root
        )
        for s in oldest_first
    }
    for i, s in enumerate(oldest_first):
        before = oldest_first[i - 1].ep if i else None
        after = oldest_first[i + 1].ep if i + 1 < len(oldest_first) else None
        page = render_episode_page(show, s.ep, s.newsletter_html, s.cues, cover_name,
                                   template_dirs=template_dirs, previous=before, following=after)
        files[episode_page(s.ep.slug)] = page.encode("utf-8")
        embed = _render(template_dirs, "embed.html", show=show, ep=s.ep, episode_image=EPISODE_IMAGE)
        files[episode_path(s.ep, EMBED_PAGE)] = embed.encode("utf-8")
    index = render_index(show, [s.ep for s in sources], cover_name, template_dirs=template_dirs,
                         search=search_index(sources))
    files["index.html"] = index.encode("utf-8")
    return files


def render_index(
    show: Show,
    episodes: Sequence[BuiltEpisode],
    cover_name: str,
    *,
    template_dirs: Sequence[Path] = (),
    search: Sequence[Mapping[str, str]] = (),
) -> str:
    """The site's front page: the show and its cover, how to subscribe, and the episodes newest first,
    with a search over `search` (see `search_index`; empty: no search box)."""
    return _render(
        template_dirs,
        "index.html",
        show=show,
        episodes=_newest_first(episodes),
        cover_name=cover_name,
        root="",
        newsletter_feed=NEWSLETTER_FEED,
        episode_page=episode_page,
        search_json=script_json(list(search)) if search else "",
    )


_WORD = re.compile(r"\w+")


def search_index(sources: Sequence[EpisodeSource]) -> list[dict[str, str]]:
    """Per episode, its slug and the distinct words (lower case, first use first) of its title,
    newsletter and transcript: what the front page's search matches against, a few kB per episode."""
    return [
        {
            "slug": s.ep.slug,
            "title": _words(s.ep.title),
            "newsletter": _words(_html_text(s.newsletter_html)),
            "transcript": _words(" ".join(c.text for c in s.cues)),
        }
        for s in sources
    ]


def _words(text: str) -> str:
    return " ".join(dict.fromkeys(_WORD.findall(text.lower())))


def _html_text(fragment: str) -> str:
    import lxml.html

    if not fragment.strip():
        return ""
    root = lxml.html.fragment_fromstring(safe_html(fragment, NEWSLETTER), create_parent="div")
    return str(root.text_content())


def script_json(value: Any) -> Markup:
    r"""JSON to put inside a <script type="application/json"> element: no "<", ">" or "&" in it, so no
    text in the data can close the element or open a comment.

    >>> print(script_json({"t": "</script><!--"}))
    {"t": "\u003c/script\u003e\u003c!--"}
    """
    text = json.dumps(value, ensure_ascii=False)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def render_episode_page(
    show: Show,
    ep: BuiltEpisode,
    newsletter_html: str,
    cues: Sequence[Cue],
    cover_name: str,
    *,
    template_dirs: Sequence[Path] = (),
    previous: BuiltEpisode | None = None,
    following: BuiltEpisode | None = None,
) -> str:
    """An episode's page (episodes/<slug>/index.html): player, chapters, newsletter and transcript,
    how to subscribe and share, and links to the `previous` and `following` episodes.

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
        previous=previous,
        following=following,
        episode_image=EPISODE_IMAGE,
        embed_page=EMBED_PAGE,
        page_url=episode_url(show, ep),
        embed_snippet=embed_snippet(show, ep),
    )


def embed_snippet(show: Show, ep: BuiltEpisode) -> str:
    """The HTML another site pastes to show the episode's player (its title escaped for an attribute)."""
    src, title = html.escape(episode_url(show, ep, EMBED_PAGE)), html.escape(clip_title(ep.title))
    return (f'<iframe src="{src}" title="{title}" width="100%" height="180" style="border:0" '
            'loading="lazy"></iframe>')


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
    env.filters.update(clock=format_clock, minutes=_minutes, longdate=_longdate, filesize=_filesize,
                       whole_minutes=_whole_minutes)
    return env


def _minutes(seconds: float) -> str:
    """A duration for people: "42 min", "1 h 05 min".

    >>> _minutes(29.6), _minutes(3900)
    ('1 min', '1 h 05 min')
    """
    m = max(1, round(seconds / 60))
    return f"{m // 60} h {m % 60:02d} min" if m >= 60 else f"{m} min"


def _whole_minutes(seconds: float) -> int:
    """A length in minutes, as "the 4-minute brief" says it: at least 1.

    >>> _whole_minutes(232.0), _whole_minutes(20.0)
    (4, 1)
    """
    return max(1, round(seconds / 60))


def _longdate(when: date) -> str:
    """A locale-independent date: "28 November 2025"."""
    return f"{when.day} {when:%B %Y}"


def _filesize(n: int) -> str:
    """Bytes for people: "23.4 MB".

    >>> _filesize(23_400_000), _filesize(900)
    ('23.4 MB', '1 kB')
    """
    return f"{n / 1e6:.1f} MB" if n >= 1e6 else f"{max(1, round(n / 1e3))} kB"
