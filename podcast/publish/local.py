"""Publish the show: the static site, media first and feed.xml last, every file written atomically.

A reader or podcast app that fetches the site while it is being published sees either the old
feed (whose media are all still there) or the new one (whose media were all written before it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from podcast.config import ShowConfig
from podcast.episode import catalog
from podcast.episode.files import SIDECARS
from podcast.errors import PublishError
from podcast.fsutil import copy_file, write_bytes
from podcast.models import BuiltEpisode
from podcast.publish.check.site import CheckFailed, Problem, check_site


@dataclass(frozen=True)
class PublishReport:
    episodes: int
    written: int
    unchanged: int
    files: tuple[str, ...] = ()
    """Every file of the site, relative to it, in the order it was written (feed.xml last)."""


class SiteCheckFailed(CheckFailed):
    """The site just written fails `podcast check`; `problems` lists every one."""

    def __init__(self, message: str, problems: Sequence[Problem]) -> None:
        super().__init__(message)
        self.problems = tuple(problems)


class _Writer:
    """Writes into the site only what differs from what is already there."""

    def __init__(self, site: Path) -> None:
        self.site = site
        self.written = self.unchanged = 0

    def bytes(self, rel: str, data: bytes) -> None:
        path = self.site / rel
        try:
            if path.read_bytes() == data:
                self.unchanged += 1
                return
        except OSError:
            pass
        write_bytes(path, data)
        self.written += 1

    def copy(self, src: Path, rel: str) -> None:
        dst = self.site / rel
        before = dst.stat().st_mtime if dst.exists() else None
        copy_file(src, dst)
        if before is not None and dst.stat().st_mtime == before:
            self.unchanged += 1
        else:
            self.written += 1


def site_files(cfg: ShowConfig) -> tuple[list[tuple[Path, BuiltEpisode]], dict[str, bytes | Path]]:
    """Every file of the site (relative path -> bytes, or a file to copy), the feed last."""
    from podcast.episode import transcript
    from podcast.publish import site
    from podcast.publish.feed import FEED_PATH, cover_name, render_feed

    built = catalog.episodes(cfg.root)
    if not built:
        raise PublishError(
            f"{cfg.episodes_dir}: no built episodes; run 'podcast build episodes/<name>' first"
        )
    _unique_slugs(built)
    templates = [cfg.root / "templates"]
    cover = cover_name(cfg.show)
    files: dict[str, bytes | Path] = {}
    newsletters = {}
    for folder, ep in built:
        out = catalog.build_dir(folder)
        base = f"episodes/{ep.slug}/"
        files[base + ep.audio] = out / ep.audio
        for name in SIDECARS:
            files[base + name] = out / name
        html = (out / ep.newsletter_html).read_text("utf-8")
        newsletters[ep.slug] = html
        cues = transcript.parse_vtt((out / ep.transcripts.vtt).read_text("utf-8"))
        page = site.render_episode_page(cfg.show, ep, html, cues, cover, template_dirs=templates)
        files[base + "index.html"] = page.encode("utf-8")
    episodes = [ep for _, ep in built]
    files[cover] = _cover_bytes(cfg)
    files["index.html"] = site.render_index(cfg.show, episodes, cover, template_dirs=templates).encode(
        "utf-8"
    )
    files[site.NEWSLETTER_FEED] = site.render_newsletter_feed(cfg.show, episodes, newsletters)
    files[FEED_PATH] = render_feed(cfg.show, episodes)
    return built, files


def _unique_slugs(built: Sequence[tuple[Path, BuiltEpisode]]) -> None:
    """Two episodes with one slug would overwrite each other's files and share a page."""
    seen: dict[str, Path] = {}
    for folder, ep in built:
        if ep.slug in seen:
            raise PublishError(
                f"{seen[ep.slug]} and {folder} are both built as episode {ep.slug!r} "
                f"(build/{catalog.MANIFEST}); rebuild the copied folder: podcast build {folder}"
            )
        seen[ep.slug] = folder


def _cover_bytes(cfg: ShowConfig) -> bytes:
    """The show's cover, checked against the directories' rules, or one drawn from the title.

    Like build.cover_bytes, without importing the build stack into publish.
    """
    from podcast.episode.cover import show_cover

    return show_cover(cfg.show.cover, cfg.show.title, cfg.cache_dir)[0]


def publish_site(cfg: ShowConfig, site: Path, *, check: bool = True) -> PublishReport:
    """Write the site into the folder `site`, media first and feed.xml last, then `podcast check` it.

    Raises SiteCheckFailed (with every problem) when the written site fails the check.
    """
    built, files = site_files(cfg)
    if site.exists() and not site.is_dir():
        raise PublishError(f"{site}: exists and is not a folder; choose another --site")
    writer = _Writer(site)
    try:
        for rel, content in files.items():  # dict order: media and pages first, feed.xml last
            if isinstance(content, Path):
                writer.copy(content, rel)
            else:
                writer.bytes(rel, content)
    except OSError as e:
        raise PublishError(
            f"cannot write the site into {site}: {e.strerror}; check the folder is writable"
        ) from None
    _sweep_partials(site, files)
    if check:
        _check_written(cfg, site)
    return PublishReport(len(built), writer.written, writer.unchanged, tuple(files))


def _sweep_partials(site: Path, files: dict[str, bytes | Path]) -> None:
    """Remove temp files a killed publish left beside the files it was replacing (atomic_open's)."""
    for folder in {(site / rel).parent for rel in files}:
        for part in folder.glob(".*.part"):
            part.unlink(missing_ok=True)


def _check_written(cfg: ShowConfig, site: Path) -> None:
    problems = check_site(site, target_lufs=cfg.audio.loudness, max_true_peak=cfg.audio.true_peak)
    if problems:
        n = len(problems)
        raise SiteCheckFailed(
            f"the site written to {site} fails podcast check with {n} problem{'' if n == 1 else 's'}, "
            f"first: {problems[0]}",
            problems,
        )
