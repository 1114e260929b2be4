"""Where each section of a built episode starts in its transcript, found from script.md alone (not
from the chapters, so chapters that are wrong everywhere alike are still caught).

    sections = script_sections(script_md)        # [(heading, first spoken line's text), ...]
    cues = first_cues(parse_vtt(vtt), sections)  # each section's first cue
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from podcast.models import Cue

FIRST_WORD = 1105 / 44100
"""Seconds from a section's first MP3 frame (its chapter's start) to its first sample as decoded:
the encoder's delay (tests/audio/test_encoder_delay.py measures it), under one frame (1152)."""
INTRO_LEAD = 0.3
"""Silence before the intro's first word (for players that fade in)."""
TOLERANCE = 0.0015
"""The files give times to the millisecond: a chapter's and a cue's rounding (half a millisecond
each), with room for floating point."""


def first_word_expected(chapter_index: int, chapter_start: float) -> float:
    """When the first word of a chapter's section is heard."""
    return chapter_start + (INTRO_LEAD if chapter_index == 0 else 0.0) + FIRST_WORD


def script_sections(script_md: str) -> list[tuple[str, str]]:
    """(heading, first spoken line's text) of each '## ' section of a script."""
    out = []
    for block in re.split(r"^## ", script_md, flags=re.M)[1:]:
        heading, *lines = block.splitlines()
        spoken = next(line for line in lines if re.match(r"^[\w-]+: ", line))
        out.append((heading, spoken.split(": ", 1)[1]))
    return out


def first_cues(cues: Sequence[Cue], sections: Sequence[tuple[str, str]]) -> list[Cue]:
    """Each section's first cue: in order, the first whose text begins that section's first line."""
    found, i = [], 0
    for heading, line in sections:
        line = " ".join(line.split())
        while i < len(cues) and not line.startswith(" ".join(cues[i].text.split())):
            i += 1
        assert i < len(cues), f"no cue begins the first line of '{heading}': {line!r}"
        found.append(cues[i])
        i += 1
    return found
