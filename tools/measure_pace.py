"""Measure how fast each voice of a built episode speaks: the numbers podcast.writing.budget uses.

    .venv/bin/python tools/measure_pace.py [EPISODE_DIR]    # default: the sample week

Reads the episode's script.md and the line audio its build left in the show's .cache (build it
first: `make demo`). For each voice profile it prints the words spoken (as the voice receives them,
symbols and abbreviations read out), the seconds of line audio (the pauses between sentences included),
words per minute with those pauses, and seconds per word of speech alone (the configured sentence
pauses taken out, as the budget adds them back from [audio]). Then it compares the budget's
estimate of the whole episode with the built episode's real length.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path

from podcast import cache as cachemod
from podcast.audio.render import SectionJob
from podcast.audio.speak import load_line
from podcast.config import find_root, load_show
from podcast.writing.budget import estimate, spoken_words
from podcast.writing.script import parse_markdown

SAMPLE = Path("episodes/2024-05-10-xlstm-deepseek-v2")


def main(folder: Path) -> None:
    cfg = load_show(find_root(folder))
    path = folder / "script.md"
    script = parse_markdown(path.read_text("utf-8"), path, sorted(cfg.profiles))
    store = cachemod.Cache(cfg.cache_dir)
    words: dict[str, int] = defaultdict(int)
    seconds: dict[str, float] = defaultdict(float)
    pauses: dict[str, float] = defaultdict(float)
    for sec in script.sections:
        job = SectionJob(0, sec, {ln.speaker: cfg.profiles[ln.speaker] for ln in sec.lines}, cfg.audio,
                         cfg.cache_dir, 0.0, None, lexicon=cfg.lexicon)
        for line, task in zip(sec.lines, job.tasks, strict=True):
            got = load_line(store, task.key, line.speaker, task.sentences)
            if got is None:
                sys.exit(f"{folder}: a line is not in the cache; build the episode first")
            words[line.speaker] += spoken_words(line.text)
            seconds[line.speaker] += len(got.audio) / got.rate
            pauses[line.speaker] += (len(task.sentences) - 1) * cfg.audio.sentence_pause
    for pid in sorted(words):
        p = cfg.profiles[pid]
        wpm = 60 * words[pid] / seconds[pid]
        spw = (seconds[pid] - pauses[pid]) / words[pid]
        print(f"{pid} ({p.engine} {p.voice}, speed {p.speed}): {words[pid]} words in {seconds[pid]:.1f} s "
              f"= {wpm:.1f} words/min with sentence pauses; {spw:.4f} s per word of speech alone")
    built = json.loads((folder / "build" / "episode.json").read_text("utf-8"))["duration"]
    guess = estimate(script, cfg)
    print(f"episode: estimated {guess:.1f} s, built {built:.1f} s ({100 * (guess - built) / built:+.1f}%)")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else SAMPLE)
