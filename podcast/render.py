"""Speak and encode a script, section by section, in parallel, reusing every cached piece.

Two cache levels make rebuilds cheap: each line's synthesized audio is keyed by (engine, voice,
speed, normalized sentences), and each section's encoded MP3 chunk by its lines' keys plus the
mastering settings. An edit to one paper changes one section's key: that section alone is
synthesized (only its changed lines) and encoded; the others are reused byte for byte.

Synthesis (podcast.speak) runs in worker processes, one pool per engine, so each process loads one
voice model: the models' memory, not mastering, is what a process costs, and a worker holding every
engine of the show cost the sum of them. The workers are shared out between the engines in
proportion to each one's work (characters times the engine's `cost`), and lines are handed out in
section order, so sections complete early. Workers put each line in the line cache; as soon as all
the lines of a section are there, the parent mixes and masters it (only the parent imports the
mastering code, scipy) and a thread encodes it with ffmpeg, so mastering and encoding overlap
synthesis. When a single line needs speaking (the usual incremental rebuild) it is spoken in-process:
starting a worker and loading its model would cost more than the line.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from podcast import cache as cachemod
from podcast.audio import SAMPLE_RATE, Music, SpokenLine, TimedSentence
from podcast.config import AudioSettings
from podcast.encode import ENCODER_DELAY, SAMPLES_PER_FRAME, count_frames, encode_chunk
from podcast.errors import AudioError
from podcast.fsutil import atomic_open
from podcast.lexicon import Lexicon
from podcast.models import Line, Script, Section, VoiceProfile
from podcast.speak import LineTask, engine_key, init_worker, load_line, synthesize
from podcast.speech import speakable, split_sentences
from podcast.tts import get_engine

LINE_FORMAT = 1
"""Bump when what a cached line holds changes."""
CHUNK_FORMAT = 6
"""Bump when mixing, mastering or encoding changes what a cached chunk holds."""
INTRO_LEAD = 0.3
"""Silence before the first word, so players that fade in do not swallow it."""
OUTRO_TAIL = 1.5


@dataclass(frozen=True)
class SectionJob:
    index: int
    section: Section
    profiles: dict[str, VoiceProfile]
    settings: AudioSettings
    cache_root: Path
    lead: float
    tail: float | None
    music: Music | None = None
    engine_modules: tuple[str, ...] = ()
    """Modules that register the engines used, imported in the worker (a spawned process starts
    with only the built-in engines known)."""
    lexicon: Lexicon = field(default_factory=Lexicon)

    def written_sentences(self, line: Line) -> list[str]:
        """The line's sentences as transcripts show them."""
        return split_sentences(speakable(line.text))

    def line_sentences(self) -> list[tuple[Line, list[str]]]:
        """Each line's sentences as its voice receives them: respelled by the show's lexicon."""
        out = []
        for line in self.section.lines:
            engine = self.profiles[line.speaker].engine
            out.append((line, [self.lexicon.apply(s, engine) for s in self.written_sentences(line)]))
        return out

    def line_key(self, line: Line, sentences: list[str]) -> str:
        p = self.profiles[line.speaker]
        # Engine settings join the key only when set, so lines cached before they existed stay valid.
        extra = [dict(p.settings)] if p.settings else []
        return cachemod.key("line", LINE_FORMAT, p.engine, p.voice, p.speed, sentences, *extra)

    def line_tasks(self) -> list[LineTask]:
        """Each line of the section as the synthesis stage takes it."""
        return [
            LineTask(
                key=self.line_key(line, sentences),
                speaker=line.speaker,
                profile=self.profiles[line.speaker],
                sentences=tuple(sentences),
                written=tuple(self.written_sentences(line)),
                section=self.section.title,
                sentence_pause=self.settings.sentence_pause,
                cache_root=self.cache_root,
            )
            for line, sentences in self.line_sentences()
        ]

    def chunk_key(self) -> str:
        lines = self.line_sentences()
        keys = [(line.speaker, self.line_key(line, s)) for line, s in lines]
        music = (self.music.role, self.music.digest) if self.music else None
        # Two spellings said alike share a line's audio but not the chunk's transcript: where the
        # lexicon respelled a line, the words as written join the key (only then, so others stay valid).
        written = [w for line, s in lines if (w := self.written_sentences(line)) != s]
        extra = [written] if written else []
        return cachemod.key(
            "chunk", CHUNK_FORMAT, keys, asdict(self.settings), self.lead, self.tail, music, *extra
        )


