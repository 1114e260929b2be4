"""Length control: how long a script will play, and which papers fit a target length.

[script] minutes sets the target. The estimate mirrors the renderer (podcast.audio.render and mix):
each line is its sentences at the voice's measured pace (PACE) plus the configured pauses between its
sentences; lines of a section are a line pause apart; a section ends with the section pause; the
intro and outro music and the stinger before each paper after the first add their own time.

The papers are ranked: those in episode.toml's `highlights` first, then the others in the file's
order (`podcast week` writes them best first). The plan (`fit`) keeps every paper at its first
sentence, leaves out the lowest-ranked while even that is too long, then gives the best papers
their full text one at a time, in rank order; the first that does not fit whole gets as many of its
first sentences as bring the estimate closest to the target, and the rest keep one sentence.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from podcast.models import Line, Script, Section, VoiceProfile
from podcast.settings import AudioSettings
from podcast.writing.speech import speakable, split_sentences

if TYPE_CHECKING:
    from podcast.config import ShowConfig

PACE = {
    ("piper", "joe"): (0.0656, 0.2796),
    ("hibari", "heart"): (0.0740, 0.5029),
}
"""(seconds per unit (UNIT: spoken letters), seconds per sentence) of speech alone at speed 1.0, by
(engine, voice): a sentence as the voice receives it (speakable) lasts units * the first + the second.
Fitted by tools/measure_pace.py (least squares on each sentence's seconds, the two corpora weighing
the same) to two corpora spoken sentence by sentence by each voice: the sample week's script.md
(technical: names, acronyms, numbers; 1,700 words) and the tool's PLAIN lines (36 everyday sentences
of short words). The corpora's totals are then within 0.3% for both voices, a line's speech time
1.7-5.8% off on average (14-17% at worst, on lines dense with model names and numbers); the sample
episode's estimate is within 0.5% of its built length. Words, the unit before, fitted to both corpora
err by 8% on each corpus's total (plain text's short words take less time than technical text's)."""
DEFAULT_PACE = (sum(a for a, _ in PACE.values()) / len(PACE), sum(b for _, b in PACE.values()) / len(PACE))
"""For a voice not measured (openai, coqui, other piper models): the measured voices' mean."""
CHUNK_OVERHEAD = 0.05
"""Seconds each encoded MP3 chunk (a line, or a section with a music bed) adds: encoder delay and
padding (podcast.audio.render)."""


def syllables(text: str) -> int:
    """Vowel groups of each word (at least one a word; a final silent "e" not counted), and one per
    digit: a rough count of what the voice says.

    >>> syllables("The cat ate 12 apples.")
    7
    """
    n = 0
    for word in re.findall(r"[^\W_]+", text.lower()):
        groups = len(re.findall(r"[aeiouyà-ÿ]+", word))
        if word.endswith("e") and not word.endswith(("le", "ee")) and groups > 1:
            groups -= 1
        n += max(1, groups) if not word.isdigit() else len(word)
    return n


def letters(text: str) -> int:
    """Letters and digits.

    >>> letters("It's 3.5 times.")
    10
    """
    return sum(c.isalnum() for c in text)


_SPELLED = re.compile(r"[A-Z](?![a-z])")
"""A capital the voice says as a letter's name: one not followed by a lowercase letter ("LLM", the Q
and the R T of "QServe" and "TensorRT")."""


def spoken_letters(text: str) -> int:
    """Letters and digits, a spelled-out capital and a digit counting three (a name, "el", "em", or a
    number word, "five", takes longer than a letter inside a word).

    >>> spoken_letters("It uses 8 GPUs.")
    17
    """
    return letters(text) + 2 * len(_SPELLED.findall(text)) + 2 * sum(c.isdigit() for c in text)


UNITS: dict[str, Callable[[str], int]] = {
    "words": lambda text: len(text.split()),
    "syllables": syllables,
    "letters": letters,
    "characters": lambda text: len(" ".join(text.split())),
    "spoken letters": spoken_letters,
}
"""The candidate units of speech length tools/measure_pace.py compares, each counted on a sentence as
the voice receives it (speakable)."""
UNIT = "spoken letters"
"""The unit PACE counts in: of UNITS, the one whose fit errs least on both measured corpora."""


