"""Build one episode: each line of `build_episode` is one stage of the pipeline.

Everything is produced beside the episode (summaries/, script.md, build/) and written atomically;
build/episode.json, the record the feed is made from, is written last. A build that fails at any
stage leaves the last good episode exactly as it was.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from datetime import time as dtime
from pathlib import Path
from typing import TYPE_CHECKING

from podcast import cache
from podcast.audio.render import Progress, Rendering
from podcast.config import EpisodeFile, ShowConfig, load_episode
from podcast.edits import Generated
from podcast.episode import catalog, files
from podcast.errors import ConfigError, InputError, PodcastError
from podcast.fsutil import write_text
from podcast.models import Brief, BuiltEpisode, Chapter, Paper, Script, Summary
from podcast.research import sources
from podcast.summarize.base import SummarizerSettings, TokenUse, key_notice, read_prompt
from podcast.text import clean
from podcast.writing.speech import speakable

if TYPE_CHECKING:
    from podcast.writing.dialogue import Exchanges

SUMMARIES = "summaries"
SCRIPT = "script.md"


@dataclass(frozen=True)
class BuildReport:
    episode: BuiltEpisode
    summarizer: str
    rendering: Rendering
    seconds: float
    warnings: tuple[str, ...]
    tokens: tuple[TokenUse, ...] = ()
    """What the summarizer spent, one entry per summary it wrote; () when it spends no tokens or
    every summary was already in summaries/."""
    own_summaries: int = 0
    """Summaries a person wrote (an imported newsletter's, or edited by hand): no engine made them."""

    def summaries_by(self) -> str:
        """Who wrote the summaries, for the build's last line.

        >>> from podcast.audio.render import Rendering
        >>> r = BuildReport(None, "extractive", Rendering(()), 0.0, (), (), 2)  # type: ignore[arg-type]
        >>> r.summaries_by(), replace(r, own_summaries=0).summaries_by()
        ('summaries by extractive (2 as written in summaries/)', 'summaries by extractive')
        """
        if self.own_summaries and not self.summarizer:
            return "summaries as written in summaries/"
        own = f" ({self.own_summaries} as written in summaries/)" if self.own_summaries else ""
        return f"summaries by {self.summarizer}{own}"


def build_episode(
    folder: Path, cfg: ShowConfig, *, progress: Progress | None = None, log: Callable[[str], None] = print
) -> BuildReport:
    t0 = time.perf_counter()
    folder = folder.resolve()
    # Two builds of one show at once would share its staging, cache entries and .generated.json.
    with cache.show_lock(cfg.cache_dir, cfg.show.title):
        return _build_episode(folder, cfg, progress, log, t0)


def _build_episode(
    folder: Path, cfg: ShowConfig, progress: Progress | None, log: Callable[[str], None], t0: float
) -> BuildReport:
    ep = load_episode(folder)
    gen = Generated(folder)
    papers = sources.papers_of(ep, folder)
    # A summary a person wrote is read as it is: its paper's PDF would change nothing, so arXiv is not asked.
    own = {p.id for p in papers if gen.is_users(summary_path(folder, p))}
    texts = with_full_texts(papers, own, cfg, gen.warnings.append)
    ahead = dialogue_ahead(folder, ep, cfg, gen)  # each exchange asked for once its summary is there
    summaries, engine, tokens = summarize_stage(folder, papers, cfg, gen, log, ep.highlights, texts, ahead)
    if len(own) == len(papers):
        engine = ""
    try:
        script = script_stage(folder, ep, summaries, cfg, gen, log, ahead)
        brief = brief_stage(folder, ep, summaries, cfg, gen)
    finally:
        gen.save()  # the summaries written are ours even when the script could not be written
    rendering = render_stage(script, cfg, progress)
    # The brief's sentences are the full episode's: the sentence cache speaks them once.
    short = None if brief is None else (brief, render_stage(brief, cfg, _brief_progress(progress)))
    built = package_stage(folder, ep, summaries, script, rendering, cfg, short)
    took = time.perf_counter() - t0
    return BuildReport(built, engine, rendering, took, tuple(gen.warnings), tokens, len(own))


# -- summaries ---------------------------------------------------------------------------------------


def with_full_texts(
    papers: Sequence[Paper], own: set[str], cfg: ShowConfig, warn: Callable[[str], None]
) -> Iterator[Paper]:
    """The papers, each as soon as its PDF is read (arXiv's, one at a time), so that summarizing it
    overlaps the next download; those in `own` (summaries a person wrote) as they are."""
    from podcast.research.arxiv import full_texts

    fetched = full_texts([p for p in papers if p.id not in own], cfg, warn)
    for paper in papers:
        yield paper if paper.id in own else next(fetched)
    yield from fetched  # nothing is left: this lets it end, with its warning on papers left offline


def summary_path(folder: Path, paper: Paper) -> Path:
    return folder / SUMMARIES / f"{sources.slugify(paper.id)}.md"


def summary_markdown(summary: Summary) -> str:
    head = [f"# {summary.paper.title}"] + ([f"<{summary.paper.url}>"] if summary.paper.url else [])
    return "\n".join(head) + "\n\n" + summary.text.strip() + "\n"


def read_summary(path: Path, text: str) -> str:
    """The summary paragraphs of a summaries/*.md file (its heading and link line dropped)."""
    lines = clean(text).strip().splitlines()  # a person may have pasted anything into it
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
    folder: Path,
    papers: Sequence[Paper],
    cfg: ShowConfig,
    gen: Generated,
    log: Callable[[str], None],
    highlights: Sequence[str] = (),
    texts: Iterable[Paper] | None = None,
    ahead: Exchanges | None = None,
) -> tuple[list[Summary], str, tuple[TokenUse, ...]]:
    """Each paper's summary from summaries/, written by the engine when missing or out of date.

    Papers named in `highlights` get a full summary and the others one sentence (all are full when
    it is empty). `texts` yields the papers again, each once its full text is there (default:
    `papers`); an engine that allows it writes `[summarizer] concurrency` summaries at once, the
    summaries kept in the papers' order. With `ahead` (dialogue_ahead), each paper's exchange is
    asked for as soon as its summary is there, `concurrency` at a time besides, and a failure of
    either stops both. Returns the summaries, the engine's name and the tokens it spent, which are
    also logged. When an engine fails midway, what it wrote so far is recorded so a rerun keeps it.
    """
    from podcast.summarize import Summarizer, check_has_text, load, summarize_one
    from podcast.summarize.pool import in_order
    from podcast.writing.markers import for_audio

    settings = cfg.summarizer
    full = _highlighted(folder, papers, highlights)
    prompt = read_prompt(settings.prompt) if settings.prompt else ""  # editing it rewrites the summaries
    if message := key_notice(settings, cfg.dialogue, cfg.cache_dir):
        log(message)
    engine: Summarizer | None = None
    loading = threading.Lock()

    def summarize(paper: Paper) -> Summary:
        path = summary_path(folder, paper)
        line = paper.id not in full

        def generate() -> str:
            nonlocal engine
            check_has_text(paper)  # before loading an engine that may cost money to call
            with loading:  # the first worker to need the engine loads it; the others wait for it
                engine = ready = engine or load(settings, cfg.cache_dir)
            text = summary_markdown(Summary(paper, summarize_one(ready, paper, line=line)))
            if ahead is not None and (not path.is_file() or path.read_text("utf-8") != text):
                ahead.wanted.set()  # a summary changed, so will the script: its exchanges are needed
            return text

        inputs = cache.key(
            settings.engine,
            settings.words,
            settings.model,
            settings.temperature,
            prompt,
            settings.context_tokens,
            "one sentence" if line else "full",
            paper.title,
            paper.url,
            paper.abstract,
            paper.full_text,
        )
        # Workers produce distinct files, so their records in `gen` never collide.
        return Summary(paper, read_summary(path, gen.produce(path, inputs, generate)))

    def exchange(summary: Summary) -> None:
        assert ahead is not None
        ahead.ahead(replace(summary, text=for_audio(summary.text)))  # as script_stage will ask

    items, then = (papers if texts is None else texts), (exchange if ahead else None)
    try:
        out = in_order(items, summarize, _workers(settings), then, settings.concurrency)
    except BaseException:
        gen.save()  # the summaries written before the failure are ours: a rerun must know it
        for message in token_report(_by_paper(ahead.used() if ahead else (), papers), "dialogue"):
            log(message)
        raise
    finally:
        tokens = _by_paper(engine.token_use() if engine is not None else (), papers)
        for message in token_report(tokens):
            log(message)
    return out, settings.engine, tokens


