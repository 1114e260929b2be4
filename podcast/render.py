"""Speak and encode a script, section by section, in parallel, reusing every cached piece.

Two cache levels make rebuilds cheap: each line's synthesized audio is keyed by (engine, voice,
speed, normalized sentences), and each section's encoded MP3 chunk by its lines' keys plus the
mastering settings. An edit to one paper changes one section's key: that section alone is
synthesized (only its changed lines) and encoded; the others are reused byte for byte.

Sections are rendered in worker processes, one engine load per voice per worker, each worker
synthesizing, mastering and encoding a whole section, so MP3 encoding overlaps synthesis.
"""

from __future__ import annotations

import hashlib
import importlib
import io
import json
import os
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from multiprocessing import get_context
from pathlib import Path

import numpy as np

from podcast import cache as cachemod
from podcast.config import AudioSettings
from podcast.encode import ENCODER_DELAY, SAMPLES_PER_FRAME, count_frames, encode_chunk
from podcast.errors import AudioError, EngineError, PodcastError
from podcast.fsutil import atomic_open
from podcast.lexicon import Lexicon
from podcast.master import SAMPLE_RATE
from podcast.mix import Music, SpokenLine, TimedSentence, join_sentences, mix_section
from podcast.models import Line, Script, Section, VoiceProfile
from podcast.speech import speakable, split_sentences
from podcast.tts import TTSEngine, get_engine

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
    workers = workers or os.cpu_count() or 1
    if len(todo) <= 1 or workers == 1:
        for job in todo:
            done[job.index] = render_section(job)
            report(len(done), n, job.section.title)
    else:
        _render_parallel(todo, min(workers, len(todo)), done, lambda title: report(len(done), n, title))
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


def _render_parallel(
    todo: list[SectionJob], workers: int, done: dict[int, RenderedSection], report: Callable[[str], None]
) -> None:
    # Longest sections first, so the last one to finish is short and no core waits long for it.
    todo = sorted(todo, key=lambda j: -sum(len(ln.text) for ln in j.section.lines))
    ctx = get_context("spawn")  # fork would copy the parent's threads and onnxruntime state
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        pending: dict[Future[RenderedSection], SectionJob] = {pool.submit(render_section, j): j for j in todo}
        while pending:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in finished:
                job = pending.pop(fut)
                try:
                    done[job.index] = fut.result()
                except PodcastError:
                    for other in pending:
                        other.cancel()
                    raise
                report(job.section.title)


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


# -- in a worker -------------------------------------------------------------------------------------

_ENGINES: dict[tuple[str, str, float, tuple[tuple[str, str], ...]], TTSEngine] = {}


def _engine(profile: VoiceProfile) -> TTSEngine:
    k = (profile.engine, profile.voice, profile.speed, profile.settings)
    if k not in _ENGINES:
        try:
            _ENGINES[k] = get_engine(profile.engine)(profile.voice, profile.speed, **dict(profile.settings))
        except EngineError as e:
            raise EngineError(f"voices/{profile.id}.toml: {e}") from None
    return _ENGINES[k]


def render_section(job: SectionJob) -> RenderedSection:
    """Synthesize (or load) every line, master and encode the section, store the chunk."""
    for module in job.engine_modules:
        importlib.import_module(module)
    cache = cachemod.Cache(job.cache_root)
    spoken, synthesized = [], 0
    for line, sentences in job.line_sentences():
        key = job.line_key(line, sentences)
        written = job.written_sentences(line)
        got = _load_line(cache, key, line.speaker, written)
        if got is None:
            got = _speak_line(job, line, sentences, written)
            _store_line(cache, key, got)
            synthesized += 1
        spoken.append(got)
    audio, timed = mix_section(spoken, job.settings, lead=job.lead, tail=job.tail, music=job.music)
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


def _speak_line(job: SectionJob, line: Line, sentences: Sequence[str], written: Sequence[str]) -> SpokenLine:
    """Synthesize `sentences` (as the voice should receive them); the line keeps the `written` ones."""
    profile = job.profiles[line.speaker]
    engine = _engine(profile)
    clips = []
    for sentence in sentences:
        try:
            clip = engine.speak(sentence)
        except EngineError as e:  # e.g. a refused API key: say which profile to fix
            raise EngineError(f"voices/{profile.id}.toml: {e}") from None
        except PodcastError:
            raise
        except Exception as e:  # an engine's own failure, whatever its type: name the place and the text
            raise EngineError(
                f"{engine.name} could not speak a sentence of '{job.section.title}': {sentence[:120]!r} ({e})"
            ) from None
        if not np.all(np.isfinite(clip)):
            raise EngineError(
                f"{engine.name} returned invalid audio for '{job.section.title}': {sentence[:120]!r}"
            )
        clips.append(clip)
    audio, spans = join_sentences(clips, engine.sample_rate, job.settings.sentence_pause)
    return SpokenLine(line.speaker, engine.sample_rate, audio, tuple(spans), tuple(written))


def _store_line(cache: cachemod.Cache, key: str, line: SpokenLine) -> None:
    buf = io.BytesIO()
    pcm = (np.clip(line.audio, -1, 1) * 32767).astype("<i2")
    np.savez(buf, audio=pcm, spans=np.asarray(line.spans, np.int64).reshape(-1, 2), rate=line.rate)
    cache.put("line", key, ".npz", buf.getvalue())


def _load_line(cache: cachemod.Cache, key: str, speaker: str, sentences: list[str]) -> SpokenLine | None:
    data = cache.get("line", key, ".npz")
    if data is None:
        return None
    try:
        with np.load(io.BytesIO(data)) as z:
            audio = z["audio"].astype(np.float32) / 32767
            spans = tuple((int(a), int(b)) for a, b in z["spans"])
            rate = int(z["rate"])
    except (ValueError, KeyError, OSError):
        return None  # a damaged entry is simply synthesized again
    if len(spans) != len(sentences):
        return None
    return SpokenLine(speaker, rate, audio, spans, tuple(sentences))
