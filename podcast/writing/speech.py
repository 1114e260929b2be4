"""Speech normalization: written text (Markdown, LaTeX, URLs, citations...) in, plain speakable English out.

Script lines come from paper abstracts, LLM summaries and hand-edited Markdown; the voices (hibari's
own G2P, piper's espeak-ng) read digits and ordinary punctuation well but stumble on markup, symbols,
long URLs and other scripts (espeak says "Chinese letter" for every hanzi). `speakable` rewrites a
line so both read it the same sensible way, and `split_sentences` cuts the result into the pieces
that are synthesized one at a time. `spoken_and_written` pairs each piece with the sentence as written
(its markup gone, its numbers and symbols kept), which transcripts show with the piece's timing.

`speakable` is a fixed sequence of small rewrites (STEPS), most driven by a table, each seeing only
what the previous ones left: Markdown blocks, code and links; formulas; HTML; URLs; emphasis;
citations; numbers; symbols; a whitelist of characters; abbreviations; a punctuation tidy-up; titles.
Markup, URLs and citations are read in speech_markup, formulas in speech_math, numbers in
speech_numbers; the rest, and the order, is here.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator

from podcast.writing.speech_markup import (
    drop_citations,
    markdown_blocks,
    markdown_code,
    markdown_emphasis,
    markdown_links,
    read_urls,
    strip_html,
)
from podcast.writing.speech_math import read_formulas
from podcast.writing.speech_numbers import read_numbers

__all__ = ["MAX_PIECE", "SPEAKABLE_PUNCTUATION", "speakable", "split_sentences", "spoken_and_written"]

MAX_PIECE = 300
"""Longest piece (characters) split_sentences returns; longer sentences are cut at clause punctuation."""

LONGEST_WORD = 50
"""Longer runs of non-space characters (hashes, base64, DNA) are unreadable and dropped."""

# -- tables -------------------------------------------------------------------------------------------

ABBREVIATIONS: dict[str, str] = {
    "e.g.": "for example",
    "i.e.": "that is",
    "et al.": "and colleagues",
    "et al": "and colleagues",
    "vs.": "versus",
    "vs": "versus",
    "etc.": "and so on",
    "approx.": "approximately",
    "cf.": "compare",
    "resp.": "respectively",
    "w.r.t.": "with respect to",
    "a.k.a.": "also known as",
    "viz.": "namely",
    "Fig.": "Figure",
    "Figs.": "Figures",
    "Eq.": "Equation",
    "Eqs.": "Equations",
    "Sec.": "Section",
    "Tab.": "Table",
    "Ref.": "Reference",
    "Refs.": "References",
    "Vol.": "Volume",
    "pp.": "pages",
    "Ph.D.": "PhD",
    "U.S.": "US",
    "U.K.": "UK",
    "Jr.": "Junior",
    "Sr.": "Senior",
    "Inc.": "Incorporated",
    "Ltd.": "Limited",
}
"""Written abbreviation -> what a reader says. The same with the first letter's case flipped also matches."""

SENTENCE_FINAL = frozenset({"etc.", "et al.", "Jr.", "Sr.", "Inc.", "Ltd."})
"""Abbreviations that often end a sentence: their period then also ends it, and must survive expansion."""

TITLES: dict[str, str] = {"Dr": "Doctor", "Prof": "Professor", "Mr": "Mister", "Mrs": "Missus", "Ms": "Miz"}
"""Expanded only before a capitalized name, where the period is not a sentence end (piper splits there)."""

# fmt: off
NO_BREAK_BEFORE = frozenset({
    "dr", "prof", "mr", "mrs", "ms", "st", "jr", "sr", "vs", "e.g", "i.e", "al", "fig", "figs", "eq", "eqs",
    "sec", "tab", "ref", "refs", "vol", "no", "approx", "cf", "resp", "viz", "inc", "ltd", "pp",
})
"""Words (lowercase, without their period) after which split_sentences never ends a sentence."""

