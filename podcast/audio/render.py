"""Speak and encode a script in parallel, reusing every cached piece.

Two cache levels make rebuilds cheap: each line's synthesized audio is keyed by (engine, voice,
speed, normalized sentences), and each encoded MP3 chunk by its lines' keys plus the mastering
settings and the silence around them. A chunk holds one line with the pause before it (a section
with music holds all its lines, since the bed runs under them). MP3 chunks concatenate into one
stream; each adds the encoder's delay and padding, about 50 ms, to the pause before its line. An
edit to one paragraph changes one line: it alone is synthesized, mastered and encoded, and every
other chunk is reused byte for byte.

Synthesis (podcast.audio.speak) runs in an executor's workers (podcast.audio.executors): worker
processes on this machine, one pool per engine, or Ray actors on a cluster. Each worker loads one
voice model: the models' memory, not mastering, is what a worker costs, and a worker holding every
engine of the show cost the sum of them. The workers are shared out between the engines in
proportion to each one's work (characters times the engine's `cost`), and lines are handed out in
script order, so chunks complete early. Each line lands in the line cache; as soon as the lines of
a chunk are there, this process masters it (only the building process imports the mastering code)
and a thread encodes it with LAME, so mastering and encoding overlap synthesis.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path
from typing import IO, Any

import numpy as np

from podcast import cache as cachemod
from podcast.audio.clips import SAMPLE_RATE, Music, SpokenLine, TimedSentence, give_back_memory
from podcast.audio.encode import ENCODER_DELAY, SAMPLES_PER_FRAME, count_frames, encode_chunk
from podcast.audio.executors import WORKERS_ENV as WORKERS_ENV
from podcast.audio.executors import Executor
from podcast.audio.executors import executor as get_executor
from podcast.audio.executors import worker_count as worker_count
from podcast.audio.speak import LineTask, load_line, speech_key
from podcast.errors import AudioError
from podcast.fsutil import atomic_open
from podcast.models import Line, Script, Section, VoiceProfile
from podcast.settings import AudioSettings
from podcast.writing.lexicon import Lexicon
from podcast.writing.speech import spoken_and_written

LINE_FORMAT = 1
"""Bump when what a cached line holds changes."""
CHUNK_FORMAT = 10
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
    lexicon: Lexicon = field(default_factory=Lexicon)

    def written_sentences(self, line: Line) -> list[str]:
        """The line's sentences as transcripts show them ("" where a piece continues a sentence)."""
        return [w for _, w in spoken_and_written(line.text)]

    @cached_property
    def tasks(self) -> tuple[LineTask, ...]:
        """Each line of the section as the synthesis stage takes it; its sentences as the voice
        receives them (respelled by the show's lexicon), and as transcripts show them (written)."""
        out = []
        for line in self.section.lines:
            pairs = spoken_and_written(line.text)
            sentences = [self.lexicon.apply(s, self.profiles[line.speaker].engine) for s, _ in pairs]
            written = [w for _, w in pairs]
            out.append(
                LineTask(
                    key=self.line_key(line, sentences),
                    speaker=line.speaker,
                    profile=self.profiles[line.speaker],
                    sentences=tuple(sentences),
                    written=tuple(written),
                    section=self.section.title,
                    sentence_pause=self.settings.sentence_pause,
                    cache_root=self.cache_root,
                )
            )
        return tuple(out)

    def line_sentences(self) -> list[tuple[Line, list[str]]]:
        return [(line, list(t.sentences)) for line, t in zip(self.section.lines, self.tasks, strict=True)]

    def line_key(self, line: Line, sentences: list[str]) -> str:
        return speech_key(self.profiles[line.speaker], "line", LINE_FORMAT, sentences)

    def parts(self) -> list[Part]:
        """How the section is encoded: each line on its own, so an edited line re-encodes alone;
        a section with a music bed as one piece, since the bed runs under every line. A stinger
        plays before the first word, so it goes with the first line."""
        n = len(self.section.lines)
        if n <= 1 or (self.music is not None and self.music.role != "stinger"):
            return [Part(0, tuple(range(n)), self.lead, self.tail, self.music)]
        return [
            Part(
                i,
                (i,),
                self.lead if i == 0 else self.settings.line_pause,
                self.tail if i == n - 1 else 0.0,
                self.music if i == 0 else None,
            )
            for i in range(n)
        ]

    def chunk_key(self, part: Part) -> str:
        tasks = [self.tasks[i] for i in part.lines]
        keys = [(t.speaker, t.key) for t in tasks]
        music = (part.music.role, part.music.digest) if part.music else None
        # Two spellings said alike share a line's audio but not the chunk's transcript: where the
        # lexicon respelled a line, the words as written join the key (only then, so others stay valid).
        written = [list(t.written) for t in tasks if t.written != t.sentences]
        extra = [written] if written else []
        return cachemod.key(
            "chunk", CHUNK_FORMAT, keys, asdict(self.settings), part.lead, part.tail, music, *extra
        )


