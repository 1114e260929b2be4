"""Measure how fast each voice speaks: the pace model podcast.writing.budget uses, and how well it fits.

    .venv/bin/python tools/measure_pace.py [EPISODE_DIR]    # default: the sample week

Two corpora, every line of each spoken by every measured voice (speed 1.0), one sentence piece at a
time as the renderer speaks it (split_sentences(speakable(...)), the show's lexicon applied):
technical, the episode's script.md (the sample week: papers' summaries, names, numbers), and plain,
PLAIN below (everyday sentences of short words). Pieces come from and go to the show's sentence
cache, so a second run speaks nothing.

For each candidate unit (budget.UNITS: words, syllables, letters and digits, characters with
spaces, spoken letters) it fits, per voice, seconds of a piece = a * units + b (b: what a voice spends
on any sentence, its edges and breath) by least squares, each corpus weighing the same. It prints,
per unit, corpus and voice, the worst and mean relative error of a line's speech time and the error
of the corpus's total; then the chosen unit's (budget.UNIT) constants beside those budget.PACE holds;
then the budget's estimate of the built episode against its real length (when it is built).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from podcast import cache as cachemod
from podcast.audio.speak import LineTask, sentence_key, speak_line
from podcast.config import ShowConfig, find_root, load_show
from podcast.models import VoiceProfile
from podcast.writing.budget import PACE, UNIT, UNITS, estimate
from podcast.writing.script import parse_markdown
from podcast.writing.speech import speakable, split_sentences

SAMPLE = Path("episodes/2024-05-10-xlstm-deepseek-v2")
VOICES = (
    VoiceProfile("piper-joe", "Joe", "piper", "joe"),
    VoiceProfile("hibari-heart", "Ava", "hibari", "heart"),
)
PLAIN = (
    "We went to the park on Sunday. The sun was out and the grass was still wet. "
    "My son ran to the pond to feed the ducks. I sat on a bench and read a book.",
    "Good morning, and thanks for being here. Today we have a short show for you. "
    "It is all about food, sleep and the way we spend our time. Let's get to it.",
    "Tom had a red bike that he loved. One day it got a flat tire on the way to school. "
    "He had to walk the rest of the way, and he was late. His friend gave him a ride home.",
    "Cook the rice in a big pot of salted water. Cut the onions and fry them in a pan until they are soft. "
    "Add the beans, a bit of salt and a cup of stock. Let it all cook for ten more minutes.",
    "Most people need seven to eight hours of sleep each night. Kids need more than that. "
    "If you sleep less, you may feel tired, slow and sad the next day. A walk in the sun can help.",
    "The town has a new bus line. It runs from the train station to the old mill by the river. "
    "A ride costs two dollars. Buses come every ten minutes in the day and every half hour at night.",
    "She sang a song at the fair, and the crowd went quiet. Then they all clapped. "
    "It was the first time she had sung for so many people. Her mom cried a bit.",
    "Do you like dogs or cats? I like both, but I have a dog. His name is Max, "
    "and he is nine years old. He likes to sleep by the fire and chase balls in the yard.",
    "The store opens at nine and shuts at six. On the weekend it is closed. "
    "You can buy milk, bread, eggs and fruit there. The staff are kind and the prices are fair.",
    "That is all for this week. Thank you for listening, and see you next time. Take care, and be well.",
)
"""The plain corpus: ten lines, 36 sentences of everyday words (most of one syllable)."""


@dataclass(frozen=True)
class Piece:
    corpus: str
    line: int
    voice: int
    text: str
    """As the budget sees it (speakable, no lexicon)."""
    seconds: float
    """Of speech, as the voice returned it."""


def technical(folder: Path, cfg: ShowConfig) -> list[str]:
    path = folder / "script.md"
    script = parse_markdown(path.read_text("utf-8"), path, sorted(cfg.profiles))
    return [line.text for sec in script.sections for line in sec.lines]


def speak(corpora: dict[str, Sequence[str]], cfg: ShowConfig) -> list[Piece]:
    store = cachemod.Cache(cfg.cache_dir)
    out = []
    for v, profile in enumerate(VOICES):
        for corpus, lines in corpora.items():
            for i, text in enumerate(lines):
                said = split_sentences(speakable(text))
                sentences = tuple(cfg.lexicon.apply(s, profile.engine) for s in said)
                task = LineTask(sentence_key(profile, text), "x", profile, sentences, sentences, corpus, 0.0,
                                cfg.cache_dir)
                spoken = speak_line(task, store)
                out += [Piece(corpus, i, v, s, (b - a) / spoken.rate)
                        for s, (a, b) in zip(said, spoken.spans, strict=True)]
    return out


def fit(pieces: Sequence[Piece], count: Callable[[str], int]) -> tuple[float, float]:
    """a, b of seconds = a * units + b by least squares on seconds, each corpus weighing the same (its
    pieces' weights 1 / its total seconds): what an episode's length depends on is its total."""
    total = {c: sum(p.seconds for p in pieces if p.corpus == c) for c in {p.corpus for p in pieces}}
    w = np.sqrt([1 / total[p.corpus] for p in pieces])
    x = np.array([[count(p.text), 1.0] for p in pieces]) * w[:, None]
    a, b = np.linalg.lstsq(x, w * np.array([p.seconds for p in pieces]), rcond=None)[0]
    return float(a), float(b)


def errors(
    pieces: Sequence[Piece], count: Callable[[str], int], a: float, b: float
) -> tuple[float, float, float]:
    """Worst and mean relative error of a line's speech time, and the relative error of the total."""
    real: dict[int, float] = {}
    guess: dict[int, float] = {}
    for p in pieces:
        real[p.line] = real.get(p.line, 0.0) + p.seconds
        guess[p.line] = guess.get(p.line, 0.0) + a * count(p.text) + b
    rel = [abs(guess[i] - real[i]) / real[i] for i in real]
    return max(rel), sum(rel) / len(rel), (sum(guess.values()) - sum(real.values())) / sum(real.values())


def report(pieces: list[Piece]) -> dict[str, dict[int, tuple[float, float]]]:
    """Print the error table; return each unit's fitted (a, b) per voice."""
    print(f"{'unit':<14} {'corpus':<10} {'voice':<13} {'worst line':>10} {'mean line':>10} {'total':>7}")
    fitted: dict[str, dict[int, tuple[float, float]]] = {}
    for unit, count in UNITS.items():
        fitted[unit] = {}
        worst = 0.0
        for v, profile in enumerate(VOICES):
            mine = [p for p in pieces if p.voice == v]
            a, b = fitted[unit][v] = fit(mine, count)
            for corpus in ("technical", "plain"):
                hi, mean, total = errors([p for p in mine if p.corpus == corpus], count, a, b)
                worst = max(worst, abs(total))
                print(f"{unit:<14} {corpus:<10} {profile.id:<13} {100 * hi:>9.1f}% {100 * mean:>9.1f}% "
                      f"{100 * total:>+6.1f}%")
        print(f"{unit:<14} worst corpus total: {100 * worst:.1f}%")
    return fitted


def main(folder: Path) -> None:
    cfg = load_show(find_root(folder))
    corpora = {"technical": technical(folder, cfg), "plain": PLAIN}
    pieces = speak(corpora, cfg)
    fitted = report(pieces)
    print(f"\nbudget.UNIT = {UNIT!r}; fitted constants (seconds per unit, seconds per sentence):")
    for v, profile in enumerate(VOICES):
        a, b = fitted[UNIT][v]
        key = (profile.engine, profile.voice)
        print(f"    {key!r}: ({a:.4f}, {b:.4f}),  # in budget.PACE: {PACE.get(key)}")
    built = folder / "build" / "episode.json"
    if built.is_file():
        path = folder / "script.md"
        script = parse_markdown(path.read_text("utf-8"), path, sorted(cfg.profiles))
        real = json.loads(built.read_text("utf-8"))["duration"]
        guess = estimate(script, cfg)
        print(f"episode: estimated {guess:.1f} s, built {real:.1f} s ({100 * (guess - real) / real:+.1f}%)")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else SAMPLE)