@lru_cache(maxsize=4096)
def _pieces(text: str) -> tuple[int, int]:
    """The line's units (UNIT) and sentence pieces, as the renderer splits what the voice says."""
    said = split_sentences(speakable(text))
    return sum(map(UNITS[UNIT], said)), len(said)


@dataclass(frozen=True)
class Pacer:
    """Estimates how long lines, sections and scripts play with a show's voices and [audio]."""

    profiles: dict[str, VoiceProfile]
    audio: AudioSettings
    intro_music: bool = False
    outro_music: bool = False
    stinger: float = 0.0
    """Seconds of the stinger, 0 without one."""

    @classmethod
    def of(cls, cfg: ShowConfig) -> Pacer:
        from podcast.audio.render import music_cues

        cues = music_cues(cfg.audio, cfg.root)
        sting = cues.get("stinger")
        return cls(
            cfg.profiles,
            cfg.audio,
            "intro" in cues,
            "outro" in cues,
            len(sting.audio) / 44100 if sting is not None else 0.0,
        )

    def line(self, line: Line) -> float:
        units, sentences = _pieces(line.text)
        p = self.profiles[line.speaker]
        per_unit, per_sentence = PACE.get((p.engine, p.voice), DEFAULT_PACE)
        speech = (units * per_unit + sentences * per_sentence) / p.speed
        return speech + max(0, sentences - 1) * self.audio.sentence_pause + CHUNK_OVERHEAD

    def lines(self, lines: Sequence[Line]) -> float:
        return sum(map(self.line, lines)) + max(0, len(lines) - 1) * self.audio.line_pause

    def paper(self, section: Section) -> float:
        """A paper's section in the middle of the episode: after another paper (its stinger), its
        lines, the section pause."""
        from podcast.audio.mix import STINGER_GAP

        sting = self.stinger + STINGER_GAP if self.stinger else 0.0
        return sting + self.lines(section.lines) + self.audio.section_pause

    def frame(self, intro: Section, outro: Section) -> float:
        """The intro and the outro with their music and lead and tail, less the stinger the first
        paper does not have (every paper's estimate counts one)."""
        from podcast.audio.mix import INTRO_MUSIC_LEAD, OUTRO_MUSIC_TAIL, STINGER_GAP
        from podcast.audio.render import INTRO_LEAD, OUTRO_TAIL

        lead = max(INTRO_LEAD, INTRO_MUSIC_LEAD if self.intro_music else 0.0)
        tail = max(OUTRO_TAIL, OUTRO_MUSIC_TAIL if self.outro_music else 0.0)
        sting = self.stinger + STINGER_GAP if self.stinger else 0.0
        speech = self.lines(intro.lines) + self.audio.section_pause + self.lines(outro.lines)
        return lead + speech + tail - sting

    def script(self, script: Script) -> float:
        """The whole script's estimated length in seconds."""
        sections = script.sections
        intro = next((s for s in sections if s.kind == "intro"), Section("intro", "", ()))
        outro = next((s for s in sections if s.kind == "outro"), Section("outro", "", ()))
        papers = [s for s in sections if s.kind == "paper"]
        return self.frame(intro, outro) + sum(map(self.paper, papers)) if papers else self.frame(intro, outro)


def estimate(script: Script, cfg: ShowConfig) -> float:
    """Seconds `script` will play for with the show's voices, pauses and music."""
    return Pacer.of(cfg).script(script)


# -- the plan ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BudgetPaper:
    """One paper's forms, shortest first: its first sentence, first two, ..., its full text (for an
    exchange between the hosts, the last form: made only when the plan gets to it, since it costs
    an LLM request)."""

    title: str
    rank: int
    """0 is the best."""
    forms: tuple[Callable[[], Section], ...]


@dataclass(frozen=True)
class Plan:
    form: dict[int, int]
    """For each paper kept (its index), the index of its form; papers not in it are left out."""
    seconds: float
    """The estimated length."""

    def notes(self, papers: Sequence[BudgetPaper], target: float) -> list[str]:
        """Build warnings: what was shortened and left out, or that every paper is whole and short."""
        aim = f"[script] minutes: aiming at {describe(target)}, estimated {describe(self.seconds)}"
        cut = [(i, self.form[i]) for i in sorted(self.form) if self.form[i] < len(papers[i].forms) - 1]
        out = [i for i in range(len(papers)) if i not in self.form]
        if not cut and not out:
            if self.seconds < target * 0.9:
                return [f"{aim}, with every paper in full: add papers for a longer episode"]
            return []
        notes = []
        if cut:
            told = "; ".join(f"{papers[i].title!r} ({_sentences(f + 1)})" for i, f in cut)
            notes.append(f"{aim}: shortened to their first sentences: {told}")
        if out:
            told = "; ".join(repr(papers[i].title) for i in out)
            notes.append(f"{aim}: left out (the newsletter keeps them): {told}")
        return notes