SYMBOLS: dict[str, str] = {
    "<->": " and ", "->": " to ", "=>": " so ", "<-": " ", "<=": " less than or equal to ",
    ">=": " greater than or equal to ", "!=": " not equal to ", "==": " equals ",
    "&": " and ", "%": " percent ", "~": " about ", "≈": " approximately ", "×": " times ",
    "→": " to ", "⇒": " so ", "←": " ", "↔": " and ", "±": " plus or minus ", "∓": " minus or plus ",
    "≤": " less than or equal to ", "≥": " greater than or equal to ", "≠": " not equal to ",
    "<": " less than ", ">": " greater than ", "=": " equals ", "+": " plus ", "@": " at ",
    "°C": " degrees Celsius ", "°F": " degrees Fahrenheit ", "°": " degrees ", "∞": " infinity ",
    "∈": " in ", "√": " square root of ", "§": " section ", "·": " ", "•": ", ", "|": ", ",
    "/": " ", "\\": " ", "*": " ", "_": " ", "^": " ", "#": " ", "$": " ", "€": " ", "£": " ", "¥": " ",
    "{": " ", "}": " ", "[": " ", "]": " ", "`": " ", "¶": " ", "†": " ", "‡": " ",
}
"""Symbols left after the number rules, and how to say them (a space: silently dropped)."""

BEFORE_NFKC: dict[str, str] = {
    "™": "", "®": "", "©": "", "²": "^2", "³": "^3", "¹": "^1", "⁻¹": "^-1", "ⁿ": "^n", "⊤": "^T",
    "“": '"', "”": '"', "„": '"', "«": '"', "»": '"', "‘": "'", "’": "'", "′": "'", "″": "''",
    "−": "-", "‐": "-", "‑": "-", "‒": "-", "⁄": "/", "∕": "/", "\u00ad": "", "\u200b": "", "\u200d": "",
    "。": ". ", "、": ", ", "「": '"', "」": '"', "『": '"', "』": '"', "،": ", ", "؛": "; ", "؟": "? ",
}
"""Characters NFKC would flatten badly (x² -> x2, ™ -> TM) or leaves alone although they have ASCII twins
(CJK and Arabic punctuation, kept so English between foreign sentences still ends its own)."""

LATIN_EXTRA: dict[str, str] = {
    "ß": "ss", "æ": "ae", "Æ": "Ae", "œ": "oe", "Œ": "Oe", "ø": "o", "Ø": "O", "ł": "l", "Ł": "L",
    "đ": "d", "Đ": "D", "ð": "d", "Ð": "D", "þ": "th", "Þ": "Th", "ı": "i",
}
"""Latin letters that do not decompose to an ASCII base letter plus accents."""
# fmt: on

SPEAKABLE_PUNCTUATION = frozenset(".,;:!?'\"()-")
"""The only non-letters, non-digits `speakable` lets through."""

# -- Unicode -------------------------------------------------------------------------------------------


def _replacer(table: dict[str, str]) -> Callable[[str], str]:
    """A function replacing every key of table in one pass, longest keys first (so "->" wins over "-")."""
    pattern = re.compile("|".join(re.escape(k) for k in sorted(table, key=len, reverse=True)))
    return lambda text: pattern.sub(lambda m: table[m.group(0)], text)


_fold = _replacer(BEFORE_NFKC)
_say_symbols = _replacer(SYMBOLS)


def prepare_unicode(text: str) -> str:
    """Fold compatibility characters to their plain forms, keeping what they mean.

    >>> prepare_unicode("ﬁne “quotes” and n² and ½")
    'fine "quotes" and n^2 and 1/2'
    """
    return unicodedata.normalize("NFKC", _fold(text)).replace("⁄", "/")


def _letter(char: str) -> str:
    """One letter outside ASCII: itself if it is accented Latin, a transliteration, or nothing."""
    if char in LATIN_EXTRA:
        return LATIN_EXTRA[char]
    base = unicodedata.normalize("NFD", char)[0]
    return char if base.isascii() and base.isalpha() else " "


def _lone_greek(match: re.Match[str]) -> str:
    name = unicodedata.name(match.group(0), "").split()
    return f" {name[-1].lower()} " if name[:1] == ["GREEK"] else " "


