"""Publish the show to a folder: the whole site is made and checked in a staging folder first, and only
a site that passes `podcast check` replaces the published one, media first and the feeds last, each
file written atomically and only when it changed.

A site the check rejects is never published: the last good one stays as it was, byte for byte. A
reader or podcast app that fetches the site while it is being replaced sees either the old feed
(whose media are all still there) or the new one (whose media were all written before it). Every
file is written inside the site folder: its path is resolved first, so neither a record's names
nor a link inside the site can send it elsewhere.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from podcast.cache import show_lock
from podcast.config import ShowConfig
from podcast.episode import catalog
from podcast.errors import ConfigError, PublishError
from podcast.fsutil import copy_file, write_bytes
from podcast.models import BuiltEpisode, Cue
from podcast.publish.check.site import CheckFailed, Problem, check_site

SiteFiles = dict[str, bytes | Path]
"""Every file of the site: its path relative to the site -> its bytes, or the file to copy."""


@dataclass(frozen=True)
class PublishReport:
    episodes: int
    written: int
    unchanged: int
    files: tuple[str, ...] = ()
    """Every file of the site, relative to it, in the order it was written (feed.xml last)."""


class SiteCheckFailed(CheckFailed):
    """The site fails `podcast check`, so nothing was published; `problems` lists every one."""

    def __init__(self, message: str, problems: Sequence[Problem]) -> None:
        super().__init__(message)
        self.problems = tuple(problems)


class _Writer:
    """Writes into the site only what differs from what is already there."""

    def __init__(self) -> None:
        self.written = self.unchanged = 0

    def bytes(self, path: Path, data: bytes) -> None:
        try:
            if path.read_bytes() == data:
                self.unchanged += 1
                return
        except OSError:
            pass
        write_bytes(path, data)
        self.written += 1

    def copy(self, src: Path, dst: Path) -> None:
        before = dst.stat().st_mtime if dst.exists() else None
        copy_file(src, dst)
        if before is not None and dst.stat().st_mtime == before:
            self.unchanged += 1
        else:
            self.written += 1


def site_files(cfg: ShowConfig) -> tuple[list[tuple[Path, BuiltEpisode]], SiteFiles]:
    """The built episodes and every file of the site, in publishing order: the media (audio, sidecars,
    cover), then the pages, then newsletter.xml, and feed.xml last."""
    from podcast.mail.html import EMAIL_PAGE, email_page
    from podcast.publish import site
    from podcast.publish.feed import FEED_PATH, cover_name, episode_path, render_feed

    built = catalog.episodes(cfg.root)
    if not built:
        raise PublishError(
            f"{cfg.episodes_dir}: no built episodes; run 'podcast build episodes/<name>' first"
        )
    templates = [cfg.root / "templates"]
    cover = cover_name(cfg.show)
    media: SiteFiles = {}
    sources = []
    for folder, ep in built:
        named = catalog.record_files(folder, ep)
        # The newsletter's HTML is published inside the episode's page, not as a file of its own.
        media |= {episode_path(ep, name): path for name, path in named.items() if name != ep.newsletter_html}
        letter = _read_text(named[ep.newsletter_html], folder)
        cues = _cues(named[ep.transcripts.vtt], folder) if ep.transcripts.vtt else []
        # For pasting into a newsletter service: the mail's HTML, a page no other page links to.
        media[episode_path(ep, EMAIL_PAGE)] = email_page(cfg.show, ep, letter, cover).encode("utf-8")
        sources.append(site.EpisodeSource(ep, letter, tuple(cues), _episode_art(folder)))
    media[cover] = _cover_bytes(cfg)
    episodes = [ep for _, ep in built]
    newsletters = {s.ep.slug: s.newsletter_html for s in sources}
    pages: SiteFiles = dict(
        site.render_site(cfg.show, sources, cover, template_dirs=templates, cache_root=cfg.cache_dir)
    )
    feeds: SiteFiles = {
        site.NEWSLETTER_FEED: site.render_newsletter_feed(cfg.show, episodes, newsletters),
        FEED_PATH: render_feed(cfg.show, episodes),
    }
    return built, media | pages | feeds


def _episode_art(folder: Path) -> Path | None:
    """The image episode.toml names for the episode's art (checked to be in the show), if any."""
    from podcast.config import load_episode

    if not (folder / "episode.toml").is_file():  # a record copied without its sources
        return None
    name = load_episode(folder).image
    return folder / name if name else None