def _workers(settings: SummarizerSettings) -> int:
    """How many summaries are written at once: `concurrency` for an engine that allows it, else 1."""
    from podcast.summarize import get

    try:
        concurrent = get(settings.engine).concurrent
    except PodcastError:  # an engine that cannot load fails when a summary needs it, as it always has
        return 1
    return settings.concurrency if concurrent else 1


def _by_paper(uses: Iterable[TokenUse], papers: Sequence[Paper]) -> tuple[TokenUse, ...]:
    """`uses` in the papers' order (answers come back in any order), each paper's in the order asked."""
    order = {p.id: i for i, p in enumerate(papers)}
    return tuple(sorted(uses, key=lambda u: order.get(u.paper, len(order))))


def _highlighted(folder: Path, papers: Sequence[Paper], highlights: Sequence[str]) -> set[str]:
    """Ids of the papers that get a full summary: the highlights, or every paper when there are none."""
    ids = [p.id for p in papers]
    for wanted in highlights:
        if wanted not in ids:
            raise ConfigError(
                f"{folder / 'episode.toml'}: highlights names {wanted!r}, which is not the id of any of "
                f"its papers ({', '.join(ids)})"
            )
    return set(highlights) if highlights else set(ids)


def token_report(uses: Sequence[TokenUse], what: str = "summary") -> list[str]:
    """Lines saying what the summaries cost: the tokens spent now, then each paper's.

    >>> for line in token_report([TokenUse("2405.04517", 3412, 171), TokenUse("2405.04434", 800, 90, True)]):
    ...     print(line)
    summary tokens: 3,412 in, 171 out (1 request; 1 answer from the cache, not paid again)
      2405.04517: 3,412 in, 171 out
      2405.04434: 800 in, 90 out (cached)
    """
    if not uses:
        return []
    spent = [u for u in uses if not u.cached]
    reused = len(uses) - len(spent)
    tokens_in = sum(u.prompt_tokens for u in spent)
    tokens_out = sum(u.completion_tokens for u in spent)
    requests = f"{len(spent)} request" + ("" if len(spent) == 1 else "s")
    if reused:
        requests += f"; {reused} answer{'' if reused == 1 else 's'} from the cache, not paid again"
    lines = [f"{what} tokens: {tokens_in:,} in, {tokens_out:,} out ({requests})"]
    for u in uses:
        cached = " (cached)" if u.cached else ""
        lines.append(f"  {u.paper}: {u.prompt_tokens:,} in, {u.completion_tokens:,} out{cached}")
    return lines


