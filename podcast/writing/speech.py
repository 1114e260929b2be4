"""Speech normalization: written text (Markdown, LaTeX, URLs, citations...) in, plain speakable English out.

Script lines come from paper abstracts, LLM summaries and hand-edited Markdown; the voices (hibari's
own G2P, piper's espeak-ng) read digits and ordinary punctuation well but stumble on markup, symbols,
long URLs and other scripts (espeak says "Chinese letter" for every hanzi). `speakable` rewrites a
line so both read it the same sensible way, and `split_sentences` cuts the result into the pieces
that are synthesized one at a time and become one transcript cue each.

`speakable` is a fixed sequence of small rewrites (STEPS), most driven by a table below, each seeing
only what the previous ones left: Markdown blocks, code and links; formulas; HTML; URLs; emphasis;
citations; numbers; symbols; a whitelist of characters; abbreviations; a punctuation tidy-up; titles.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable, Iterator

__all__ = ["MAX_PIECE", "SPEAKABLE_PUNCTUATION", "speakable", "split_sentences"]

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

CURRENCIES: dict[str, tuple[str, str]] = {
    "$": ("dollar", "dollars"), "€": ("euro", "euros"), "£": ("pound", "pounds"),
}

MAGNITUDES: dict[str, str] = {
    "k": "thousand", "K": "thousand", "M": "million", "B": "billion", "bn": "billion", "T": "trillion",
}
"""Suffixes glued to a number: "7B" -> "7 billion", "128k" -> "128 thousand"."""

LABELS = frozenset({"Figure", "Fig", "Table", "Section", "Equation", "Eq", "Appendix", "Algorithm"})
"""A number after these is a label ("Figure 4B"), not an amount."""

FRACTIONS: dict[str, str] = {
    "1/2": "one half", "1/3": "one third", "2/3": "two thirds", "1/4": "one quarter", "3/4": "three quarters",
}

MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)

TLDS = ("com", "org", "net", "io", "ai", "dev", "edu", "gov", "co", "app", "info", "uk", "de")
"""Top-level domains that mark a bare "arxiv.org/abs/..." as a link without a scheme."""

HTML_TAGS = (
    "a", "abbr", "b", "big", "blockquote", "br", "center", "cite", "code", "dd", "del", "details", "div",
    "dl", "dt", "em", "figcaption", "figure", "font", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img",
    "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "small", "span", "strike", "strong", "sub",
    "summary", "sup", "table", "tbody", "td", "th", "thead", "tr", "tt", "u", "ul",
)
"""Only these count as tags, so "x<y and z>w" in prose is not swallowed as one."""

GREEK = (
    "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa", "lambda", "mu",
    "nu", "xi", "omicron", "pi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi", "omega",
)

MATH_WORDS: dict[str, str] = {
    **{g: g for g in GREEK}, **{g.capitalize(): g.capitalize() for g in GREEK},
    **{"var" + g: g for g in ("epsilon", "theta", "pi", "rho", "sigma", "phi")},
    "times": "times", "cdot": "times", "div": "divided by", "pm": "plus or minus", "mp": "minus or plus",
    "leq": "less than or equal to", "le": "less than or equal to", "geq": "greater than or equal to",
    "ge": "greater than or equal to", "neq": "not equal to", "ne": "not equal to", "approx": "approximately",
    "sim": "distributed as", "propto": "proportional to", "equiv": "equivalent to", "in": "in",
    "notin": "not in", "subset": "subset of", "subseteq": "subset of", "cup": "union", "cap": "intersection",
    "forall": "for all", "exists": "there exists", "infty": "infinity", "to": "to", "rightarrow": "to",
    "Rightarrow": "implies", "implies": "implies", "mapsto": "maps to", "partial": "partial",
    "nabla": "gradient", "log": "log", "ln": "log", "exp": "exp", "sin": "sine", "cos": "cosine",
    "tan": "tangent", "det": "determinant", "top": "transpose", "prime": "prime", "star": "star",
    "ast": "star", "ldots": "and so on", "cdots": "and so on", "dots": "and so on", "mid": "given",
    "ell": "l", "circ": "composed with", "otimes": "tensor", "odot": "times", "oplus": "plus",
    "max": "max", "min": "min", "argmax": "arg max", "argmin": "arg min", "softmax": "softmax",
    "sum": "the sum of", "prod": "the product of", "int": "the integral of", "lim": "the limit of",
    "expectation": "the expectation of", "sqrt": "the square root of",
}
"""LaTeX command (without backslash) -> words. Commands not listed are dropped, their arguments kept."""

BIG_OPERATORS: dict[str, str] = {
    "sum": "the sum", "prod": "the product", "int": "the integral", "max": "the max", "min": "the min",
    "argmax": "the arg max", "argmin": "the arg min", "lim": "the limit", "expectation": "the expectation",
}
"""Operators read with their limits: \\sum_{i=1}^{n} -> "the sum from i equals 1 to n of"."""

ACCENTS: dict[str, str] = {
    "hat": " hat", "widehat": " hat", "bar": " bar", "overline": " bar", "tilde": " tilde",
    "widetilde": " tilde", "vec": "", "dot": " dot",
}
"""Accent commands: \\hat{y} -> "y hat"."""

SCRIPT_WORDS: dict[str, str] = {
    "2": " squared", "3": " cubed", "T": " transpose", "\\top": " transpose", "-1": " inverse",
    "*": " star", "\\ast": " star", "\\star": " star", "'": " prime", "\\prime": " prime",
}
"""Superscripts with a name of their own; any other is read "to the power of"."""

MATH_OPERATORS: dict[str, str] = {
    "=": " equals ", "+": " plus ", "-": " minus ", "*": " times ", "/": " over ", "<": " less than ",
    ">": " greater than ", "!": " factorial ", "'": " prime ",
    "|": " ", "{": " ", "}": " ", "[": " ", "]": " ", "&": " ", "~": " ",
}
"""Characters inside a formula, read as operators."""
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
_say_operators = _replacer(MATH_OPERATORS)


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


# -- Markdown and HTML ---------------------------------------------------------------------------------

_FENCE = re.compile(r"^\s*(```|~~~).*?^\s*\1[^\n]*$", re.M | re.S)
_REF_DEFINITION = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*\S+.*$", re.M)
_RULE = re.compile(r"^\s{0,3}(?:(?:[-*_]\s*){3,}|=+)\s*$")
_TABLE_DIVIDER = re.compile(r"^\s*\|?\s*:?-+:?\s*(?:\|\s*:?-+:?\s*)*\|?\s*$")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(?:\d+(?:\.\d+)*\.?\s+)?(.*?)(?:\s+#+)?\s*$")
"""A heading, without its section number ("## 3.2 Results" is read "Results")."""
_BULLET = re.compile(r"^\s*(?:[-*+•]|\d{1,3}[.)])\s+(?:\[[ xX]\]\s+)?")
_QUOTE = re.compile(r"^\s{0,3}(?:>\s?)+")


def _end_block(block: str) -> str:
    """A heading, list item or paragraph is spoken as (at least) one sentence."""
    block = block.strip()
    return block + "." if block and block[-1] not in ".!?:;," else block


def markdown_blocks(text: str) -> str:
    """Headings, list items, quotes and table rows -> sentences; fenced code and rules dropped.

    >>> markdown_blocks("# Results\\n\\n- faster\\n- *smaller*\\n\\n```\\ncode\\n```\\nDone")
    'Results. faster. *smaller*. Done.'
    """
    text = _REF_DEFINITION.sub("", _FENCE.sub("\n", text))
    blocks: list[str] = []
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            blocks.append(_end_block(" ".join(paragraph)))
            paragraph.clear()

    for line in text.splitlines():
        if not line.strip() or _RULE.match(line) or (_TABLE_DIVIDER.match(line) and "-" in line):
            flush()
        elif heading := _HEADING.match(line):
            flush()
            blocks.append(_end_block(heading.group(1)))
        elif _BULLET.match(line) or line.lstrip().startswith("|"):
            flush()
            row = _BULLET.sub("", line).strip().strip("|")
            blocks.append(_end_block(", ".join(c.strip() for c in row.split("|") if c.strip())))
        else:
            paragraph.append(_QUOTE.sub("", line).strip())
    flush()
    return " ".join(b for b in blocks if b)


_INLINE_CODE = re.compile(r"`+([^`]*)`+")
_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)|!\[[^\]]*\]\[[^\]]*\]")
_LINK = re.compile(r"\[((?:[^\[\]]|\[[^\]]*\])*)\](?:\([^)]*\)|\[[^\]]*\])")
"""[text](url) or [text][ref]; the text may hold one level of brackets ("[[3]](#r3)")."""
_AUTOLINK = re.compile(r"<((?:https?|ftp)://[^>\s]+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+)>")
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.S)
_SUP_CITATION = re.compile(r"<sup>[\s\d,\-–]*</sup>", re.I)
_TAG = re.compile(rf"</?(?:{'|'.join(HTML_TAGS)})(?:\s+[^<>=]+=[^<>]*)?\s*/?>", re.I)
"""A known tag, bare or with attributes (name=value): "<b and c>" in "a<b and c>d" is prose."""
_EMPHASIS = (
    re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*"),
    re.compile(r"(?<!\w)__(?=\S)(.+?)(?<=\S)__(?!\w)"),
    re.compile(r"\*(?=[^\s*])(.+?)(?<=[^\s*])\*"),
    re.compile(r"(?<!\w)_(?=[^\s_])(.+?)(?<=[^\s_])_(?!\w)"),
    re.compile(r"~~(?=\S)(.+?)(?<=\S)~~"),
)


def markdown_code(text: str) -> str:
    """Inline code is read as its text (before formulas: code may hold a "$").

    >>> markdown_code("Call `model.generate()` or ``x``.")
    'Call model.generate() or x.'
    """
    return _INLINE_CODE.sub(r"\1", text)


def markdown_links(text: str) -> str:
    """Links become their text (a link that is a citation, nothing), images go, autolinks lose <>.

    >>> markdown_links("See [the code](https://github.com/x/y)[[3]](#r3) ![chart](c.png) <https://a.org/b>")
    'See the code  https://a.org/b'
    """
    text = _IMAGE.sub("", text)
    text = _LINK.sub(_link, text)
    return _AUTOLINK.sub(r"\1", text)


def _link(match: re.Match[str]) -> str:
    label = match.group(1)
    return "" if _NUMERIC_CITATION.fullmatch(label) or _NUMERIC_CITATION.fullmatch(f"[{label}]") else label


def markdown_emphasis(text: str) -> str:
    """Emphasis markers go; underscores inside words (snake_case) stay for the symbol step.

    >>> markdown_emphasis("**Bold**, __strong__, *it*, _it_, ~~gone~~ and snake_case_name")
    'Bold, strong, it, it, gone and snake_case_name'
    """
    for pattern in _EMPHASIS:
        text = pattern.sub(r"\1", text)
    return text


def strip_html(text: str) -> str:
    """Tags and comments go (citation superscripts with their numbers), entities become characters.

    >>> strip_html("a<sup>12</sup> <b>bold</b> &amp; <br/>more<!-- note -->")
    'a  bold  &  more'
    """
    text = _SUP_CITATION.sub("", _HTML_COMMENT.sub("", text))
    return html.unescape(_TAG.sub(" ", text))


# -- URLs ----------------------------------------------------------------------------------------------

_EMAIL = re.compile(r"(?<![\w.+-])([\w.+-]+)@([\w-]+(?:\.[\w-]+)+)")
_URL = re.compile(
    r"\b(?:(?:https?|ftp)://|www\.)[^\s<>()\[\]\"']+"
    rf"|\b(?:[a-z0-9-]+\.)+(?:{'|'.join(TLDS)})\b(?:/[^\s<>()\[\]\"']*)?"
)


def say_domain(url: str) -> str:
    """How a link is read aloud: its bare domain ("arxiv dot org"), or "the link" if that is no help.

    >>> say_domain("https://www.arxiv.org/abs/2405.04517v2")
    'arxiv dot org'
    >>> say_domain("http://127.0.0.1:8000/feed.xml")
    'the link'
    """
    host = re.sub(r"^(?:[a-z]+://)?(?:[^@/]*@)?", "", url.lower()).split("/")[0].split(":")[0]
    host = host.removeprefix("www.")
    labels = host.split(".")
    if len(labels) < 2 or len(host) > 30 or not re.search("[a-z]", labels[-1]):
        return "the link"
    return " dot ".join(labels)


def _url(match: re.Match[str]) -> str:
    url = match.group(0)
    trail = len(url) - len(url.rstrip(".,;:!?"))
    return say_domain(url[: len(url) - trail]) + url[len(url) - trail :]


def read_urls(text: str) -> str:
    """URLs and e-mail addresses -> what a reader would say.

    >>> read_urls("Code: https://github.com/org/repo. Mail jane.doe@mit.edu")
    'Code: github dot com. Mail jane dot doe at mit dot edu'
    """
    text = _EMAIL.sub(lambda m: f"{m.group(1).replace('.', ' dot ')} at {say_domain(m.group(2))}", text)
    return _URL.sub(_url, text)


# -- LaTeX ---------------------------------------------------------------------------------------------

_DISPLAY_MATH = re.compile(r"\$\$(.+?)\$\$|\\\[(.+?)\\\]|\\\((.+?)\\\)", re.S)
_INLINE_MATH = re.compile(r"(?<![\\$\w])\$(?=\S)([^$\n]+?)(?<=[^\s\\])\$(?!\d)")
_ENVIRONMENT = re.compile(r"\\begin\{(\w+\*?)\}.*?\\end\{\1\}", re.S)
_SPACING = re.compile(
    r"\\(?:left|right|[bB]igg?[lr]?|displaystyle|textstyle|limits|nolimits|[,;:! ]|q?quad)(?![A-Za-z])"
)
_STYLED = re.compile(r"\\(?:math[a-z]*|text[a-z]*|operatorname\*?|boldsymbol|bm|mbox)\s*\{([^{}]*)\}")
_ACCENT = re.compile(rf"\\({'|'.join(ACCENTS)})\s*\{{([^{{}}]*)\}}")
_FRAC = re.compile(r"\\[dt]?frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}")
_SQRT = re.compile(r"\\sqrt\s*(?:\[([^\]]*)\])?\s*\{([^{}]*)\}")
_EXPECTATION = re.compile(r"\\mathbb\s*\{E\}|\\operatorname\s*\{E\}")
_BIG_OP = re.compile(
    rf"\\({'|'.join(BIG_OPERATORS)})\s*_\s*(\{{[^{{}}]*\}}|\\?\w)(?:\s*\^\s*(\{{[^{{}}]*\}}|\\?\w))?"
)
_SUPERSCRIPT = re.compile(r"\^\s*(\{[^{}]*\}|\\[A-Za-z]+|-?\d+|[A-Za-z*'])")
_SUBSCRIPT = re.compile(r"_\s*(\{[^{}]*\}|\\[A-Za-z]+|[A-Za-z0-9]+)")
_COMMAND = re.compile(r"\\([A-Za-z]+)")
_ESCAPED = re.compile(r"\\([{}%$&_#|])")
_BIG_O = re.compile(r"\b(O|Theta|Omega)\s*\(([^()]*)\)")
_APPLICATION = re.compile(r"\b([A-Za-z]|log|exp|softmax|sigmoid|ReLU|tanh)\(([^()]*)\)")
_ROOTS = {"": "the square root of", "2": "the square root of", "3": "the cube root of"}


def _unbrace(arg: str) -> str:
    return arg[1:-1] if arg.startswith("{") else arg


def _superscript(match: re.Match[str]) -> str:
    arg = _unbrace(match.group(1)).strip()
    return SCRIPT_WORDS.get(arg, f" to the power of {arg} ")


def _big_operator(match: re.Match[str]) -> str:
    name, sub, sup = match.group(1), _unbrace(match.group(2)).strip(), match.group(3)
    if sup:
        return f" {BIG_OPERATORS[name]} from {sub} to {_unbrace(sup).strip()} of "
    return f" {BIG_OPERATORS[name]} over {sub} of "


def _structures(tex: str) -> str:
    """One pass over the innermost braces: fonts, accents, fractions, roots, limits, scripts."""
    tex = _STYLED.sub(r"\1", tex)
    tex = _ACCENT.sub(lambda m: m.group(2) + ACCENTS[m.group(1)], tex)
    tex = _FRAC.sub(r" \1 over \2 ", tex)
    tex = _SQRT.sub(
        lambda m: f" {_ROOTS.get(m.group(1) or '', f'the {m.group(1)}th root of')} {m.group(2)} ", tex
    )
    tex = _BIG_OP.sub(_big_operator, tex)
    tex = _SUPERSCRIPT.sub(_superscript, tex)
    return _SUBSCRIPT.sub(lambda m: f" sub {_unbrace(m.group(1))} ", tex)


def read_math(tex: str) -> str:
    """A LaTeX formula (without its $ delimiters) read aloud, or "" when it cannot be read.

    >>> read_math(r"\\mathcal{O}(n^2)")
    'O of n squared'
    >>> read_math(r"\\frac{a}{b} + \\sqrt{d_k}")
    'a over b plus the square root of d sub k'
    >>> read_math(r"\\alpha \\leq 0.5, W^\\top x_i")
    'alpha less than or equal to 0.5, W transpose x sub i'
    >>> read_math(r"\\begin{pmatrix} 1 & 0 \\end{pmatrix}")
    ''
    """
    if "\\begin{" in tex:
        return ""
    tex = _SPACING.sub(" ", _EXPECTATION.sub(r"\\expectation", tex.replace("\\\\", ", ")))
    tex = re.sub(r"\\sim\s*(?=\d)", " about ", tex)
    for _ in range(8):  # nested braces resolve from the inside out, one level a pass
        simpler = _structures(tex)
        if simpler == tex:
            break
        tex = simpler
    tex = _ESCAPED.sub(lambda m: " percent " if m.group(1) == "%" else " ", tex)
    tex = _COMMAND.sub(lambda m: f" {MATH_WORDS.get(m.group(1), '')} ", tex)
    tex = _BIG_O.sub(lambda m: f"{m.group(1)} of {m.group(2)}", tex)
    tex = _APPLICATION.sub(lambda m: f"{m.group(1)} of {m.group(2).replace('|', ' given ')}", tex)
    tex = " ".join(_say_operators(tex).split())
    tex = re.sub(r"\s+([,.;:)])", r"\1", tex)
    return tex if re.search(r"[A-Za-z0-9]", tex) else ""


_LOOSE_COMMAND = re.compile(r"\\[A-Za-z]+\*?(?:\s*\{[^{}]*\})*(?:\([^()]*\))?")
_LOOSE_POWER = re.compile(r"(?<![\w^])[A-Za-z0-9]+(?:\^(?:\{[^{}]*\}|-?[\w]+))+")
_LOOSE_BIG_O = re.compile(r"\bO\(([^()]{1,60})\)")


def read_formulas(text: str) -> str:
    """$...$, $$...$$, \\(...\\), \\[...\\] and loose LaTeX in running text, read with read_math.

    >>> read_formulas(r"Attention is $\\mathcal{O}(n^2)$ in length; ours is O(n log n), with d^2 cost.")
    'Attention is O of n squared in length; ours is O of n log n, with d squared cost.'
    """
    text = _ENVIRONMENT.sub(" ", text)
    text = _DISPLAY_MATH.sub(lambda m: f" {read_math(next(g for g in m.groups() if g))} ", text)
    text = _INLINE_MATH.sub(lambda m: read_math(m.group(1)), text)
    text = _LOOSE_COMMAND.sub(lambda m: read_math(m.group(0)), text)
    text = _LOOSE_POWER.sub(lambda m: read_math(m.group(0)), text)
    return _LOOSE_BIG_O.sub(lambda m: "O of " + read_math(m.group(1)), text)


# -- citations -----------------------------------------------------------------------------------------

_NUMERIC_CITATION = re.compile(r"\s*\[\s*\d+(?:\s*[-–,;]\s*\d+)*\s*\]")
_FOOTNOTE = re.compile(r"\s*\[\^[^\]]*\]")
_NAME = r"(?:(?:van|von|der|den|de|da|di|du|le|la)\s+)*[A-Z][\w'-]*"
_AUTHOR_YEAR = (
    rf"{_NAME}(?:(?:\s*,\s*|\s+)(?:(?:and|&)\s+)?{_NAME})*(?:,|\s+et\s+al\.?,?)\s*(?:19|20)\d{{2}}[a-z]?"
)
"""Smith, 2020 / Smith and Lee, 2021 / van der Berg et al. 2019: names, a comma or et al., a year."""
_AUTHOR_CITATION = re.compile(
    rf"\s*[(\[]\s*(?:see\s+|e\.g\.,?\s+|cf\.\s+)?{_AUTHOR_YEAR}(?:\s*;\s*{_AUTHOR_YEAR})*\s*[)\]]"
)
_YEAR_CITATION = re.compile(r"\s*\((?:19|20)\d{2}[a-z]?\)")
_LEFT_OVER = re.compile(r"\s*\(\s*(?:see|cf\.|e\.g\.,?)?\s*\)|\s*[;,]\s*(?:see|cf\.|e\.g\.,?)\s*(?=\))")
"""What "(see [3])" or "(as in X; see [3])" leaves behind."""


def drop_citations(text: str) -> str:
    """[12], [3, 7], [12-15], [^1], (Smith et al., 2023), Smith et al. (2023) -> gone.

    >>> drop_citations("Transformers [1, 4-6] scale (Kaplan et al., 2020; Hoffmann et al., 2022).")
    'Transformers scale.'
    >>> drop_citations("Smith et al. (2023) disagree (in 2023; see [4]).")
    'Smith et al. disagree (in 2023).'
    >>> drop_citations("It is known (see [4]).")
    'It is known.'
    """
    for pattern in (_NUMERIC_CITATION, _FOOTNOTE, _AUTHOR_CITATION, _YEAR_CITATION, _LEFT_OVER):
        text = pattern.sub("", text)
    return text


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
_NUMBER_SIGN = re.compile(r"(?<!\w)(?:(?:No|no|Nr)\.\s?|#\s?)(?=\d)")


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


_NUM = r"\d+(?:,\d{3})*(?:\.\d+)?"
_CURRENCY = re.compile(
    rf"([$€£])\s?({_NUM})(?:\s?(bn|[kKMBT]|thousand|million|billion|trillion))?(?!\w|\.\d)"
)
_TIMES = re.compile(rf"(?<![\w.])({_NUM})[x×](?![\w])")
_BY = re.compile(r"(?<![\w.])(?!0x)(\d+)[x×](?=\d+(?!\w))")
_MAGNITUDE = re.compile(rf"(?<![\w.])({_NUM})(bn|[kKMBT])(?![\w])")
_ISO_DATE = re.compile(r"(?<![\w-])(\d{4})-(\d{2})-(\d{2})(?![\w-])")
_RANGE = re.compile(rf"(?<![\w.\-])({_NUM})(?:[-–]|\s[-–]\s|–\s?)(?={_NUM}(?![\w\-]|\.\d))")
"""10-20, 10 - 20, 10–20; not "2 -3", a number and a negative one."""
_FRACTION = re.compile(r"(?<![\w/.])(\d+)/(\d+)(?![\w/]|\.\d)")
_VERSION = re.compile(r"(?<![\w.])v(\d+(?:\.\d+)*)\b")
_PER_SECOND = re.compile(r"(?<=[A-Za-z])/s(?:ec)?\b")
_NAME_HYPHEN = re.compile(r"(?<=\w)-(?=\d)|(?<=\d)-(?=\w)")
"""The hyphens of "Llama-2-7B" and "GPT-3.5-turbo", which espeak reads as "dash"."""


def _currency(match: re.Match[str]) -> str:
    symbol, amount, magnitude = match.groups()
    one, many = CURRENCIES[symbol]
    if magnitude:
        return f"{amount} {MAGNITUDES.get(magnitude, magnitude)} {many}"
    return f"{amount} {one if amount == '1' else many}"


def _magnitude(match: re.Match[str]) -> str:
    before = match.string[: match.start()].split()
    if before and before[-1].strip("(.") in LABELS:
        return match.group(0)
    return f"{match.group(1)} {MAGNITUDES[match.group(2)]}"


def _iso_date(match: re.Match[str]) -> str:
    year, month, day = (int(g) for g in match.groups())
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return match.group(0)
    return f"{MONTHS[month - 1]} {day}, {year}"


def read_numbers(text: str) -> str:
    """Numbers written for the eye -> numbers a voice reads well ("3.5x" -> "3.5 times").

    Plain digits and decimals stay: both voices read them.

    >>> read_numbers("7B and 1.5B models, 128k tokens, 3.5x faster, 10x cheaper, a 4x4 grid")
    '7 billion and 1.5 billion models, 128 thousand tokens, 3.5 times faster, 10 times cheaper, a 4 by 4 grid'
    >>> read_numbers("$5M for v2 on 2024-05-01, 10-20% of 3/4")
    '5 million dollars for version 2 on May 1, 2024, 10 to 20% of three quarters'
    >>> read_numbers("40 tokens/s, Figure 4B, 0x1F, Llama-2-7B")
    '40 tokens per second, Figure 4B, 0x1F, Llama 2 7 billion'
    """
    text = _NUMBER_SIGN.sub("number ", text)
    text = _ISO_DATE.sub(_iso_date, text)
    text = _BY.sub(r"\1 by ", text)
    text = _TIMES.sub(r"\1 times", text)
    text = _RANGE.sub(r"\1 to ", text)
    text = _CURRENCY.sub(_currency, text)
    text = _MAGNITUDE.sub(_magnitude, text)
    text = _FRACTION.sub(lambda m: FRACTIONS.get(m.group(0), f"{m.group(1)} over {m.group(2)}"), text)
    text = _VERSION.sub(r"version \1", text)
    text = _NAME_HYPHEN.sub(" ", text)
    return _PER_SECOND.sub(" per second", text)


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