def keep_speakable_chars(text: str) -> str:
    """Letters, digits, spaces and SPEAKABLE_PUNCTUATION only: other scripts, emoji and symbols go.

    A lone Greek letter (a symbol in a formula) is read by name; accented Latin letters stay.

    >>> " ".join(keep_speakable_chars("Pöppel 🚀 mit Straße, 中文 Привет; α = 1").split())
    'Pöppel mit Strasse, ; alpha 1'
    """
    text = re.sub(r"(?<![^\W\d_])[\u0370-\u03ff](?![^\W\d_])", _lone_greek, text)
    out = []
    for char in text:
        if char.isascii():
            out.append(char if char.isalnum() or char == " " or char in SPEAKABLE_PUNCTUATION else " ")
        elif unicodedata.category(char).startswith("L"):
            out.append(_letter(char))
        elif unicodedata.category(char) == "Nd":
            out.append(str(unicodedata.digit(char, "")) or " ")
        else:
            out.append(" ")
    return "".join(out)


# -- words ---------------------------------------------------------------------------------------------


def _case_variants(table: dict[str, str]) -> dict[str, str]:
    """Each entry also with its first letter's case flipped, the expansion following suit."""
    out: dict[str, str] = {}
    for short, long in table.items():
        out[short[0].swapcase() + short[1:]] = long[0].swapcase() + long[1:] if short[0].isalpha() else long
    out.update(table)  # an exact entry wins over another's variant ("Fig." vs "fig.")
    return out


_ABBREVIATIONS = _case_variants(ABBREVIATIONS)
_SENTENCE_FINAL = SENTENCE_FINAL | {s[0].swapcase() + s[1:] for s in SENTENCE_FINAL}
_ABBREVIATION = re.compile(
    r"(?<![\w.])("
    + "|".join(re.escape(a) for a in sorted(_ABBREVIATIONS, key=len, reverse=True))
    + r")(?![\w])"
)
_TITLE = re.compile(rf"(?<![\w.])({'|'.join(TITLES)})\.?\s+(?=[A-Z])")


def _abbreviation(match: re.Match[str]) -> str:
    short = match.group(1)
    said = _ABBREVIATIONS[short]
    rest = match.string[match.end() :]
    if short in _SENTENCE_FINAL and (not rest.strip() or re.match(r"\s+[A-Z]", rest)):
        said += "."
    return said


def expand_abbreviations(text: str) -> str:
    """e.g., i.e., et al., vs., etc., Fig., Dr. ... -> the words a reader says.

    >>> expand_abbreviations("E.g. Lee et al. compare A vs. B, etc. Then Fig. 2.")
    'For example Lee and colleagues compare A versus B, and so on. Then Figure 2.'
    """
    return _ABBREVIATION.sub(_abbreviation, text)


def expand_titles(text: str) -> str:
    """Dr., Prof., Mr. ... before a name -> Doctor, Professor, Mister: no period left to split at.

    Runs on tidy text, so that whatever stood between title and name is gone.

    >>> expand_titles("Dr. Lee and Prof. Hinton met the Dr. here.")
    'Doctor Lee and Professor Hinton met the Dr. here.'
    """
    return _TITLE.sub(lambda m: TITLES[m.group(1)] + " ", text)


# -- symbols -------------------------------------------------------------------------------------------

_DASH = re.compile(r"\s+[-–—]+\s+|\s*(?:—|--+)\s*|(?<=[^\W\d])–(?=[^\W\d])")


def read_symbols(text: str) -> str:
    """Dashes become pauses, symbols become words or nothing.

    >>> read_symbols("A & B -> C — fast, ~5% ± 1 with k=3 and p<0.05")
    'A  and  B  to  C, fast,  about 5 percent   plus or minus  1 with k equals 3 and p less than 0.05'
    """
    return _say_symbols(_DASH.sub(", ", text))


# -- tidy ----------------------------------------------------------------------------------------------

_ELLIPSIS = re.compile(r"\s*\.{2,}(\s*)(?=(\w?))")
_EMPTY_BRACKETS = re.compile(r"\(\s*[,.;:!?'\"\s-]*\)|\"\s*\"")
_PUNCTUATION_RUN = re.compile(r"[,;:.!?](?:\s*[,;:.!?])+")
_LONE_HYPHEN = re.compile(r"(?<!\w)-+(?![\w])|(?<=[^\W\d])-+(?!\w)")
_LOWER_START = re.compile(r"([.!?]+['\")]*\s+)?\b([a-z])(?=[a-z]*\b)")


