"""Rendering benchmark: papercast's parallel, cached renderer against the naive pydub loop.

One run builds a fixed ~20-minute script from the sample episodes' abstracts and measures, with
the default voices (piper "joe" as host, hibari "heart" as co-host):

- cold: render + write_mp3 + tag_mp3 in an empty cache (wall time, real-time factor, peak memory);
- warm: the same with the cache full;
- incremental: one paper's co-host paragraph edited, everything else cached;
- naive: every sentence synthesized in turn in one process, pydub `+=` concatenation, one export.

Peak memory is the summed RSS of the whole process tree (parent, spawn-ed workers, ffmpeg), sampled
from /proc every 50 ms by a thread. Results are printed as a table and written to bench/out/results.json.

    .venv/bin/python bench/render_bench.py        (or: make bench)
"""

from __future__ import annotations

import glob
import json
import os
import platform
import re
import sys
import tempfile
import threading
import time
import tomllib
from dataclasses import dataclass, field, replace
from datetime import date
from multiprocessing import get_context
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from podcast.audio.render import Rendering, render
from podcast.build import chapters_of
from podcast.models import Category, Line, Script, Section, Show, VoiceProfile
from podcast.settings import AudioSettings
from podcast.writing.speech import speakable, split_sentences

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out" / "results.json"
EPISODES = ROOT / "episodes"

TARGET_SECONDS = 20 * 60
DURATION_RANGE = (19 * 60, 21 * 60)
CHARS_PER_SECOND = 14.6
"""Measured speaking rate of both default voices (written characters per second of audio);
only used to choose how many paper sections make about 20 minutes."""
PAUSE_PER_SECTION = 3.5
"""Seconds of pauses in a paper section (between sentences, lines and after the section)."""
EDITED_SECTION = 7
"""The paper section whose co-host paragraph the incremental run edits."""

COLD_LIMIT = 70.0
RTF_LIMIT = 0.06
SPEEDUP_MIN = 1.5
INCREMENTAL_MAX = 0.10
MEMORY_LIMIT_MB = 1000.0
SAMPLE_INTERVAL = 0.05
NOISE_SHARE = 0.10
"""Other processes' share of the machine's CPU above which a phase's wall time is flagged as inflated."""
QUIET_WAIT = 60.0
"""Longest wait for the machine to become idle before a timed phase."""
NOISE_MIN_WALL = 5.0
"""Phases shorter than this are not flagged: /proc/stat's 10 ms ticks and our own fsyncs dominate them."""

PROFILES = {
    "host": VoiceProfile("host", "Joe", "piper", "joe"),
    "cohost": VoiceProfile("cohost", "Ava", "hibari", "heart"),
}
PUBLISHED = date(2024, 5, 10)
SHOW = Show(
    title="Papercast Weekly",
    description="Benchmark show.",
    author="The papercast team",
    email="papercast@example.org",
    language="en",
    base_url="https://papercast.example.org/",
    category=Category("Technology"),
)


# -- the script ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Abstract:
    title: str
    first_author: str
    url: str
    sentences: tuple[str, ...]


_WRITTEN_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9])")


def read_abstracts() -> tuple[list[Abstract], str, str]:
    """Every paper of every sample episode (sorted by folder), and the first episode's intro and outro."""
    abstracts, intro, outro = [], "", ""
    for path in sorted(glob.glob(str(EPISODES / "*" / "episode.toml"))):
        with open(path, "rb") as f:
            ep = tomllib.load(f)
        intro, outro = intro or ep.get("intro", ""), outro or ep.get("outro", "")
        for p in ep.get("papers", []):
            if p.get("abstract"):
                sentences = tuple(_WRITTEN_SENTENCE.split(p["abstract"].strip()))
                author = (p.get("authors") or ["the authors"])[0]
                abstracts.append(Abstract(p["title"], author, p.get("url", ""), sentences))
    if not abstracts:
        raise SystemExit(f"no paper abstracts under {EPISODES}/*/episode.toml: the benchmark needs them")
    return abstracts, intro, outro


