"""The parts of a paper's full text (from its PDF): which block is the abstract, the introduction,
the body or the conclusion, and where the references begin. Summarizers read papers through it."""

from __future__ import annotations

import re

TERMINAL = ".!?。！？…"
"""Characters that end a sentence."""

_HEADING = re.compile(
    r"^\s*(?:(?:\d+(?:\.\d+)*|[IVXL]+|[A-Z])[.)]?\s+)?"
    r"(?P<name>abstract|introduction|background|related work|preliminaries|conclusions?|concluding remarks"
    r"|discussion|summary|limitations|future work|references|bibliography|acknowledge?ments?"
    r"|appendi(?:x|ces)|supplementary materials?)\b(?P<rest>.*)$",
    re.IGNORECASE,
)
_NUMBERED_HEADING = re.compile(
    r"^\s*(?:(?P<sub>\d+\.\d+(?:\.\d+)*)|\d+\.?|[IVX]+\.)\s+[A-Z][\w\-,:& ]{1,60}$"
)
_SECTION_KINDS = (
    ("abstract", "abstract"),
    ("introduction", "intro"),
    ("conclu", "conclusion"),
    ("summary", "conclusion"),
    ("discussion", "conclusion"),
    ("acknowledg", "skip"),
    ("references", "end"),
    ("bibliography", "end"),
    ("appendi", "end"),
    ("supplementary", "end"),
)
"""Heading name prefix -> kind; other recognized headings are "body". After an "end" heading
nothing is read, so reference lists and appendices never leak into the summary."""
_PAGE_NUMBER = re.compile(r"^\s*\d{1,3}\s*$")


def sections(full_text: str, have_abstract: bool) -> list[tuple[str, str]]:
    """(kind, text) blocks of a paper's text, in order.

    What precedes the first heading (title, authors, and the abstract when it has no heading of its
    own) is read as the abstract if an introduction heading follows. The PDF's abstract is left out
    when `have_abstract` (it would repeat the one we have), and so are acknowledgements and all that
    follows the references.
    """
    if not full_text.strip():
        return []
    blocks: list[tuple[str, list[str]]] = [("front", [])]
    for line in full_text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        heading = _heading(line)
        if heading is None:
            if not _PAGE_NUMBER.match(line):
                blocks[-1][1].append(line)
            continue
        kind, inline = heading
        if kind == "end":
            break
        blocks.append((blocks[-1][0] if kind == "same" else kind, [inline]))
    kinds = {kind for kind, _ in blocks}
    front = "skip" if "abstract" in kinds else "abstract" if "intro" in kinds else "body"
    out: list[tuple[str, str]] = []
    for kind, lines in blocks:
        kind = front if kind == "front" else kind
        if kind != "skip" and not (kind == "abstract" and have_abstract):
            out.append((kind, _join_lines(lines)))
    return out


def _join_lines(lines: list[str]) -> str:
    """PDF lines as text, where a short line that does not end a sentence (a title, an author list,
    a heading we do not know) is a paragraph of its own instead of running into the next sentence."""
    out: list[str] = []
    for line in lines:
        out.append(line)
        words = line.split()
        if words and len(words) <= 5 and words[-1][-1] not in TERMINAL + ",-":
            out.append("")
    return "\n".join(out)


def _heading(line: str) -> tuple[str, str] | None:
    """(kind, text on the heading's line) when `line` is a section heading, else None.

    Kind "same" is a numbered subsection ("1.1 Contributions"): it stays in its section.

    >>> _heading("1 Introduction"), _heading("Abstract—We study X."), _heading("Background noise is low.")
    (('intro', ''), ('abstract', 'We study X.'), None)
    """
    m = _HEADING.match(line)
    if m and m.group("name")[0].isupper():
        name = m.group("name").lower()
        tail = m.group("rest").strip()
        if name == "abstract":
            return "abstract", tail.lstrip(".:—–- ")
        if tail in ("", ".", ":") or (len(tail.split()) <= 5 and not any(c in tail for c in ".,;!?")):
            return next((kind for prefix, kind in _SECTION_KINDS if name.startswith(prefix)), "body"), ""
    numbered = _NUMBERED_HEADING.match(line)
    if numbered and len(line.split()) <= 8:
        return ("same" if numbered.group("sub") else "body"), ""
    return None