# -- script ------------------------------------------------------------------------------------------


def script_stage(
    folder: Path,
    ep: EpisodeFile,
    summaries: Sequence[Summary],
    cfg: ShowConfig,
    gen: Generated,
    log: Callable[[str], None] = print,
    ahead: Exchanges | None = None,
) -> Script:
    """script.md: written from the summaries when missing or out of date, kept when edited by hand.

    With cfg.dialogue each paper is an exchange between the hosts written by the LLM
    (podcast.writing.dialogue), those `ahead` holds already asked for (dialogue_ahead); a failure
    leaves script.md as it was. Text marked newsletter-only is left out (podcast.writing.markers).
    """
    from podcast.writing.markers import for_audio

    ep = replace(ep, intro=for_audio(ep.intro), outro=for_audio(ep.outro))
    summaries = [replace(s, text=for_audio(s.text)) for s in summaries]
    from podcast.writing.budget import Budget
    from podcast.writing.dialogue import read_dialogue_prompt
    from podcast.writing.script import WRITER, parse_markdown, to_markdown, write_script

    host, reader = (cfg.profiles[p] for p in cfg.speakers())
    budget = Budget.of(cfg, ep.highlights)  # None without [script] minutes
    path = folder / SCRIPT
    prompt = read_dialogue_prompt(cfg.script.prompt) if cfg.dialogue else ""
    exchange = ahead or _exchanges(cfg)

    def generate() -> str:
        if cfg.dialogue and budget is None:  # every paper is an exchange: ask for them all at once
            exchange.ask_all(summaries, cfg.summarizer.concurrency)
        script = write_script(
            show_title=cfg.show.title,
            day=ep.date,
            intro=ep.intro,
            outro=ep.outro,
            summaries=summaries,
            host=host,
            reader=reader,
            exchange=exchange if cfg.dialogue else None,
            budget=budget,
            warn=gen.warnings.append,
        )
        return to_markdown(script, ep.title)

    inputs = cache.key(
        WRITER,
        cfg.show.title,
        ep.title,
        ep.date,
        ep.intro,
        ep.outro,
        host,
        reader,
        [(s.paper.title, s.paper.url, s.paper.authors, s.text) for s in summaries],
        *((prompt, cfg.summarizer.model, cfg.summarizer.temperature) if cfg.dialogue else ()),
        *(budget.key() if budget else ()),
    )
    try:
        text = gen.produce(path, inputs, generate)
    finally:
        for message in token_report(_by_paper(exchange.used(), [s.paper for s in summaries]), "dialogue"):
            log(message)
    script = parse_markdown(text, path, sorted(cfg.profiles))
    return script