@dataclass(frozen=True)
class RenderedSection:
    index: int
    chunk: Path
    frames: int
    sentences: tuple[TimedSentence, ...]
    """Times in seconds from the start of this section's chunk (encoder delay included)."""
    synthesized: int
    """Lines that had to be synthesized (0 when everything came from the cache)."""

    @property
    def duration(self) -> float:
        return self.frames * SAMPLES_PER_FRAME / SAMPLE_RATE


@dataclass(frozen=True)
class Rendering:
    sections: tuple[RenderedSection, ...]

    @property
    def starts(self) -> list[float]:
        """Each section's start time in the episode."""
        out: list[float] = []
        t = 0
        for s in self.sections:
            out.append(t * SAMPLES_PER_FRAME / SAMPLE_RATE)
            t += s.frames
        return out

    @property
    def duration(self) -> float:
        return sum(s.frames for s in self.sections) * SAMPLES_PER_FRAME / SAMPLE_RATE

    @property
    def synthesized_sections(self) -> list[int]:
        return [s.index for s in self.sections if s.synthesized]

    def sentences(self) -> list[TimedSentence]:
        """Every sentence with its time in the whole episode."""
        out: list[TimedSentence] = []
        for start, sec in zip(self.starts, self.sections, strict=True):
            out.extend(
                TimedSentence(start + t.start, start + t.end, t.speaker, t.text) for t in sec.sentences
            )
        return out

    def write_mp3(self, path: Path) -> None:
        """Concatenate the sections' frames into one MP3, atomically."""
        with atomic_open(path, "wb") as out:
            for s in self.sections:
                out.write(s.chunk.read_bytes())


Progress = Callable[[int, int, str], None]


def render(
    script: Script,
    profiles: dict[str, VoiceProfile],
    settings: AudioSettings,
    cache_root: Path,
    *,
    workers: int | None = None,
    progress: Progress | None = None,
    music_root: Path | None = None,
    lexicon: Lexicon | None = None,
) -> Rendering:
    """Render every section, taking finished chunks from the cache and the rest from the voices.

    Music files named in `settings` are read relative to `music_root` (the show folder). `lexicon`
    (the show's voices/lexicon.toml) respells what each voice receives; transcripts keep the text.
    """
    n = len(script.sections)
    cues = music_cues(settings, music_root) if music_root else {}
    jobs = [
        SectionJob(
            index=i,
            section=sec,
            profiles={ln.speaker: profiles[ln.speaker] for ln in sec.lines},
            settings=settings,
            cache_root=cache_root,
            lead=INTRO_LEAD if i == 0 else 0.0,
            tail=OUTRO_TAIL if i == n - 1 else None,
            music=_cue_for(script.sections, i, cues),
            engine_modules=tuple(
                sorted({get_engine(profiles[ln.speaker].engine).__module__ for ln in sec.lines})
            ),
            lexicon=lexicon or Lexicon(),
        )
        for i, sec in enumerate(script.sections)
    ]
    done: dict[int, RenderedSection] = {}
    todo: list[SectionJob] = []
    for job in jobs:
        hit = _cached_section(job)
        if hit is None:
            todo.append(job)
        else:
            done[job.index] = hit
    report = progress or (lambda i, total, title: None)
    report(len(done), n, "cached")
    if todo:
        _render_sections(
            todo, workers or os.cpu_count() or 1, done, lambda title: report(len(done), n, title)
        )
    return Rendering(tuple(done[i] for i in range(n)))


def _cue_for(sections: Sequence[Section], index: int, cues: dict[str, Music]) -> Music | None:
    kind = sections[index].kind
    if kind in ("intro", "outro"):
        return cues.get(kind)
    # The stinger marks the change from one paper to the next.
    after_paper = index > 0 and sections[index - 1].kind == "paper"
    return cues.get("stinger") if kind == "paper" and after_paper else None