def _strongest(match: re.Match[str]) -> str:
    """Of ", ." keep "."; of "?!" keep "?": the first sentence end, else the first mark."""
    marks = match.group(0).replace(" ", "")
    return next((m for m in marks if m in ".!?"), marks[0])


def _capitalize_sentences(text: str) -> str:
    """Capitalize a lowercase word that starts a sentence (not "iPhone", and not after "Dr.")."""

    def upper(match: re.Match[str]) -> str:
        end = match.group(1)
        if match.start() == 0 or (end and _ends_sentence(text, match.start(), end)):
            return (end or "") + match.group(2).upper()
        return match.group(0)

    return _LOWER_START.sub(upper, text)


def tidy(text: str) -> str:
    """Collapse whitespace and mend the punctuation the earlier steps left behind.

    >>> tidy("  Hello ( ) world , ; and... so on .. . ")
    'Hello world, and, so on.'
    >>> tidy("?! ... ;")
    ''
    """
    text = _ELLIPSIS.sub(lambda m: ", " if m.group(2).islower() else ". ", text)
    text = _EMPTY_BRACKETS.sub(" ", _LONE_HYPHEN.sub(" ", text))
    text = " ".join(w for w in text.split() if len(w) <= LONGEST_WORD)
    text = re.sub(r"\(\s+", "(", re.sub(r"\s+([,;:.!?)])", r"\1", text))
    text = _PUNCTUATION_RUN.sub(_strongest, text)
    text = re.sub(r"^[\s,;:.!?)]+", "", text)
    text = _capitalize_sentences(text)
    if not re.search(r"[^\W_]", text):
        return ""
    body = text.rstrip(")'\"")
    if body[-1] in ",;:":
        return body[:-1] + "." + text[len(body) :]
    return text if body[-1] in ".!?" else text + "."


# -- the two public functions --------------------------------------------------------------------------

STEPS: tuple[Callable[[str], str], ...] = (
    prepare_unicode,
    markdown_blocks,
    markdown_code,
    markdown_links,
    read_formulas,
    strip_html,
    read_urls,
    markdown_emphasis,
    drop_citations,
    read_numbers,
    read_symbols,
    keep_speakable_chars,
    expand_abbreviations,
    tidy,
    expand_titles,
)
"""speakable, in order. Code before formulas (code may hold "$"), links before URLs (a link's text is what
is said), URLs before emphasis (so a_b_c in a path is not _emphasis_), citations before abbreviations
(for "et al. (2023)"),
abbreviations late and titles last (so "Dr. 🚀 Smith" is "Doctor Smith": a title is expanded only before a
capital, and only tidy text shows what really follows it)."""


def speakable(text: str) -> str:
    """Plain English both voices read well: no markup, links, formulas, citations or stray symbols.

    The result holds only letters (accented Latin included), digits, spaces and .,;:!?'"()- and ends
    a sentence; text with nothing to say becomes "".

    >>> speakable("**Mamba** is ~3.5x faster than Transformers [12] (Gu et al., 2023), e.g. on 128k 🚀")
    'Mamba is about 3.5 times faster than Transformers, for example on 128 thousand.'
    >>> speakable("... 🎉 !!")
    ''
    """
    for step in STEPS:
        text = step(text)
    return text


_SENTENCE_END = re.compile(r"[.!?]+['\")\]]*\s+(?=['\"(\[]*[A-Z0-9])")
_CLAUSE_END = re.compile(r"(?<=[;:,—])\s+")


def _ends_sentence(text: str, start: int, end: str) -> bool:
    """Whether the terminator `end` found at text[start] ends a sentence.

    Not after a title, an initial or an abbreviation that rarely ends one.
    """
    if "!" in end or "?" in end:
        return True
    before = text[:start].split()
    word = before[-1].lstrip("('\"[") if before else ""
    if len(word) == 1 and word.isupper():  # an initial: "J. K. Rowling" ("Section A. Then" is rarer)
        return False
    return word.lower() not in NO_BREAK_BEFORE


def _sentences(text: str) -> Iterator[str]:
    start = 0
    for end in _SENTENCE_END.finditer(text):
        if _ends_sentence(text, end.start(), end.group(0)):
            yield text[start : end.end()].strip()
            start = end.end()
    yield text[start:].strip()