def _read_text(path: Path, folder: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as e:
        why = e.strerror if isinstance(e, OSError) else "not UTF-8 text"
        raise ConfigError(f"{path}: cannot be read ({why}); rebuild the episode: "
                          f"podcast build episodes/{folder.name}") from None


def _cues(vtt: Path, folder: Path) -> list[Cue]:
    from podcast.episode import transcript

    try:
        return transcript.parse_vtt(_read_text(vtt, folder))
    except transcript.TranscriptError as e:
        raise ConfigError(f"{vtt}: line {e.line}: {e.reason}; rebuild the episode: "
                          f"podcast build episodes/{folder.name}") from None


def _cover_bytes(cfg: ShowConfig) -> bytes:
    """The show's cover, checked against the directories' rules, or one drawn from the title.

    Like build.cover_bytes, without importing the build stack into publish.
    """
    from podcast.episode.cover import show_cover

    return show_cover(cfg.show.cover, cfg.show.title, cfg.cache_dir)[0]


def publish_site(cfg: ShowConfig, site: Path, *, check: bool = True) -> PublishReport:
    """Make the site, `podcast check` it in a staging folder, then write it into the folder `site`.

    Raises SiteCheckFailed (with every problem) when the site fails the check; `site` is then left
    exactly as it was. `check=False` skips the staging and the check.
    """
    # A build running meanwhile would replace the episode files the site is made from.
    with show_lock(cfg.cache_dir, cfg.show.title):
        return _publish_site(cfg, site, check)


def _publish_site(cfg: ShowConfig, site: Path, check: bool) -> PublishReport:
    built, files = site_files(cfg)
    if site.exists() and not site.is_dir():
        raise PublishError(f"{site}: exists and is not a folder; choose another --site")
    targets = {rel: _target(site, rel) for rel in files}
    if check:
        _check_staged(cfg, site, files)
    writer = _Writer()
    try:
        for rel, content in files.items():  # dict order: media, pages, newsletter.xml, feed.xml last
            if isinstance(content, Path):
                writer.copy(content, targets[rel])
            else:
                writer.bytes(targets[rel], content)
    except OSError as e:
        raise PublishError(
            f"cannot write the site into {site}: {e.strerror}; check the folder is writable"
        ) from None
    _sweep_partials(site, files)
    return PublishReport(len(built), writer.written, writer.unchanged, tuple(files))


def _target(site: Path, rel: str) -> Path:
    """Where the site file `rel` is written: `site`/`rel`, refused unless it resolves inside `site`."""
    path = site / rel
    parts = PurePosixPath(rel).parts
    if PurePosixPath(rel).is_absolute() or ".." in parts or not path.resolve().is_relative_to(site.resolve()):
        raise PublishError(f"{path}: would be written outside the site folder {site} (through a link "
                           "or a '..'); nothing was published")
    return path


def _check_staged(cfg: ShowConfig, site: Path, files: SiteFiles) -> None:
    """Write the site into a staging folder of the show's cache and `podcast check` it there.

    The folder is named after the site (two publishes of one show to different places do not
    share it) and removed afterwards, or by the next publish after a crash. Media are hard links to
    the build's files where the file system allows, so staging a long episode copies nothing.
    """
    key = hashlib.sha256(str(site.resolve()).encode("utf-8")).hexdigest()[:16]
    staging = cfg.cache_dir / "staging" / f"site-{key}"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        try:
            for rel, content in files.items():
                dst = staging / rel
                dst.parent.mkdir(parents=True, exist_ok=True)
                if isinstance(content, Path):
                    _link_or_copy(content, dst)
                else:
                    dst.write_bytes(content)
        except OSError as e:
            raise PublishError(f"cannot stage the site in {staging}: {e.strerror}; check the show's "
                               ".cache folder is writable and the disk has room") from None
        problems = check_site(staging, target_lufs=cfg.audio.loudness, max_true_peak=cfg.audio.true_peak)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    if problems:
        n = len(problems)
        raise SiteCheckFailed(
            f"the site fails podcast check with {n} problem{'' if n == 1 else 's'}, first: {problems[0]}; "
            f"nothing was published, {site} is as it was",
            problems,
        )


def _link_or_copy(src: Path, dst: Path) -> None:
    try:
        os.link(src, dst)
    except OSError:  # another file system, or one without hard links
        shutil.copyfile(src, dst)


def _sweep_partials(site: Path, files: SiteFiles) -> None:
    """Remove temp files a killed publish left beside the files it was replacing (atomic_open's)."""
    for folder in {(site / rel).parent for rel in files}:
        for part in folder.glob(".*.part"):
            part.unlink(missing_ok=True)