def _sentences(n: int) -> str:
    return "1 sentence" if n == 1 else f"{n} sentences"


@dataclass(frozen=True)
class Budget:
    """A target length and what the estimate needs."""

    seconds: float
    pacer: Pacer
    highlights: tuple[str, ...] = ()
    """Ids of the papers ranked first, in this order (episode.toml's highlights)."""

    @classmethod
    def of(cls, cfg: ShowConfig, highlights: Sequence[str] = ()) -> Budget | None:
        """The show's budget; None when [script] minutes is 0."""
        if not cfg.script.minutes:
            return None
        return cls(cfg.script.minutes * 60, Pacer.of(cfg), tuple(highlights))

    def rank(self, paper_id: str, position: int) -> int:
        """A paper's rank from its id and its position in episode.toml: highlights first."""
        if paper_id in self.highlights:
            return self.highlights.index(paper_id)
        return len(self.highlights) + position

    def key(self) -> tuple[object, ...]:
        """What a plan depends on besides the script's text: for script.md's inputs."""
        p = self.pacer
        return ("budget", self.seconds, self.highlights, asdict(p.audio), p.intro_music, p.outro_music,
                round(p.stinger, 3), sorted(PACE.items()))

    def fit(self, frame: tuple[Section, Section], papers: Sequence[BudgetPaper]) -> Plan:
        return fit(self.seconds, self.pacer.frame(*frame), papers, self.pacer)


def fit(target: float, frame: float, papers: Sequence[BudgetPaper], pacer: Pacer) -> Plan:
    """The papers' forms that bring the estimate closest to `target` seconds, best papers first."""
    cost: dict[tuple[int, int], float] = {}

    def seconds(i: int, form: int) -> float:
        if (i, form) not in cost:
            cost[i, form] = pacer.paper(papers[i].forms[form]())
        return cost[i, form]

    order = sorted(range(len(papers)), key=lambda i: papers[i].rank)
    kept = list(order)
    total = frame + sum(seconds(i, 0) for i in kept)
    while len(kept) > 1 and total > target:
        total -= seconds(kept.pop(), 0)
    form = dict.fromkeys(kept, 0)
    for i in kept:
        last = len(papers[i].forms) - 1
        if last == 0:
            continue
        best, best_total = 0, total
        # The full text first: when it fits, the next paper may get its own; when it does not, the
        # paper's first sentences fill what is left and the plan stops there.
        for f in (last, *range(1, last)):
            t = total - seconds(i, 0) + seconds(i, f)
            if abs(t - target) < abs(best_total - target):
                best, best_total = f, t
            if f == last and t <= target:
                break
        form[i], total = best, best_total
        if best != last or total >= target:
            break
    return Plan(form, total)


def shorten(paragraphs: Sequence[str], sentences: int) -> list[str]:
    """The first `sentences` sentences of the paragraphs, paragraphs kept.

    >>> shorten(["One. Two.", "Three. Four."], 3)
    ['One. Two.', 'Three.']
    """
    out: list[str] = []
    left = sentences
    for para in paragraphs:
        if left <= 0:
            break
        parts = split_sentences(para, limit=len(para) + 1)
        out.append(" ".join(parts[:left]))
        left -= len(parts)
    return out


def sentence_count(paragraphs: Sequence[str]) -> int:
    """
    >>> sentence_count(["One. Two, i.e. three.", "Four."])
    3
    """
    return sum(len(split_sentences(p, limit=len(p) + 1)) for p in paragraphs)


def describe(seconds: float) -> str:
    """
    >>> describe(125.4), describe(59.6)
    ('2:05', '1:00')
    """
    m, s = divmod(round(seconds), 60)
    return f"{m}:{s:02d}"