def _pack(parts: list[str], limit: int) -> Iterator[str]:
    """Join consecutive parts with spaces into as few pieces of at most `limit` characters as possible."""
    piece = ""
    for part in parts:
        if piece and len(piece) + 1 + len(part) > limit:
            yield piece
            piece = part
        else:
            piece = f"{piece} {part}" if piece else part
    if piece:
        yield piece


def _fit(sentence: str, limit: int) -> Iterator[str]:
    """A sentence cut at clause punctuation, then between words, then (a giant word) anywhere."""
    if len(sentence) <= limit:
        yield sentence
        return
    for clause in _pack([c for c in _CLAUSE_END.split(sentence) if c], limit):
        if len(clause) <= limit:
            yield clause
            continue
        for words in _pack(clause.split(), limit):
            yield from (words[i : i + limit] for i in range(0, len(words), limit))


def split_sentences(text: str, limit: int = MAX_PIECE) -> list[str]:
    """Sentences of speakable text, long ones cut at clause punctuation so none exceeds `limit`.

    No piece is empty, and joined with single spaces the pieces give back the text's words in order
    (only a single "word" longer than `limit` is cut inside).

    >>> split_sentences("Dr. Smith et al. found a 3.5 times gain, i.e. J. K. Rowling wins. Why? Because.")
    ['Dr. Smith et al. found a 3.5 times gain, i.e. J. K. Rowling wins.', 'Why?', 'Because.']
    >>> split_sentences("one, two, three, four.", limit=10)
    ['one, two,', 'three,', 'four.']
    """
    text = " ".join(text.split())
    return [piece for sentence in _sentences(text) if sentence for piece in _fit(sentence, limit)]


_EMOJI = re.compile("[\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF\uFE0F\u200D]+")


def drop_emoji(text: str) -> str:
    """Pictographs out of written text, which a transcript of speech has no place for.

    >>> drop_emoji("The model 🚀 beats every baseline 🎉🔥. Great 👍🏽!")
    'The model beats every baseline. Great!'
    """
    if not _EMOJI.search(text):
        return text
    return re.sub(r"[ \t]+([.,;:!?])", r"\1", re.sub(r"[ \t]{2,}", " ", _EMOJI.sub(" ", text))).strip()


WRITTEN_STEPS: tuple[Callable[[str], str], ...] = (
    markdown_blocks, markdown_code, markdown_links, strip_html, markdown_emphasis, drop_emoji
)
"""What a transcript drops of written text: markup and pictographs. "70B" and "0.1%" stay as written."""


def spoken_and_written(text: str) -> list[tuple[str, str]]:
    """(spoken piece, written text) for each piece split_sentences(speakable(text)) gives: the voice says
    the first, a transcript shows the second over the same time. The written text is the sentence as
    written, on the piece where that sentence starts; a piece continuing a sentence gets "" (its time
    belongs to the cue before). Text the two cannot be matched in shows the spoken pieces themselves.

    >>> spoken_and_written("**DeepSeek-V2** has 236B parameters. It saves 42.5% of cost!")
    [('DeepSeek-V2 has 236 billion parameters.', 'DeepSeek-V2 has 236B parameters.'), \
('It saves 42.5 percent of cost!', 'It saves 42.5% of cost!')]
    >>> spoken_and_written("one, two, three, four.")[0]
    ('One, two, three, four.', 'one, two, three, four.')
    """
    spoken = split_sentences(speakable(text))
    shown = text
    for step in WRITTEN_STEPS:
        shown = step(shown)
    written = [w for w in _sentences(" ".join(shown.split())) if w]
    said = [speakable(w).lower().split() for w in written]
    words = [len(s.split()) for s in spoken]
    if [w for ws in said for w in ws] != " ".join(spoken).lower().split():
        return [(s, s) for s in spoken]
    starts: dict[int, list[str]] = {}
    at = 0
    for sentence, sentence_words in zip(written, said, strict=True):
        if sentence_words:  # a sentence with nothing to say (an emoji) has no time to show it in
            starts.setdefault(at, []).append(sentence)
        at += len(sentence_words)
    out: list[tuple[str, str]] = []
    at = 0
    for piece, n in zip(spoken, words, strict=True):
        shown_here = [w for i in range(at, at + n) for w in starts.get(i, [])]
        out.append((piece, " ".join(shown_here)))
        at += n
    return out