def paragraphs(sentences: tuple[str, ...], rotate: int) -> list[str]:
    """The sentences, rotated (so a reused abstract never repeats a cached line), in 2 or 3 paragraphs."""
    k = rotate % len(sentences)
    s = sentences[k:] + sentences[:k]
    n = 3 if len(s) >= 7 else 2 if len(s) >= 2 else 1
    size = -(-len(s) // n)
    return [" ".join(s[i : i + size]) for i in range(0, len(s), size)]


def paper_section(number: int, a: Abstract, round_: int) -> Section:
    title = a.title if round_ == 0 else f"{a.title} (revisited, part {round_ + 1})"
    lines = [Line("host", f"Paper {number}: {title}, by {a.first_author} and colleagues.")]
    lines += [Line("cohost", p) for p in paragraphs(a.sentences, 2 * round_)]
    return Section("paper", title, tuple(lines), a.url)


def estimated_seconds(section: Section) -> float:
    return sum(len(ln.text) for ln in section.lines) / CHARS_PER_SECOND + PAUSE_PER_SECTION


def build_script() -> Script:
    """A fixed script of about TARGET_SECONDS: intro, as many paper sections as fit, outro."""
    abstracts, intro_text, outro_text = read_abstracts()
    intro = Section("intro", "Intro", (
        Line("host", "Welcome to Papercast Weekly, the benchmark edition. I'm Joe, and Ava reads summaries."),
        Line("host", intro_text or "This week we look at a long list of papers."),
    ))
    outro = Section("outro", "Outro", (
        Line("host", outro_text or "That was the week."),
        Line("host", "Thanks for listening to Papercast Weekly. See you next week."),
    ))
    sections: list[Section] = []
    total = estimated_seconds(intro) + estimated_seconds(outro)
    while total < TARGET_SECONDS:
        i = len(sections)
        sec = paper_section(i + 1, abstracts[i % len(abstracts)], i // len(abstracts))
        sections.append(sec)
        total += estimated_seconds(sec)
    script = Script((intro, *sections, outro))
    texts = [ln.text for s in script.sections for ln in s.lines]
    # A repeated line would come from the line cache during the cold run and flatter it.
    assert len(set(texts)) == len(texts), "the benchmark script repeats a line"
    return script


def edit_one_paragraph(script: Script, index: int) -> Script:
    """The script with one co-host paragraph of section `index` changed (its last sentence extended)."""
    sec = script.sections[index]
    assert sec.kind == "paper", f"section {index} is not a paper"
    pos = next(i for i, ln in enumerate(sec.lines) if ln.speaker == "cohost")
    line = sec.lines[pos]
    edited = replace(line, text=line.text + " We added this sentence after listening to the first take.")
    lines = (*sec.lines[:pos], edited, *sec.lines[pos + 1 :])
    sections = list(script.sections)
    sections[index] = replace(sec, lines=lines)
    return Script(tuple(sections))


# -- memory of a process tree ------------------------------------------------------------------------

_PAGE = os.sysconf("SC_PAGE_SIZE")


def _children_map() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue  # the process ended between listing and reading
        ppid = int(stat[stat.rindex(b")") + 2 :].split()[1])
        kids.setdefault(ppid, []).append(int(entry.name))
    return kids


def tree(root: int) -> list[tuple[int, int]]:
    """(pid, parent pid) of `root` and all its descendants."""
    kids, out, todo = _children_map(), [], [(root, 0)]
    while todo:
        pid, parent = todo.pop()
        out.append((pid, parent))
        todo.extend((kid, pid) for kid in kids.get(pid, []))
    return out


def _cmdline(pid: int) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read()
    except OSError:
        return b""


def _pss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
            for row in f:
                if row.startswith(b"Pss:"):
                    return int(row.split()[1]) * 1024
    except (OSError, IndexError, ValueError):
        pass
    return 0


def _role(cmdline: bytes, root: bool) -> str:
    if root:
        return "parent"
    if b"spawn_main" in cmdline:
        return "worker"
    return "ffmpeg" if b"ffmpeg" in cmdline else "other"


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE
    except (OSError, IndexError):
        return 0


@dataclass
class TreeMemory:
    """Peak summed RSS of a process and its descendants.

    RSS only: reading PSS (smaps_rollup) walks every page table and cost the parent 5 s of system
    time per cold render, slowing the very run it measured.
    """

    root: int
    interval: float = SAMPLE_INTERVAL
    peak_rss: int = 0
    peak_procs: int = 0
    pss_at_peak: int = 0
    """Summed PSS at the moment of the RSS peak."""
    at_peak: dict[str, list[int]] = field(default_factory=dict)
    """MB of each process counted in the peak, by role (parent, worker, ffmpeg)."""
    samples: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> TreeMemory:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        assert self._thread is not None
        self._thread.join()
        self._sample()  # one last look, so a very short run still has a reading

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def _sample(self) -> None:
        procs = tree(self.root)
        cmd = {pid: _cmdline(pid) for pid, _ in procs}
        # A child caught between fork and exec (subprocess starting ffmpeg) still runs its parent's
        # image, with the same command line, and shares all its pages: counting it would count the
        # parent twice.
        counted = [
            (pid, _rss(pid)) for pid, parent in procs if pid == self.root or cmd[pid] != cmd.get(parent)
        ]
        total = sum(rss for _, rss in counted)
        if total > self.peak_rss:
            self.peak_rss = total
            # PSS shares each page among the processes mapping it (libraries, ffmpeg's binary), so it
            # sums to what the tree really holds; reading it walks page tables, so only at a new peak.
            self.pss_at_peak = sum(_pss(pid) for pid, _ in counted)
            self.at_peak = {}
            for pid, rss in counted:
                role = _role(cmd[pid], pid == self.root)
                self.at_peak[role] = [*self.at_peak.get(role, []), round(rss / 2**20)]
        self.peak_procs = max(self.peak_procs, len(counted))
        self.samples += 1


# -- papercast ---------------------------------------------------------------------------------------


def machine_busy() -> float:
    """CPU seconds every process on the machine has used since boot (from /proc/stat)."""
    with open("/proc/stat", encoding="ascii") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def own_cpu() -> float:
    """CPU seconds of this process and of its children that have ended (workers, ffmpeg, the naive run)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


@dataclass
class CpuMeter:
    """CPU used by our process tree during a block, and by everything else on the machine meanwhile.

    Other engineers' test runs share this machine: a phase measured while they ran is slower for
    reasons that are not ours, and `others` says how much CPU they took.
    """

    ours: float = 0.0
    others: float = 0.0
    _start: tuple[float, float] = (0.0, 0.0)

    def __enter__(self) -> CpuMeter:
        self._start = (own_cpu(), machine_busy())
        return self

    def __exit__(self, *exc: object) -> None:
        self.ours = own_cpu() - self._start[0]
        self.others = max(0.0, machine_busy() - self._start[1] - self.ours)


def wait_for_quiet(limit: float = QUIET_WAIT) -> float:
    """Wait (up to `limit` s) until other processes leave the CPUs idle for 3 s; return the seconds waited.

    The machine is shared: a phase that starts during someone's test run measures their load too.
    """
    t0, quiet = time.perf_counter(), 0
    while quiet < 3 and time.perf_counter() - t0 < limit:
        before = machine_busy()
        time.sleep(1.0)
        busy = machine_busy() - before
        quiet = quiet + 1 if busy < NOISE_SHARE * (os.cpu_count() or 1) else 0
    return time.perf_counter() - t0


@dataclass(frozen=True)
class Run:
    wall: float
    stages: dict[str, float]
    rendering: Rendering
    mp3_bytes: int
    cpu: CpuMeter


def papercast_run(script: Script, cache: Path, mp3: Path) -> Run:
    """render + write_mp3 + tag_mp3 with a generated cover, timed stage by stage."""
    from podcast.episode.cover import show_cover
    from podcast.episode.tag import tag_mp3

    with CpuMeter() as cpu:
        t0 = time.perf_counter()
        rendering = render(script, PROFILES, AudioSettings(), cache)
        t1 = time.perf_counter()
        rendering.write_mp3(mp3)
        t2 = time.perf_counter()
        cover, _ = show_cover(None, SHOW.title, cache)  # as a build does: drawn once, then cached
        t3 = time.perf_counter()
        tag_mp3(mp3, show=SHOW, title="Benchmark episode", published=PUBLISHED,
                description="A fixed script for the rendering benchmark.",
                chapters=chapters_of(script, rendering),
                cover=cover, cover_mime="image/jpeg", audio_ms=round(rendering.duration * 1000))
        t4 = time.perf_counter()
    stages = {"render": t1 - t0, "write_mp3": t2 - t1, "make_cover": t3 - t2, "tag_mp3": t4 - t3}
    return Run(t4 - t0, stages, rendering, mp3.stat().st_size, cpu)


# -- the naive loop (in its own process, so its memory is its own) --------------------------------------


def naive_render(script: Script, settings: AudioSettings, mp3: Path) -> dict[str, float]:
    """Every sentence in turn, engines loaded once, `+=` on one AudioSegment, one MP3 export."""
    t0 = time.perf_counter()
    import warnings

    import imageio_ffmpeg
    import numpy as np

    with warnings.catch_warnings():  # "couldn't find ffmpeg" on import: it is set just below
        warnings.simplefilter("ignore", RuntimeWarning)
        from pydub import AudioSegment

    from podcast.tts import TTSEngine, get_engine

    AudioSegment.converter = imageio_ffmpeg.get_ffmpeg_exe()
    engines: dict[str, TTSEngine] = {
        sid: get_engine(p.engine)(p.voice, p.speed) for sid, p in PROFILES.items()
    }
    rate = max(e.sample_rate for e in engines.values())
    t_load = time.perf_counter() - t0
    synth = concat = 0.0
    episode = AudioSegment.empty()

    def silence(seconds: float) -> AudioSegment:
        return AudioSegment.silent(duration=round(seconds * 1000), frame_rate=rate)

    def add(part: AudioSegment) -> None:
        nonlocal episode, concat
        t = time.perf_counter()
        episode += part
        concat += time.perf_counter() - t

    for section in script.sections:
        for i, line in enumerate(section.lines):
            if i:
                add(silence(settings.line_pause))
            engine = engines[line.speaker]
            for j, sentence in enumerate(split_sentences(speakable(line.text))):
                if j:
                    add(silence(settings.sentence_pause))
                t = time.perf_counter()
                clip = engine.speak(sentence)
                synth += time.perf_counter() - t
                pcm = (np.clip(clip, -1, 1) * 32767).astype("<i2").tobytes()
                add(AudioSegment(data=pcm, sample_width=2, frame_rate=engine.sample_rate, channels=1))
        add(silence(settings.section_pause))
    t = time.perf_counter()
    # 44.1 kHz like papercast's output, so both files are the same kind of MP3.
    episode.export(str(mp3), format="mp3", bitrate=f"{settings.bitrate}k", parameters=["-ar", "44100"])
    export = time.perf_counter() - t
    return {"wall": time.perf_counter() - t0, "load_engines": t_load, "synthesis": synth,
            "concatenation": concat, "export": export, "audio_seconds": len(episode) / 1000}


def _naive_child(script: Script, settings: AudioSettings, mp3: Path, conn: Connection) -> None:
    conn.send(naive_render(script, settings, mp3))
    conn.close()


def naive_run(script: Script, mp3: Path) -> tuple[dict[str, float], TreeMemory, CpuMeter]:
    """The naive loop in a spawn-ed process; its own timings, its tree's memory and its CPU."""
    ctx = get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_naive_child, args=(script, AudioSettings(), mp3, child))
    with CpuMeter() as cpu:
        t0 = time.perf_counter()
        proc.start()
        child.close()
        with TreeMemory(proc.pid or 0) as mem:
            result: dict[str, float] = parent.recv()
            proc.join()
    result["process_wall"] = time.perf_counter() - t0
    if proc.exitcode != 0:
        raise SystemExit(f"the naive loop failed (exit code {proc.exitcode})")
    return result, mem, cpu


# -- report ------------------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    cpu = "unknown"
    with open("/proc/cpuinfo", encoding="utf-8") as f:
        for row in f:
            if row.startswith("model name"):
                cpu = row.split(":", 1)[1].strip()
                break
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
            "platform": platform.platform()}


