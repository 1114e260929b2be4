"""Build one episode: each line of `build_episode` is one stage of the pipeline.

Everything is produced beside the episode (summaries/, script.md, build/) and written atomically;
build/episode.json, the record the feed is made from, is written last. A build that fails at any
stage leaves the last good episode exactly as it was.
"""

from __future__ import annotations

import shutil
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from datetime import time as dtime
from pathlib import Path

from podcast import cache, catalog, sources
from podcast.config import EpisodeFile, ShowConfig, load_episode
from podcast.edits import Generated
from podcast.errors import InputError
from podcast.fsutil import write_text
from podcast.models import BuiltEpisode, Chapter, Paper, Script, Summary
from podcast.render import Progress, Rendering
from podcast.speech import speakable

SUMMARIES = "summaries"
SCRIPT = "script.md"


@dataclass(frozen=True)
class BuildReport:
    episode: BuiltEpisode
    summarizer: str
    rendering: Rendering
    seconds: float
    warnings: tuple[str, ...]


def build_episode(
    folder: Path, cfg: ShowConfig, *, progress: Progress | None = None, log: Callable[[str], None] = print
) -> BuildReport:
    t0 = time.perf_counter()
    folder = folder.resolve()
    ep = load_episode(folder)
    gen = Generated(folder)
    papers = sources.papers_of(ep, folder)
    summaries, engine = summarize_stage(folder, papers, cfg, gen, log)
    script = script_stage(folder, ep, summaries, cfg, gen)
    gen.save()
    from podcast.render import render

    rendering = render(script, cfg.profiles, cfg.audio, cfg.cache_dir, progress=progress, music_root=cfg.root)
    built = package_stage(folder, ep, summaries, script, rendering, cfg)
    return BuildReport(built, engine, rendering, time.perf_counter() - t0, tuple(gen.warnings))


# -- summaries ---------------------------------------------------------------------------------------


def summary_path(folder: Path, paper: Paper) -> Path:
    return folder / SUMMARIES / f"{sources.slugify(paper.id)}.md"


def summary_markdown(summary: Summary) -> str:
    head = [f"# {summary.paper.title}"] + ([f"<{summary.paper.url}>"] if summary.paper.url else [])
    return "\n".join(head) + "\n\n" + summary.text.strip() + "\n"


def read_summary(path: Path, text: str) -> str:
    """The summary paragraphs of a summaries/*.md file (its heading and link line dropped)."""
    lines = text.strip().splitlines()
    while lines and (
        lines[0].startswith("# ") or lines[0].strip().startswith("<http") or not lines[0].strip()
    ):
        lines.pop(0)
    body = "\n".join(lines).strip()
    if not body:
        raise InputError(f"{path}: the summary is empty; write one, or delete the file to regenerate it")
    if not speakable(body):
        raise InputError(f"{path}: the summary has no words to speak; write one in English")
    return body


def summarize_stage(
    folder: Path, papers: Sequence[Paper], cfg: ShowConfig, gen: Generated, log: Callable[[str], None]
) -> tuple[list[Summary], str]:
    from podcast.summarize import check_has_text, load, summarize_one

    settings = cfg.summarizer
    engine = None
    out = []
    for paper in papers:
        path = summary_path(folder, paper)

        def generate(paper: Paper = paper) -> str:
            nonlocal engine
            check_has_text(paper)  # before loading an engine that may cost money to call
            engine = engine or load(settings)
            return summary_markdown(Summary(paper, summarize_one(engine, paper)))

        inputs = cache.key(
            settings.engine,
            settings.words,
            settings.model,
            settings.temperature,
            settings.prompt,
            paper.title,
            paper.url,
            paper.abstract,
            paper.full_text,
        )
        text = gen.produce(path, inputs, generate)
        out.append(Summary(paper, read_summary(path, text)))
    return out, settings.engine


# -- script ------------------------------------------------------------------------------------------


def script_stage(
    folder: Path, ep: EpisodeFile, summaries: Sequence[Summary], cfg: ShowConfig, gen: Generated
) -> Script:
    from podcast.script import parse_markdown, to_markdown, write_script

    host, reader = (cfg.profiles[p] for p in cfg.speakers())
    path = folder / SCRIPT

    def generate() -> str:
        script = write_script(
            show_title=cfg.show.title,
            day=ep.date,
            intro=ep.intro,
            outro=ep.outro,
            summaries=summaries,
            host=host,
            reader=reader,
        )
        return to_markdown(script, ep.title)

    inputs = cache.key(
        cfg.show.title,
        ep.title,
        ep.date,
        ep.intro,
        ep.outro,
        host,
        reader,
        [(s.paper.title, s.paper.url, s.paper.authors, s.text) for s in summaries],
    )
    text = gen.produce(path, inputs, generate)
    script = parse_markdown(text, path, sorted(cfg.profiles))
    return script


