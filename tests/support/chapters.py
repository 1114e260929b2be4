"""Where each section of a built episode starts in its transcript, found from script.md alone (not
from the chapters, so chapters that are wrong everywhere alike are still caught).

    sections = script_sections(script_md)        # [(heading, first spoken line's text), ...]
    cues = first_cues(parse_vtt(vtt), sections)  # each section's first cue
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from podcast.models import Cue

FRAME = 1152 / 44100
"""One MP3 frame (MPEG-1 Layer III at 44.1 kHz), in seconds: a section starts on a frame and its
first word follows after the encoder's delay (1105 samples), less than one frame later."""
INTRO_LEAD_MAX = 0.3
"""Silence before the intro's first word (for players that fade in), at most."""


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
