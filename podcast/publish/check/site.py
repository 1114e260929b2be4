"""`podcast check` on a whole site: the feed, then each episode's files, then the pages and newsletter.xml.

Nothing here raises for a bad site: each broken rule is one `Problem`. Only a site folder that
does not exist, or an ffmpeg that cannot run, raises a PodcastError.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from podcast.errors import PublishError
from podcast.publish.check import chapters, feed, markup, media, pages, podcast_tags, sidecars
from podcast.publish.check.items import Item, ItemRules
from podcast.publish.check.media import MAX_TRUE_PEAK, TARGET_LUFS, LoudnessRule
from podcast.publish.check.problems import Findings, Problem, text
from podcast.publish.feed import FEED_PATH

__all__ = ["CheckFailed", "Problem", "SiteReport", "check_site", "inspect_site"]


@dataclass(frozen=True)
class SiteReport:
    episodes: int
    """Items in the feed."""
    problems: tuple[Problem, ...]
    loudness: tuple[str, ...] = ()
    """With `loudness`: a line per MP3 saying what was measured (media.loudness_line)."""


class CheckFailed(PublishError):
    """`podcast check` found problems (they were printed before this is raised)."""


def check_site(
    site: Path,
    *,
    now: datetime | None = None,
    loudness: bool = False,
    target_lufs: float = TARGET_LUFS,
    max_true_peak: float = MAX_TRUE_PEAK,
) -> list[Problem]:
    """Every problem of the published site in `site`; an empty list means it passes.

    `now` (default: the clock) is what "a pubDate in the future" is measured against. With
    `loudness`, each MP3 is decoded with ffmpeg to check its integrated loudness is `target_lufs`
    +-1 LU, its true peak at most `max_true_peak`, and that it decodes without errors.
    """
    report = inspect_site(site, now=now, loudness=loudness, target_lufs=target_lufs,
                          max_true_peak=max_true_peak)
    return list(report.problems)


def inspect_site(
    site: Path,
    *,
    now: datetime | None = None,
    loudness: bool = False,
    target_lufs: float = TARGET_LUFS,
    max_true_peak: float = MAX_TRUE_PEAK,
) -> SiteReport:
    """Like check_site, with the number of episodes the feed lists (for a summary line)."""
    site = Path(site)
    if not site.is_dir():
        raise PublishError(f"{site}: no such folder; run 'podcast publish' first, or give the site's folder")
    clock = now or datetime.now(UTC)
    if clock.tzinfo is None:
        clock = clock.replace(tzinfo=UTC)
    found = Findings(site)
    measured: list[str] = []
    episodes = _check(found, clock, LoudnessRule(target_lufs, max_true_peak) if loudness else None, measured)
    return SiteReport(episodes, tuple(found.problems), tuple(measured))


def _check(found: Findings, now: datetime, loudness: LoudnessRule | None, measured: list[str]) -> int:
    """Report every problem into `found`; the number of items in the feed."""
    items = []
    channel = feed.parse_feed(found)
    if channel is not None:
        feed.check_channel(found, channel, now)
        podcast_tags.check_channel(found, channel)
        markup.check_markup(found, channel, FEED_PATH)
        items = channel.findall("item")
        if not items:
            found.feed("lists no episodes; build one and publish again")
        rules = ItemRules(found, now)
        for n, item in enumerate(items, start=1):
            _episode(found, rules, item, Item(n, text(item, "title")), loudness, measured)
    sidecars.check_pages(found)
    pages.check_index(found)
    markup.check_newsletter_feed(found)
    return len(items)


def _episode(
    found: Findings, rules: ItemRules, item: Any, it: Item, loudness: LoudnessRule | None, measured: list[str]
) -> None:
    """One item of the feed and the files it names: its MP3 first, whose length the others are held to."""
    where = it.label
    mp3 = rules.head(item, it)
    stream = media.check_audio(found, mp3) if mp3 is not None else None
    seconds = stream.seconds if stream is not None else None
    rules.tail(item, where, seconds)
    id3_chapters = media.check_tags(found, mp3, seconds) if mp3 is not None else []
    chapters.check_chapters_json(found, item, where, seconds, id3_chapters)
    chapters.check_psc(found, item, where, seconds, id3_chapters)
    sidecars.check_transcripts(found, item, where, seconds)
    podcast_tags.check_item(found, item, where, seconds)
    pages.check_episode_page(found, item, where)
    if mp3 is not None and loudness is not None:
        heard = media.check_loudness(found, mp3, loudness)
        measured.append(media.loudness_line(found.rel(mp3), heard, loudness))