# -- packaging: the MP3, its tags, chapters, transcripts, newsletter, and the record ----------------


def episode_number(cfg: ShowConfig, folder: Path, ep: EpisodeFile) -> int:
    """ep.number, or the episode's position among the show's episodes by date (then folder name)."""
    if ep.number:
        return ep.number
    dated = []
    for d in sorted(cfg.episodes_dir.glob("*/episode.toml")):
        try:
            dated.append((load_episode(d.parent).date, d.parent.name))
        except Exception:  # another episode's broken file must not break this build
            continue
    return 1 + sum(1 for key in dated if key < (ep.date, folder.name))


def episode_guid(cfg: ShowConfig, folder: Path, ep: EpisodeFile) -> str:
    """ep.guid, or a UUID derived from the show's podcast:guid and the folder name (stable forever)."""
    if ep.guid:
        return ep.guid
    from podcast.feed import podcast_guid

    show_guid = cfg.show.guid or podcast_guid(cfg.show.feed_url)
    return str(uuid.uuid5(uuid.UUID(show_guid), folder.name))


def chapters_of(script: Script, rendering: Rendering) -> list[Chapter]:
    starts, end = rendering.starts, rendering.duration
    ends = [*starts[1:], end]
    return [Chapter(s.title, a, b, s.url) for s, a, b in zip(script.sections, starts, ends, strict=True)]


def cover_bytes(cfg: ShowConfig) -> tuple[bytes, str]:
    from podcast.cover import check_cover, make_cover

    if cfg.show.cover is not None:
        return check_cover(cfg.show.cover)
    return make_cover(cfg.show.title), "image/jpeg"


def package_stage(
    folder: Path,
    ep: EpisodeFile,
    summaries: Sequence[Summary],
    script: Script,
    rendering: Rendering,
    cfg: ShowConfig,
) -> BuiltEpisode:
    from podcast import newsletter, transcript
    from podcast.tag import tag_mp3

    out = catalog.build_dir(folder)
    slug = folder.name
    chapters = chapters_of(script, rendering)
    names = {p.id: p.name for p in cfg.profiles.values()}
    cues = transcript.make_cues([(s.start, s.end, names[s.speaker], s.text) for s in rendering.sentences()])
    description = newsletter.plain_description(ep.intro, summaries)
    published = datetime.combine(ep.date, dtime(0, 0), tzinfo=UTC)
    cover, mime = cover_bytes(cfg)

    # Everything is made in a staging folder first and moved into place only when all of it exists,
    # so a failure at any point leaves the last good build untouched.
    # It lives in the show's .cache (same file system, so the final renames are atomic), never in
    # build/: a build killed at any moment leaves no partial file among the episode's outputs.
    staging = cfg.cache_dir / "staging" / slug
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True, exist_ok=True)
    out.mkdir(parents=True, exist_ok=True)
    try:
        mp3 = staging / f"{slug}.mp3"
        rendering.write_mp3(mp3)
        tag_mp3(
            mp3,
            show=cfg.show,
            title=ep.title,
            published=ep.date,
            description=description,
            chapters=chapters,
            cover=cover,
            cover_mime=mime,
            audio_ms=round(rendering.duration * 1000),
        )
        letter = newsletter.render_markdown(ep.title, ep.date, ep.intro, summaries, ep.outro)
        files = {
            "chapters.json": transcript.chapters_json(chapters),
            "transcript.vtt": transcript.to_vtt(cues),
            "transcript.srt": transcript.to_srt(cues),
            "transcript.json": transcript.to_json(cues),
            "newsletter.md": letter,
            "newsletter.html": newsletter.render_html(letter),
        }
        for name, text in files.items():
            write_text(staging / name, text)
        built = BuiltEpisode(
            slug=slug,
            title=ep.title,
            number=episode_number(cfg, folder, ep),
            published=published,
            guid=episode_guid(cfg, folder, ep),
            description=description,
            notes_html=newsletter.notes_html(ep.intro, summaries, ep.outro, chapters),
            audio=mp3.name,
            audio_bytes=mp3.stat().st_size,
            duration=rendering.duration,
            chapters=tuple(chapters),
            papers=tuple(replace(s.paper, full_text="") for s in summaries),
        )
        catalog.save(staging, built)
        # The record goes last: until it moves, the catalog still describes the previous build.
        for f in sorted(staging.iterdir(), key=lambda f: f.name == catalog.MANIFEST):
            f.replace(out / f.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return built