def _row(metric: str, papercast: float | None, naive: float | None, target: str,
         ok: bool | None, unit: str) -> dict[str, Any]:
    return {"metric": metric, "unit": unit, "papercast": papercast, "naive": naive, "target": target,
            "pass": ok}


def metric_rows(cold: Run, warm: Run, inc: Run, cold_mem: TreeMemory, naive: dict[str, float],
                naive_mem: TreeMemory, naive_cpu: CpuMeter) -> list[dict[str, Any]]:
    audio = cold.rendering.duration
    lo, hi = DURATION_RANGE
    mb = 1e6
    return [
        _row("audio length", audio / 60, naive["audio_seconds"] / 60, "19-21 min", lo <= audio <= hi, "min"),
        _row("cold wall time", cold.wall, naive["wall"], f"< {COLD_LIMIT:g} s", cold.wall < COLD_LIMIT, "s"),
        _row("real-time factor (cold)", cold.wall / audio, naive["wall"] / naive["audio_seconds"],
             f"<= {RTF_LIMIT:g}", cold.wall / audio <= RTF_LIMIT, ""),
        _row("speedup over naive (cold)", naive["wall"] / cold.wall, None, f">= {SPEEDUP_MIN:g}x",
             naive["wall"] / cold.wall >= SPEEDUP_MIN, "x"),
        _row("CPU time, whole tree (cold)", cold.cpu.ours, naive_cpu.ours, "-", None, "s"),
        _row("other processes' CPU meanwhile", cold.cpu.others, naive_cpu.others, "-", None, "s"),
        _row("warm wall time", warm.wall, None, "-", None, "s"),
        _row("incremental wall time", inc.wall, None, "-", None, "s"),
        _row("incremental / cold", inc.wall / cold.wall, None, f"< {INCREMENTAL_MAX:.0%}",
             inc.wall / cold.wall < INCREMENTAL_MAX, "%"),
        _row("peak memory, summed RSS (cold)", cold_mem.peak_rss / mb, naive_mem.peak_rss / mb,
             f"< {MEMORY_LIMIT_MB:g} MB", cold_mem.peak_rss / mb < MEMORY_LIMIT_MB, "MB"),
    ]


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "%":
        return f"{value:.1%}"
    if unit == "x":
        return f"{value:.2f}x"
    if unit == "":
        return f"{value:.4f}"
    return f"{value:.2f} {unit}" if unit != "MB" else f"{value:.0f} MB"