def dialogue_ahead(folder: Path, ep: EpisodeFile, cfg: ShowConfig, gen: Generated) -> Exchanges | None:
    """The hosts' exchanges to ask for while the summaries are being written, each as soon as its
    summary is there (summarize_stage), for script_stage to take. None when the script asks for
    them itself, as it always has: no dialogue, `concurrency` 1 (one request after the other), a
    length budget (it asks one by one, as it goes) or a script.md a person edited (kept as it is).
    Asked for only once the script is to be written: it is missing, or a summary changed."""
    from podcast.writing.budget import Budget

    path = folder / SCRIPT
    if not cfg.dialogue or cfg.summarizer.concurrency <= 1 or gen.is_users(path):
        return None
    if Budget.of(cfg, ep.highlights) is not None:
        return None
    exchanges = _exchanges(cfg)
    if not path.exists():
        exchanges.wanted.set()
    return exchanges


def _exchanges(cfg: ShowConfig) -> Exchanges:
    from podcast.writing.dialogue import DialogueWriter, Exchanges, read_dialogue_prompt

    host, reader = (cfg.profiles[p] for p in cfg.speakers())
    prompt = read_dialogue_prompt(cfg.script.prompt) if cfg.dialogue else ""
    return Exchanges(lambda: DialogueWriter(cfg.summarizer, prompt, host, reader, cfg.cache_dir))


def brief_stage(
    folder: Path, ep: EpisodeFile, summaries: Sequence[Summary], cfg: ShowConfig, gen: Generated
) -> Script | None:
    """brief.md ([script] brief_minutes; None when 0): written from the summaries when missing or out
    of date, kept when edited by hand (podcast.writing.brief)."""
    minutes = cfg.script.brief_minutes
    if not minutes:
        return None
    from podcast.writing.brief import BRIEF, write_brief
    from podcast.writing.budget import Budget, Pacer
    from podcast.writing.markers import for_audio
    from podcast.writing.script import parse_markdown, to_markdown

    summaries = [replace(s, text=for_audio(s.text)) for s in summaries]
    host, reader = (cfg.profiles[p] for p in cfg.speakers())
    budget = Budget(minutes * 60, Pacer.of(cfg), tuple(ep.highlights))

    def generate() -> str:
        script = write_brief(show_title=cfg.show.title, day=ep.date, summaries=summaries, host=host,
                             reader=reader, budget=budget, minutes=minutes, warn=gen.warnings.append)
        return to_markdown(script, f"{ep.title} (brief)")

    inputs = cache.key(
        "brief", cfg.show.title, ep.title, ep.date, host, reader,
        [(s.paper.id, s.paper.title, s.paper.url, s.paper.authors, s.text) for s in summaries], *budget.key(),
    )
    path = folder / BRIEF
    return parse_markdown(gen.produce(path, inputs, generate), path, sorted(cfg.profiles))


def render_stage(script: Script, cfg: ShowConfig, progress: Progress | None) -> Rendering:
    from podcast.audio.render import render

    return render(
        script,
        cfg.profiles,
        cfg.audio,
        cfg.cache_dir,
        progress=progress,
        music_root=cfg.root,
        lexicon=cfg.lexicon,
        executor=cfg.render.executor,
    )


def _brief_progress(progress: Progress | None) -> Progress | None:
    """The brief's sections, named as its own in the progress shown."""
    if progress is None:
        return None
    return lambda done, total, title: progress(done, total, f"brief: {title}")


# -- packaging: the MP3, its tags, chapters, transcripts, newsletter, and the record ----------------


def episode_number(cfg: ShowConfig, folder: Path, ep: EpisodeFile) -> int:
    """ep.number; else the number its first build recorded (a published episode is never renumbered);
    else the next after the show's built episodes dated before it (catalog.next_number)."""
    if ep.number:
        return ep.number
    if (last := catalog.recorded(folder)) is not None:
        return last.number
    return catalog.next_number(cfg.episodes_dir, folder, ep.date)


def episode_guid(cfg: ShowConfig, folder: Path, ep: EpisodeFile) -> str:
    """ep.guid; else the one its first build recorded; else a UUID derived from the show's podcast:guid
    and the folder name. Apps know an episode by its guid: once built, it never changes by itself."""
    if ep.guid:
        return ep.guid
    if (last := catalog.recorded(folder)) is not None:
        return last.guid
    from podcast.publish.feed import podcast_guid

    show_guid = cfg.show.guid or podcast_guid(cfg.show.feed_url)
    return str(uuid.uuid5(uuid.UUID(show_guid), folder.name))