@dataclass(frozen=True)
class Part:
    """Lines of a section encoded together as one MP3 chunk."""

    number: int
    lines: tuple[int, ...]
    """Indexes into the section's lines."""
    lead: float
    """Silence before the first line: the section's lead, or the pause after the previous line."""
    tail: float | None
    """Silence after the last line (None: the section pause)."""
    music: Music | None = None


@dataclass(frozen=True)
class Chunk:
    """An encoded part: a run of whole MP3 frames in the cache."""

    path: Path
    frames: int
    sentences: tuple[TimedSentence, ...]
    """Times in seconds from the start of the chunk (encoder delay included)."""


@dataclass(frozen=True)
class RenderedSection:
    index: int
    chunks: tuple[Path, ...]
    frames: int
    sentences: tuple[TimedSentence, ...]
    """Times in seconds from the start of the section."""
    synthesized: int
    """Lines that had to be synthesized (0 when everything came from the cache)."""

    @property
    def duration(self) -> float:
        return self.frames * SAMPLES_PER_FRAME / SAMPLE_RATE

    @classmethod
    def of(cls, index: int, chunks: Sequence[Chunk], synthesized: int) -> RenderedSection:
        sentences: list[TimedSentence] = []
        frames = 0
        for c in chunks:
            start = frames * SAMPLES_PER_FRAME / SAMPLE_RATE
            sentences += [t.later(start) for t in c.sentences]
            frames += c.frames
        return cls(index, tuple(c.path for c in chunks), frames, tuple(sentences), synthesized)


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
            out.extend(t.later(start) for t in sec.sentences)
        return out

    def write_frames(self, out: IO[bytes]) -> None:
        """Every chunk's MP3 frames, in order: together one valid stream."""
        for s in self.sections:
            for chunk in s.chunks:
                out.write(chunk.read_bytes())

    def write_mp3(self, path: Path) -> None:
        """Concatenate the sections' frames into one MP3, atomically."""
        with atomic_open(path, "wb") as out:
            self.write_frames(out)


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
    executor: str = "local",
) -> Rendering:
    """Render every section, taking finished chunks from the cache and the rest from the voices.

    Music files named in `settings` are read relative to `music_root` (the show folder). `lexicon`
    (the show's voices/lexicon.toml) respells what each voice receives; transcripts keep the text.
    `executor` names where the voices speak (podcast.audio.executors), with at most `workers` workers.
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
        speak = get_executor(executor)
        _render_sections(todo, speak, workers, done, lambda title: report(len(done), n, title))
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
    from podcast.audio.encode import decode

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
"""Threads running LAME (it releases the GIL): encoding a line takes a fraction of its synthesis, so
two keep up with the voices and drain the last lines quickly."""

@dataclass(frozen=True)
class _Plan:
    """What rendering the sections still takes, after looking in both caches."""

    parts_of: dict[int, list[Part]]
    """Each section's parts, in order."""
    chunks: dict[int, dict[int, Chunk]]
    """Each section's encoded parts by number: those in the chunk cache, then each as it is encoded."""
    pending: list[tuple[SectionJob, Part, list[LineTask]]]
    """Parts to mix and encode, in script order, with their lines."""
    missing: dict[str, LineTask]
    """Lines missing from the line cache, by key: each is synthesized once, however many parts use it."""
    synthesized: Counter[int]
    """Lines synthesized per section, a shared line counted for the first section that needs it."""


def _plan(todo: list[SectionJob], cache: cachemod.Cache) -> _Plan:
    """The parts of `todo` that no cached chunk covers, and the lines they need that no cached line does."""
    parts_of = {job.index: job.parts() for job in todo}
    chunks: dict[int, dict[int, Chunk]] = {job.index: {} for job in todo}
    pending: list[tuple[SectionJob, Part, list[LineTask]]] = []
    for job in todo:
        for part in parts_of[job.index]:
            hit = _cached_chunk(job, part)
            if hit is not None:
                chunks[job.index][part.number] = hit
            else:
                pending.append((job, part, [job.tasks[i] for i in part.lines]))
    missing: dict[str, LineTask] = {}
    owner: dict[str, int] = {}
    for job, _, tasks in pending:
        for t in tasks:
            if t.key not in missing and load_line(cache, t.key, t.speaker, t.written) is None:
                missing[t.key] = t
                owner[t.key] = job.index
    return _Plan(parts_of, chunks, pending, missing, Counter(owner.values()))


