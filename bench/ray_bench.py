"""Ray executor benchmark: the sample week rendered cold with the local executor and with Ray, on this
machine, in one run.

    .venv/bin/python bench/ray_bench.py [--rounds N]      (or: make bench-ray)

1. Starts a Ray head on 127.0.0.1 with this machine's cores, as `ray start --head` would (timed on
   its own: a cluster is started once, not per build).
2. Builds the sample week (episodes/2024-05-10-xlstm-deepseek-v2) cold, `podcast build` in a fresh
   copy of the show each time (its own empty .cache), alternating the local executor and
   `--executor ray` against that head, N rounds (default 2). The best wall time of each is compared:
   target ray <= 1.3x local. Every build must make the same bytes (MP3, transcripts, chapters).
3. Speaks every line of the week once more in this process, one line at a time per voice, and turns
   the per-line costs into lines per second per worker for each voice: what sizing a cluster takes.

Wall times on a shared machine are inflated by whatever else runs; CPU seconds per line are not, and
the load average around each build is reported beside it. Results: bench/out/ray_results.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the Ray head on 127.0.0.1 the tests use
from support.ray_cluster import LOOPBACK, loopback_head  # noqa: E402

WEEK = "episodes/2024-05-10-xlstm-deepseek-v2"
OUT = ROOT / "bench" / "out" / "ray_results.json"
TARGET_RATIO = 1.3
COMPARED = ("transcript.vtt", "transcript.srt", "transcript.json", "chapters.json")
FIELDS = ("lines", "chars", "audio_s", "cpu_s", "wall_s")


def fresh_show(parent: Path) -> Path:
    """The sample show copied without its built audio or cache: everything is spoken anew."""
    root = parent / "show"
    root.mkdir(parents=True)
    for name in ("podcast.toml", "voices", "music"):
        src = ROOT / name
        (shutil.copytree if src.is_dir() else shutil.copy2)(src, root / name)
    shutil.copytree(ROOT / WEEK, root / WEEK, ignore=shutil.ignore_patterns("build"))
    return root


def build(root: Path, executor: str, address: str) -> dict[str, Any]:
    env = {**os.environ, **LOOPBACK, "RAY_ADDRESS": address, "PODCAST_ARXIV_API_URL": "http://127.0.0.1:9/"}
    load = os.getloadavg()[0]
    cpu0, t0 = _children_cpu(), time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "podcast", "build", "--executor", executor, WEEK],
        cwd=root, env=env, capture_output=True, text=True, check=False,
    )
    wall, cpu = time.perf_counter() - t0, _children_cpu() - cpu0
    if result.returncode:
        sys.exit(f"{executor} build failed:\n{result.stderr}")
    out = root / WEEK / "build"
    mp3 = next(out.glob("*.mp3"))
    digest = hashlib.sha256()
    for p in (mp3, *(out / n for n in COMPARED)):
        digest.update(hashlib.sha256(p.read_bytes()).digest())
    return {"executor": executor, "wall_s": round(wall, 2), "cpu_here_s": round(cpu, 2),
            "load_before": round(load, 2),
            "load_after": round(os.getloadavg()[0], 2), "sha256": digest.hexdigest(),
            "line": result.stdout.strip().splitlines()[-1]}


def _children_cpu() -> float:
    """CPU seconds of this process's finished children and theirs: a local build's whole process tree,
    or a Ray build's own process (the Ray workers belong to the head, which has not finished)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def line_costs(root: Path) -> dict[str, dict[str, float]]:
    """Every line of the week spoken in this process, one at a time: per voice, the lines, characters,
    seconds of audio, and the CPU and wall seconds it took (the voice's load time left out)."""
    from podcast.audio.render import SectionJob
    from podcast.audio.speak import MemoryCache, engine, speak_line
    from podcast.config import load_show
    from podcast.writing.script import parse_markdown

    cfg = load_show(root)
    script = parse_markdown((root / WEEK / "script.md").read_text("utf-8"), root / WEEK, sorted(cfg.profiles))
    costs: dict[str, dict[str, float]] = {}
    for i, section in enumerate(script.sections):
        job = SectionJob(i, section, cfg.profiles, cfg.audio, root / ".cache", 0.0, None, lexicon=cfg.lexicon)
        for task in job.tasks:
            voice = f"{task.profile.engine}:{task.profile.voice}"
            engine(task.profile)  # loaded once, as a worker does, before its first line is timed
            c0, w0 = time.process_time(), time.perf_counter()
            line = speak_line(task, MemoryCache({}))
            cpu, wall = time.process_time() - c0, time.perf_counter() - w0
            row = costs.setdefault(voice, dict.fromkeys(FIELDS, 0.0))
            row["lines"] += 1
            row["chars"] += sum(len(s) for s in task.sentences)
            row["audio_s"] += len(line.audio) / line.rate
            row["cpu_s"] += cpu
            row["wall_s"] += wall
    return costs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=2, help="cold builds per executor (default 2)")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    runs: list[dict[str, Any]] = []
    t0 = time.perf_counter()
    with loopback_head(cpus=cores) as (address, _), tempfile.TemporaryDirectory(prefix="ray-bench-") as tmp:
        ray_start = time.perf_counter() - t0
        for r in range(args.rounds):
            for executor in ("local", "ray"):
                runs.append(build(fresh_show(Path(tmp) / f"{executor}{r}"), executor, address))
                print(f"{executor:5} round {r + 1}: {runs[-1]['wall_s']:6.1f} s  "
                      f"(load {runs[-1]['load_before']} -> {runs[-1]['load_after']})", flush=True)
        costs = line_costs(fresh_show(Path(tmp) / "costs"))
    report(runs, costs, ray_start, cores)


