"""The brief: the episode's short cut, [script] brief_minutes long, written to brief.md beside script.md.

It is the same episode planned to a shorter length (podcast.writing.budget): each paper's summary
cut to its first two sentences at most, then the plan keeps every paper at its first sentence,
leaves out the lowest-ranked while even that is too long, and gives the best papers their second
sentence while they fit. The host's opening and closing are the built-in short ones (the episode's
own intro and outro are for the full episode). No LLM writes it: the reader reads the sentences, so
the brief costs no tokens, and its sentences are those of the full episode, already in the voices'
sentence cache (podcast.audio.speak).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date

from podcast.models import Script, Summary, VoiceProfile
from podcast.text import one_line
from podcast.writing.budget import Budget, Pacer, describe, shorten
from podcast.writing.script import paragraphs, write_script

BRIEF = "brief.md"
"""The brief's script, beside script.md; edited by hand, it is kept like script.md."""
SENTENCES = 2
"""The most of a paper's summary the brief reads."""
SHORT = 0.85
"""A brief estimated under this share of its target gets a note: it cannot be made longer."""


def intro(minutes: float) -> str:
    """What the host says after the welcome, so that a listener knows which cut this is.

    >>> intro(4)
    'This is the 4-minute brief: a sentence or two on each paper.'
    """
    return f"This is the {minutes:g}-minute brief: a sentence or two on each paper."


def outro(show_title: str) -> str:
    return (f"That was the brief. The full episode, in the same feed, tells more about each paper. "
            f"Thanks for listening to {show_title}.")


def write_brief(
    *,
    show_title: str,
    day: date,
    summaries: Sequence[Summary],
    host: VoiceProfile,
    reader: VoiceProfile,
    budget: Budget,
    minutes: float,
    warn: Callable[[str], None] = print,
) -> Script:
    """The brief's script: `summaries` planned to `budget` at one or two sentences each."""
    cut = [replace(s, text="\n\n".join(shorten(paragraphs(s.text), SENTENCES))) for s in summaries]
    script = write_script(
        show_title=show_title,
        day=day,
        intro=intro(minutes),
        outro=outro(show_title),
        summaries=cut,
        host=host,
        reader=reader,
        budget=budget,
        warn=lambda message: None,  # its notes name [script] minutes; the brief says its own below
    )
    for message in notes(script, summaries, budget.pacer, budget.seconds):
        warn(message)
    return script


def notes(script: Script, summaries: Sequence[Summary], pacer: Pacer, target: float) -> list[str]:
    """Build warnings about the brief: the papers it leaves out, or that it runs short."""
    said = {s.title for s in script.sections if s.kind == "paper"}
    out = [s.paper.title for s in summaries if one_line(s.paper.title) not in said]
    aim = f"[script] brief_minutes: aiming at {describe(target)}"
    seconds = pacer.script(script)
    if out:
        left = "; ".join(map(repr, out))
        return [f"{aim}, estimated {describe(seconds)}: left out of the brief (the full episode keeps "
                f"them): {left}"]
    if seconds < target * SHORT:
        return [f"{aim}, estimated {describe(seconds)} with {SENTENCES} sentences on every paper: "
                "the brief cannot be longer; lower brief_minutes, or add papers"]
    return []