def music_cues(settings: AudioSettings, root: Path) -> dict[str, Music]:
    """The show's music files, decoded once; AudioError naming the setting when one cannot be used."""
    from podcast.encode import decode

    cues = {}
    for role, name in (
        ("intro", settings.intro_music),
        ("outro", settings.outro_music),
        ("stinger", settings.stinger),
    ):
        if not name:
            continue
        path = root / name
        where = f"podcast.toml [audio] {'stinger' if role == 'stinger' else role + '_music'}"
        try:
            data = path.read_bytes()
        except OSError:
            raise AudioError(f"{where}: {name!r} not found; give an audio file or leave it empty") from None
        try:
            audio = decode(str(path))
        except AudioError:
            raise AudioError(f"{where}: {name!r} is not an audio file ffmpeg can read") from None
        if len(audio) < SAMPLE_RATE // 10:
            raise AudioError(f"{where}: {name!r} holds no audio")
        cues[role] = Music(role, audio, hashlib.sha256(data).hexdigest())
    return cues


ENCODERS = 2
"""Threads running ffmpeg: encoding a section takes about a third of its synthesis, so two keep up
with the voices and drain the last sections quickly."""

K = TypeVar("K", bound=Hashable)


def share_workers(work: dict[K, float], workers: int, limits: dict[K, int]) -> dict[K, int]:
    """Worker processes per engine: one each, then one at a time to the engine with the most work per
    worker, none beyond its number of lines.

    >>> share_workers({"piper": 20.0, "hibari": 15.0}, 2, {"piper": 9, "hibari": 30})
    {'piper': 1, 'hibari': 1}
    >>> share_workers({"piper": 20.0, "hibari": 15.0}, 4, {"piper": 9, "hibari": 30})
    {'piper': 2, 'hibari': 2}
    >>> share_workers({"piper": 20.0, "hibari": 5.0}, 4, {"piper": 9, "hibari": 30})
    {'piper': 3, 'hibari': 1}
    """
    n = dict.fromkeys(work, 1)
    for _ in range(workers - len(work)):
        open_ = [g for g in work if n[g] < limits[g]]
        if not open_:
            break
        n[max(open_, key=lambda g: work[g] / n[g])] += 1
    return n


def _render_sections(
    todo: list[SectionJob], workers: int, done: dict[int, RenderedSection], report: Callable[[str], None]
) -> None:
    """Speak the lines missing from the line cache, then mix, master and encode each section."""
    cache = cachemod.Cache(todo[0].cache_root)
    plans = [(job, job.line_tasks()) for job in todo]
    missing: dict[str, LineTask] = {}
    owner: dict[str, int] = {}
    """The section that a line is synthesized for (the first that needs it), to count per section."""
    for job, tasks in plans:
        for t in tasks:
            if t.key not in missing and load_line(cache, t.key, t.speaker, t.written) is None:
                missing[t.key] = t
                owner[t.key] = job.index
    synthesized = {job.index: sum(1 for i in owner.values() if i == job.index) for job in todo}

    if len(missing) <= 1 or workers == 1:
        for job, tasks in plans:
            for t in tasks:
                if owner.get(t.key) == job.index:
                    synthesize(t)
            done[job.index] = _encode(job, *_mix(job, tasks, cache), synthesized[job.index])
            report(job.section.title)
        return

    # One pool per engine; `missing` is in section order, so each pool gets its lines in that order.
    groups: dict[Hashable, list[LineTask]] = {}
    for t in missing.values():
        groups.setdefault(engine_key(t.profile), []).append(t)
    work = {
        g: get_engine(ts[0].profile.engine).cost * sum(len(s) for t in ts for s in t.sentences)
        for g, ts in groups.items()
    }
    sizes = share_workers(work, workers, {g: len(ts) for g, ts in groups.items()})
    waiting = {job.index: {t.key for t in tasks if t.key in missing} for job, tasks in plans}
    unmixed = list(plans)
    ctx = get_context("spawn")  # fork would copy the parent's threads and onnxruntime state
    synth: dict[Future[None], tuple[str, Hashable]] = {}
    encoding: dict[Future[RenderedSection], SectionJob] = {}
    with contextlib.ExitStack() as stack:
        encoder = stack.enter_context(ThreadPoolExecutor(ENCODERS))
        pools: dict[Hashable, ProcessPoolExecutor] = {}
        left: dict[Hashable, int] = {}
        for g, tasks in groups.items():
            module = get_engine(tasks[0].profile.engine).__module__
            pools[g] = stack.enter_context(
                ProcessPoolExecutor(sizes[g], mp_context=ctx, initializer=init_worker, initargs=((module,),))
            )
            left[g] = len(tasks)
            for t in tasks:
                synth[pools[g].submit(synthesize, t)] = (t.key, g)
        try:
            while synth or encoding or unmixed:
                # Mix every section whose lines are all cached, in order; the encoder threads take it.
                while unmixed and not waiting[unmixed[0][0].index]:
                    job, tasks = unmixed.pop(0)
                    audio, timed = _mix(job, tasks, cache)
                    encoding[encoder.submit(_encode, job, audio, timed, synthesized[job.index])] = job
                if not (synth or encoding):
                    continue
                running: list[Future[Any]] = [*synth, *encoding]
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for fut in finished:
                    if fut in encoding:
                        job = encoding.pop(fut)
                        done[job.index] = fut.result()
                        report(job.section.title)
                        continue
                    key, g = synth.pop(fut)
                    fut.result()  # an engine's failure: raise it, after cancelling the rest below
                    for keys in waiting.values():
                        keys.discard(key)
                    left[g] -= 1
                    if not left[g]:
                        pools[g].shutdown(wait=False)  # this engine is done: free its processes' memory
        except BaseException:
            # Lines already spoken stay cached (the running ones finish), so the next build resumes.
            for other in synth:
                other.cancel()
            raise