def chapters_of(script: Script, rendering: Rendering) -> list[Chapter]:
    starts, end = rendering.starts, rendering.duration
    ends = [*starts[1:], end]
    return [Chapter(s.title, a, b, s.url) for s, a, b in zip(script.sections, starts, ends, strict=True)]


def cover_bytes(cfg: ShowConfig) -> tuple[bytes, str]:
    from podcast.episode.cover import show_cover

    return show_cover(cfg.show.cover, cfg.show.title, cfg.cache_dir)


def package_stage(
    folder: Path,
    ep: EpisodeFile,
    summaries: Sequence[Summary],
    script: Script,
    rendering: Rendering,
    cfg: ShowConfig,
    brief: tuple[Script, Rendering] | None = None,
) -> BuiltEpisode:
    from podcast.episode import transcript
    from podcast.writing import newsletter
    from podcast.writing.markers import for_newsletter

    out = catalog.build_dir(folder)
    slug = folder.name
    chapters = chapters_of(script, rendering)
    names = {p.id: p.name for p in cfg.profiles.values()}
    cues = transcript.make_cues([(s.start, s.end, names[s.speaker], s.text) for s in rendering.sentences()])
    # The written editions (newsletter, show notes, feed) leave out the text marked audio-only.
    ep = replace(ep, intro=for_newsletter(ep.intro), outro=for_newsletter(ep.outro))
    summaries = [replace(s, text=for_newsletter(s.text)) for s in summaries]
    description = newsletter.plain_description(ep.intro, summaries)
    published = datetime.combine(ep.date, dtime(0, 0), tzinfo=UTC)
    cover = cover_bytes(cfg)

    # Everything is made in a staging folder first and moved into place only when all of it exists,
    # so a failure at any point leaves the last good build untouched.
    # It lives in the show's .cache (same file system, so the final renames are atomic), never in
    # build/: a build killed at any moment leaves no partial file among the episode's outputs.
    # A folder of its own per run; under the show's lock any other is a killed build's, swept here.
    root = cfg.cache_dir / "staging"
    for stale in root.glob(f"{slug}-*"):
        shutil.rmtree(stale, ignore_errors=True)
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f"{slug}-", dir=root))
    out.mkdir(parents=True, exist_ok=True)
    try:
        mp3 = staging / files.audio_name(slug)
        write_audio(mp3, rendering, chapters, ep.title, ep, description, cfg, cover)
        short: Brief | None = None
        if brief is not None:
            path = staging / files.brief_name(slug)
            title = f"{ep.title} (brief)"
            write_audio(path, brief[1], chapters_of(*brief), title, ep, description, cfg, cover)
            short = Brief(path.name, path.stat().st_size, brief[1].duration, cfg.audio.bitrate * 1000)
        letter = newsletter.render_markdown(ep.title, ep.date, ep.intro, summaries, ep.outro)
        texts = {
            files.CHAPTERS: transcript.chapters_json(chapters),
            files.TRANSCRIPT_VTT: transcript.to_vtt(cues),
            files.TRANSCRIPT_SRT: transcript.to_srt(cues),
            files.TRANSCRIPT_JSON: transcript.to_json(cues),
            files.NEWSLETTER_MD: letter,
            files.NEWSLETTER_HTML: newsletter.render_html(letter),
        }
        for name, text in texts.items():
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
            brief=short,
        )
        catalog.save(staging, built)
        # The record goes last: until it moves, the catalog still describes the previous build.
        for f in sorted(staging.iterdir(), key=lambda f: f.name == catalog.MANIFEST):
            f.replace(out / f.name)
        if brief is None:  # a brief turned off: its last MP3 is no output of this build
            (out / files.brief_name(slug)).unlink(missing_ok=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return built


def write_audio(
    mp3: Path,
    rendering: Rendering,
    chapters: Sequence[Chapter],
    title: str,
    ep: EpisodeFile,
    description: str,
    cfg: ShowConfig,
    cover: tuple[bytes, str],
) -> None:
    """The rendering's MP3 at `mp3`, tagged: title, show, date, cover and chapters."""
    from podcast.episode.tag import tag_mp3

    rendering.write_mp3(mp3)
    tag_mp3(
        mp3,
        show=cfg.show,
        title=title,
        published=ep.date,
        description=description,
        chapters=chapters,
        cover=cover[0],
        cover_mime=cover[1],
        audio_ms=round(rendering.duration * 1000),
    )
