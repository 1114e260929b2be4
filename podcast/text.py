"""Text as it enters papercast: one sanitation for every source, so nothing downstream meets a control
character.

Titles, names, abstracts and summaries arrive from TOML files, newsletters, arXiv, PDFs, LLM answers
and the command line, and leave as XML (feed, site), ID3 frames, TOML (`podcast new`), script.md lines
and speech. Each of those breaks on something: lxml refuses a NUL or an escape, ID3 splits a text
frame at a NUL, TOML refuses DEL, str.splitlines() splits at a form feed, a newline in a title starts
a script line of its own. Rather than escape for each, text is made safe once where it comes in:

- `clean` for text that may hold paragraphs (abstracts, summaries, intros, PDF text);
- `one_line` for titles, names and other one-line fields: `clean`, then every line break and run of
  white space becomes one space.

Neither raises: hostile text comes out as the visible text it held.
"""

from __future__ import annotations

import re
import unicodedata

_BREAKS = {"\r\n": "\n", "\r": "\n", "\x85": "\n", "\u2028": "\n", "\u2029": "\n\n"}
"""Line and paragraph breaks other than \\n, as \\n: CRLF and CR (a Windows or old Mac file, a PDF's
text), NEL, and Unicode's LINE and PARAGRAPH SEPARATOR (which str.splitlines() splits on too)."""
_SPACES = "\x0b\x0c\x1c\x1d\x1e\x1f"
"""Controls that separate words (vertical tab, form feed, the information separators): a space. Tab
stays a tab in `clean`'s text (TOML and XML take it); `one_line` folds it like any space."""

BIDI_CONTROLS = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
"""Arabic letter mark, LRM, RLM, the embeddings and overrides (LRE RLE PDF LRO RLO) and the isolates
(LRI RLI FSI PDI): they reorder how text is shown without changing what it says ("Trojan Source",
CVE-2021-42574), so a title could display differently from what the feed, the tags and the voices get."""
INVISIBLE = (
    "\u00ad\u115f\u1160\u180e\u200b\u2060-\u2064\u206a-\u206f\u3164\ufeff\uffa0\ufff9-\ufffb"
    "\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f"
)
"""Characters that show nothing: soft hyphen, the Hangul fillers (blank "letters"), Mongolian vowel
separator, zero width space, word joiner and the invisible math operators, the deprecated format
controls, byte order mark, interlinear annotation marks, musical beam and slur controls, and the tag
characters (which can smuggle an invisible instruction to an LLM). Zero width (non-)joiners stay: Indic
and Arabic scripts and emoji sequences need them."""
NONCHARACTERS = "\ufdd0-\ufdef" + "".join(
    f"{chr(plane << 16 | 0xFFFE)}{chr(plane << 16 | 0xFFFF)}" for plane in range(17)
)
"""Code points Unicode reserves never to be characters; XML refuses U+FFFE and U+FFFF."""

_UNSAFE = re.compile(
    f"[\r\x85\u2028\u2029{_SPACES}"  # line breaks (_BREAKS) and spaces
    "\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f"  # the other C0 controls, DEL and C1 controls: gone
    f"{BIDI_CONTROLS}{INVISIBLE}{NONCHARACTERS}"
    "\ud800-\udfff]"  # a lone surrogate (JSON can carry one) cannot be written as UTF-8
)
"""Every character `clean` changes: one class, so text with none of them is scanned quickly."""


def _replace(match: re.Match[str]) -> str:
    char = match.group()
    if char in _BREAKS:
        return _BREAKS[char]
    if char in _SPACES:
        return " "
    return "\ufffd" if "\ud800" <= char <= "\udfff" else ""


def clean(text: str) -> str:
    r"""`text` safe to store, tag, publish and speak: \n the only line break, \t the only control,
    no bidirectional controls or invisible characters, Unicode NFC.

    >>> clean("Ti\x00tle\x1b[31m\r\nline two\x0cpage\u2028end\u202e")
    'Title[31m\nline two page\nend'
    >>> clean("cafe\u0301 \u2066x\u2069 \U0001f469\u200d\U0001f52c")  # composed; isolates gone; ZWJ kept
    'café x 👩\u200d🔬'
    """
    if _UNSAFE.search(text) is not None:
        text = _UNSAFE.sub(_replace, text.replace("\r\n", "\n"))
    return unicodedata.normalize("NFC", text)


def one_line(text: str) -> str:
    r"""`clean` text on one line: every line break and run of white space one space, none at the ends.

    >>> one_line(" A title\n## Outro\ncohost: hi \u2029 x\ty ")
    'A title ## Outro cohost: hi x y'
    """
    return " ".join(clean(text).split())