def _chunk_paths(job: SectionJob) -> tuple[Path, Path]:
    cache = cachemod.Cache(job.cache_root)
    key = job.chunk_key()
    return cache.path("chunk", key, ".mp3"), cache.path("chunk", key, ".json")


def _cached_section(job: SectionJob) -> RenderedSection | None:
    mp3, meta_path = _chunk_paths(job)
    try:
        meta = json.loads(meta_path.read_text("utf-8"))
    except (FileNotFoundError, ValueError):
        return None
    if not mp3.is_file():
        return None
    sentences = tuple(TimedSentence(*s) for s in meta["sentences"])
    return RenderedSection(job.index, mp3, int(meta["frames"]), sentences, 0)


# -- the stages after synthesis ------------------------------------------------------------------


def _mix(
    job: SectionJob, tasks: Sequence[LineTask], cache: cachemod.Cache
) -> tuple[np.ndarray, list[TimedSentence]]:
    """The section's lines from the line cache, mixed and mastered."""
    from podcast.mix import mix_section  # scipy: the parent's, never a worker's

    spoken: list[SpokenLine] = []
    for t in tasks:
        got = load_line(cache, t.key, t.speaker, t.written)
        if got is None:
            raise AudioError(f"the cached audio of a line of '{job.section.title}' vanished; build again")
        spoken.append(got)
    return mix_section(spoken, job.settings, lead=job.lead, tail=job.tail, music=job.music)


def _encode(
    job: SectionJob, audio: np.ndarray, timed: list[TimedSentence], synthesized: int
) -> RenderedSection:
    """Encode a mixed section and store its chunk."""
    cache = cachemod.Cache(job.cache_root)
    data = encode_chunk(audio, job.settings.bitrate)
    frames = count_frames(data)
    delay = ENCODER_DELAY / SAMPLE_RATE
    timed = [TimedSentence(t.start + delay, t.end + delay, t.speaker, t.text) for t in timed]
    mp3, meta = _chunk_paths(job)
    cache.put("chunk", mp3.stem, ".mp3", data)
    # The metadata is written last: its presence is what marks the chunk as complete.
    cache.put(
        "chunk",
        meta.stem,
        ".json",
        json.dumps(
            {"frames": frames, "sentences": [[t.start, t.end, t.speaker, t.text] for t in timed]}
        ).encode(),
    )
    return RenderedSection(job.index, mp3, frames, tuple(timed), synthesized)