def print_table(rows: list[dict[str, Any]]) -> None:
    head = ("metric", "papercast", "naive", "target", "result")
    cells = [head] + [
        (r["metric"], _fmt(r["papercast"], r["unit"]), _fmt(r["naive"], r["unit"]), r["target"],
         "-" if r["pass"] is None else "PASS" if r["pass"] else "FAIL")
        for r in rows
    ]
    widths = [max(len(c[i]) for c in cells) for i in range(len(head))]
    for n, c in enumerate(cells):
        print("  ".join(x.ljust(w) for x, w in zip(c, widths, strict=True)))
        if n == 0:
            print("  ".join("-" * w for w in widths))


def _stage_text(stages: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.2f}s" for k, v in stages.items())


# -- main --------------------------------------------------------------------------------------------


def _step(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _quiet() -> None:
    _step("waiting for the other processes on this machine to go idle...")
    waited = wait_for_quiet()
    if waited >= QUIET_WAIT:
        _step(f"still busy after {waited:.0f} s; measuring anyway (see the warnings below the table)")


def run_all(tmp: Path) -> dict[str, Any]:
    script = build_script()
    lines = [ln for s in script.sections for ln in s.lines]
    n_sentences = sum(len(split_sentences(speakable(ln.text))) for ln in lines)
    _step(f"script: {len(script.sections)} sections, {len(lines)} lines, {n_sentences} sentences, "
          f"{sum(len(ln.text) for ln in lines)} characters")

    cache = tmp / "cache"  # fresh and empty: the cold run
    _quiet()
    _step("cold render (empty cache)...")
    with TreeMemory(os.getpid()) as cold_mem:
        cold = papercast_run(script, cache, tmp / "cold.mp3")
    _step(f"cold: {cold.wall:.2f}s ({_stage_text(cold.stages)}), audio {cold.rendering.duration:.1f}s")
    assert cold.rendering.synthesized_sections == list(range(len(script.sections)))

    _step("warm render (cache full)...")
    warm = papercast_run(script, cache, tmp / "warm.mp3")
    assert warm.rendering.synthesized_sections == []
    assert (tmp / "warm.mp3").read_bytes() == (tmp / "cold.mp3").read_bytes(), "warm output differs from cold"
    _step(f"warm: {warm.wall:.2f}s ({_stage_text(warm.stages)})")

    _quiet()
    _step(f"incremental render (one paragraph of section {EDITED_SECTION} edited)...")
    edited = edit_one_paragraph(script, EDITED_SECTION)
    inc = papercast_run(edited, cache, tmp / "incremental.mp3")
    assert inc.rendering.synthesized_sections == [EDITED_SECTION], inc.rendering.synthesized_sections
    lines_synthesized = inc.rendering.sections[EDITED_SECTION].synthesized
    _step(f"incremental: {inc.wall:.2f}s ({_stage_text(inc.stages)}), {lines_synthesized} line synthesized")

    _quiet()
    _step("naive loop (sequential synthesis, pydub +=, one export)...")
    naive, naive_mem, naive_cpu = naive_run(script, tmp / "naive.mp3")
    _step(f"naive: {naive['wall']:.2f}s ({_stage_text({k: v for k, v in naive.items() if k != 'wall'})})")

    rows = metric_rows(cold, warm, inc, cold_mem, naive, naive_mem, naive_cpu)
    return {
        "machine": machine(),
        "script": {"sections": len(script.sections), "paper_sections": len(script.sections) - 2,
                   "lines": len(lines), "sentences": n_sentences,
                   "characters": sum(len(ln.text) for ln in lines),
                   "audio_seconds": cold.rendering.duration, "mp3_bytes": cold.mp3_bytes},
        "metrics": rows,
        "stages": {
            "cold": cold.stages, "warm": warm.stages, "incremental": inc.stages,
            "incremental_lines_synthesized": lines_synthesized,
            "naive": {k: v for k, v in naive.items() if k != "audio_seconds"},
        },
        "wall_seconds": {"cold": cold.wall, "warm": warm.wall, "incremental": inc.wall,
                         "naive": naive["wall"]},
        "cpu_seconds": {
            name: {"ours": m.ours, "other_processes": m.others}
            for name, m in zip(("cold", "warm", "incremental", "naive"),
                               (cold.cpu, warm.cpu, inc.cpu, naive_cpu), strict=True)
        },
        "memory": {
            "cold": {"peak_rss": cold_mem.peak_rss, "processes": cold_mem.peak_procs,
                     "samples": cold_mem.samples, "at_peak_mb": cold_mem.at_peak,
                     "pss_at_peak": cold_mem.pss_at_peak},
            "naive": {"peak_rss": naive_mem.peak_rss, "processes": naive_mem.peak_procs,
                      "samples": naive_mem.samples},
        },
    }


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="papercast-bench-") as tmp:
        results = run_all(Path(tmp))
    m = results["machine"]
    print(f"\nmachine: {m['cpu']}, {m['cores']} cores, Python {m['python']} ({m['platform']})")
    s = results["script"]
    print(f"script: {s['sections']} sections ({s['paper_sections']} papers), {s['lines']} lines, "
          f"{s['sentences']} sentences, {s['audio_seconds'] / 60:.2f} min of audio, "
          f"MP3 {s['mp3_bytes'] / 1e6:.1f} MB\n")
    print_table(results["metrics"])
    for name, cpu in results["cpu_seconds"].items():
        wall = results["wall_seconds"][name]
        if wall >= NOISE_MIN_WALL and cpu["other_processes"] > NOISE_SHARE * wall * (os.cpu_count() or 1):
            print(f"warning: other processes used {cpu['other_processes']:.1f} s of CPU during the {name} "
                  f"run ({wall:.1f} s): its wall time is inflated; run again on a quiet machine")
    at_peak = results["memory"]["cold"]["at_peak_mb"]
    print("memory at the cold peak (MB): " + ", ".join(
        f"{role} {' + '.join(map(str, sizes))}" for role, sizes in at_peak.items())
        + f"; summed PSS (shared pages counted once) {results['memory']['cold']['pss_at_peak'] / 2**20:.0f}")
    stages: dict[str, Any] = results["stages"]
    print("\nstages: " + "\n        ".join(
        f"{name}: {_stage_text(stages[name])}" for name in ("cold", "warm", "incremental", "naive")))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"\nwritten: {OUT.relative_to(ROOT)}")
    return 0 if all(r["pass"] is not False for r in results["metrics"]) else 1


if __name__ == "__main__":
    sys.exit(main())