def _render_sections(
    todo: list[SectionJob],
    speak: Executor,
    workers: int | None,
    done: dict[int, RenderedSection],
    report: Callable[[str], None],
) -> None:
    """Speak the lines missing from the line cache, then mix, master and encode each part not cached."""
    cache = cachemod.Cache(todo[0].cache_root)
    plan = _plan(todo, cache)
    pending, missing = plan.pending, plan.missing
    waiting = [{t.key for t in tasks if t.key in missing} for _, _, tasks in pending]
    """Per pending part, the keys of its lines not spoken yet: it is mixed when none is left."""

    def encoded(job: SectionJob, part: Part, chunk: Chunk) -> None:
        got, parts = plan.chunks[job.index], plan.parts_of[job.index]
        got[part.number] = chunk
        if len(got) == len(parts):
            ordered = [got[p.number] for p in parts]
            done[job.index] = RenderedSection.of(job.index, ordered, plan.synthesized[job.index])
            report(job.section.title)

    encoding: dict[Future[Chunk], tuple[SectionJob, Part]] = {}
    mixed = 0
    with contextlib.ExitStack() as stack:
        encoder = stack.enter_context(ThreadPoolExecutor(ENCODERS))
        lines = speak.start(stack, list(missing.values()), workers) if missing else None
        try:
            while mixed < len(pending) or (lines and lines.running) or encoding:
                # Mix every part whose lines are all cached, in order; the encoder threads take it.
                while mixed < len(pending) and not waiting[mixed]:
                    job, part, tasks = pending[mixed]
                    mixed += 1
                    audio, timed = _mix(job, part, tasks, cache)
                    encoding[encoder.submit(_encode, job, part, audio, timed)] = (job, part)
                running: list[Future[Any]] = [*(lines.running if lines else ()), *encoding]
                if not running:
                    continue
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for fut in finished:
                    if fut in encoding:
                        encoded(*encoding.pop(fut), fut.result())
                        give_back_memory()  # the part's mixed audio is gone: its pages too
                    elif lines:
                        key = lines.finish(fut)  # a line's failure: raised, after cancelling the rest
                        for keys in waiting:
                            keys.discard(key)
        except BaseException:
            # Lines already spoken stay cached (the running ones finish), so the next build resumes.
            if lines:
                lines.cancel()
            raise


def _cached_chunk(job: SectionJob, part: Part) -> Chunk | None:
    got = cachemod.Cache(job.cache_root).get_recorded("chunk", job.chunk_key(part), ".mp3")
    if got is None:
        return None
    mp3, meta = got
    return Chunk(mp3, int(meta["frames"]), tuple(TimedSentence(*s) for s in meta["sentences"]))


def _cached_section(job: SectionJob) -> RenderedSection | None:
    chunks = []
    for part in job.parts():
        chunk = _cached_chunk(job, part)
        if chunk is None:
            return None
        chunks.append(chunk)
    return RenderedSection.of(job.index, chunks, 0)


# -- the stages after synthesis ------------------------------------------------------------------


def _mix(
    job: SectionJob, part: Part, tasks: Sequence[LineTask], cache: cachemod.Cache
) -> tuple[np.ndarray, list[TimedSentence]]:
    """The part's lines from the line cache, mixed and mastered."""
    from podcast.audio.mix import mix_section  # mastering: the parent's, never a worker's

    spoken: list[SpokenLine] = []
    for t in tasks:
        got = load_line(cache, t.key, t.speaker, t.written)
        if got is None:
            raise AudioError(f"the cached audio of a line of '{job.section.title}' vanished; build again")
        spoken.append(got)
    return mix_section(spoken, job.settings, lead=part.lead, tail=part.tail, music=part.music)


def _encode(job: SectionJob, part: Part, audio: np.ndarray, timed: list[TimedSentence]) -> Chunk:
    """Encode a mixed part and store its chunk."""
    cache = cachemod.Cache(job.cache_root)
    data = encode_chunk(audio, job.settings.bitrate)
    frames = count_frames(data)
    delay = ENCODER_DELAY / SAMPLE_RATE
    timed = [t.later(delay) for t in timed]
    meta = {"frames": frames, "sentences": [[t.start, t.end, t.speaker, t.text] for t in timed]}
    mp3 = cache.put_recorded("chunk", job.chunk_key(part), ".mp3", data, meta)
    return Chunk(mp3, frames, tuple(timed))