def report(
    runs: list[dict[str, Any]], costs: dict[str, dict[str, float]], ray_start: float, cores: int
) -> None:
    best = {e: min(r["wall_s"] for r in runs if r["executor"] == e) for e in ("local", "ray")}
    identical = len({r["sha256"] for r in runs}) == 1
    ratio = best["ray"] / best["local"]
    print(f"\nthe week: {runs[0]['line']}")
    print(f"starting a Ray head with {cores} CPUs: {ray_start:.1f} s (once per cluster, not per build)")
    print(f"cold build, best of {len(runs) // 2}: local {best['local']:.1f} s, ray {best['ray']:.1f} s: "
          f"ray/local = {ratio:.2f} (target <= {TARGET_RATIO}) {'PASS' if ratio <= TARGET_RATIO else 'FAIL'}")
    print(f"byte-identical (MP3, transcripts, chapters) across all {len(runs)} builds: {identical}")
    here = {e: min(r["cpu_here_s"] for r in runs if r["executor"] == e) for e in ("local", "ray")}
    print(f"CPU seconds on this machine: local build (every process) {here['local']:.1f}, ray build (the "
          f"building process: scripts, mastering, encoding, packaging) {here['ray']:.1f}")
    print("\nper worker (one voice loaded, one line at a time):")
    print(f"{'voice':16} {'lines':>5} {'chars':>6} {'audio s':>8} {'CPU s':>6} {'lines/s':>8} "
          f"{'audio s/s':>9}")
    worker_s = 0.0
    for voice, c in costs.items():
        per_s = c["lines"] / c["cpu_s"]
        worker_s += c["cpu_s"]
        print(f"{voice:16} {c['lines']:5.0f} {c['chars']:6.0f} {c['audio_s']:8.0f} {c['cpu_s']:6.1f} "
              f"{per_s:8.2f} {c['audio_s'] / c['cpu_s']:9.1f}")
    audio = sum(c["audio_s"] for c in costs.values())
    print(f"\nthe week takes {worker_s:.0f} worker-CPU-seconds of speech for {audio / 60:.1f} min of audio: "
          f"each worker CPU speaks about {3600 / worker_s:.0f} such weeks an hour, and each core of the "
          f"building machine masters and encodes about {3600 / here['ray']:.0f}")
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps({
        "machine": {"cores": cores, "python": platform.python_version(), "platform": platform.platform()},
        "ray_start_s": round(ray_start, 2), "runs": runs, "best_wall_s": best, "best_cpu_here_s": here,
        "ratio": round(ratio, 3),
        "target_ratio": TARGET_RATIO, "identical": identical, "line_costs": costs,
    }, indent=1) + "\n", "utf-8")
    print(f"written {OUT.relative_to(ROOT)}")
    if not identical:
        sys.exit("the builds differ")


if __name__ == "__main__":
    main()
