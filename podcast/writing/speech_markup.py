"""Markup read aloud: Markdown blocks, code, links and emphasis, HTML, URLs and e-mail addresses; and
citations, which a listener does without. Steps of podcast.writing.speech."""

from __future__ import annotations

import html
import re

# fmt: off
TLDS = ("com", "org", "net", "io", "ai", "dev", "edu", "gov", "co", "app", "info", "uk", "de")
"""Top-level domains that mark a bare "arxiv.org/abs/..." as a link without a scheme."""

HTML_TAGS = (
    "a", "abbr", "b", "big", "blockquote", "br", "center", "cite", "code", "dd", "del", "details", "div",
    "dl", "dt", "em", "figcaption", "figure", "font", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img",
    "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "small", "span", "strike", "strong", "sub",
    "summary", "sup", "table", "tbody", "td", "th", "thead", "tr", "tt", "u", "ul",
)
"""Only these count as tags, so "x<y and z>w" in prose is not swallowed as one."""
# fmt: on


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
