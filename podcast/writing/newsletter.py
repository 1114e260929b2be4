"""The written newsletter: Markdown (the editable source), HTML for the site, show notes for the feed.

Pure functions over `Summary` and `Chapter` records; build.py writes the files. All Markdown is
parsed by one CommonMark parser with raw HTML disabled, so nothing a paper's title or a summary
says can inject a tag into a page or a feed.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from datetime import date

from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

from podcast.models import Chapter, Summary

__all__ = ["format_clock", "notes_html", "plain_description", "render_html", "render_markdown"]

MAX_AUTHORS = 6
"""Authors named in the newsletter; more become "and colleagues"."""

NOTES_TAGS = frozenset({"p", "ol", "ul", "li", "a", "b", "i", "strong", "em", "br"})
"""The only tags podcast apps are asked to render in show notes (STANDARDS.md, Feed/Items)."""

_BARE_URL = re.compile(r"https?://[^\s<>]+")
_COMMENT_LINE = re.compile(r"<!--.*-->")


def _link_bare_urls(state: StateCore) -> None:
    """Link a paragraph's first line when it is only a URL (a paper's URL line) and break the line after it.

    Done here rather than with linkify, which would need another package and would link URLs
    anywhere in the prose.
    """
    for tok in state.tokens:
        url = tok.content.partition("\n")[0].strip()
        if tok.type != "inline" or not _BARE_URL.fullmatch(url):
            continue
        href = state.md.normalizeLink(url)
        if not state.md.validateLink(href):
            continue
        children = tok.children or []
        cut = next((i for i, c in enumerate(children) if c.type == "softbreak"), len(children))
        link = [Token("link_open", "a", 1, attrs={"href": href}), Token("text", "", 0, content=url)]
        link.append(Token("link_close", "a", -1))
        rest = children[cut + 1 :]
        tok.children = [*link, Token("hardbreak", "br", 0), *rest] if rest else link


def _render_link_open(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    tokens[idx].attrSet("rel", "noopener")
    return self.renderToken(tokens, idx, options, env)


_MD = MarkdownIt("commonmark", {"html": False})
_MD.core.ruler.push("bare_url_paragraph", _link_bare_urls)
_MD.add_render_rule("link_open", _render_link_open)


# --- Markdown -------------------------------------------------------------------------------------


def render_markdown(title: str, published: date, intro: str, summaries: Sequence[Summary], outro: str) -> str:
    """The newsletter as Markdown, in the format `podcast new --from-newsletter` imports.

    The format (blocks separated by one blank line; the file ends with a newline)::

        <!-- papercast: Week 48: agents that plan | 2025-11-28 -->

        Intro paragraphs (optional, any Markdown).

        # Paper title
        https://arxiv.org/abs/2405.04517
        *A. Author, B. Author, C. Author, D. Author, E. Author, F. Author and colleagues*

        Summary paragraphs (any Markdown).

        # Next paper title
        ...

        ---

        Closing paragraphs.

    How to read it back:

    - Line 1 is an HTML comment `<!-- papercast: TITLE | YYYY-MM-DD -->`: the newsletter's title is
      everything up to the last " | " (a "--" in it is written as an em dash). Skip that line.
    - Everything before the first line starting with `# ` is the intro.
    - Each line starting with `# ` starts a paper; the rest of the line is its title.
    - The line right under the heading, when it is a single http(s) URL, is the paper's URL (absent
      when the paper has none).
    - The next line (right under the URL, or under the heading), when it starts and ends with `*`,
      lists the authors: names separated by ", ", at most 6, then " and colleagues" if there were more.
    - Title and author names are Markdown-escaped: a backslash before ASCII punctuation X means a
      literal X. Only backslash, backtick, * _ [ ] < and an & that would start an entity are
      escaped, so most titles read back verbatim.
    - After a blank line, the rest up to the next `# ` line or the separator is the summary.
    - The separator is a line that is exactly `---`; what follows is the closing text. It is present
      only when there is closing text.

    In the free text (intro, summaries, outro) a line starting with `# ` is written as `## ` (still a
    heading, but not a new paper) and a line of only `-`, `*` or `_` (3 or more) as `- - -`, `* * *`
    or `_ _ _` (the same thematic break), so the markers above are unambiguous.
    """
    blocks = [
        f"<!-- papercast: {_one_line(title).replace('--', '—')} | {published.isoformat()} -->",
        _guard(intro),
    ]
    for s in summaries:
        head = ["# " + _escape_inline(_one_line(s.paper.title)), s.paper.url.strip().replace(" ", "%20")]
        blocks.append("\n".join(line for line in [*head, _authors_line(s.paper.authors)] if line))
        blocks.append(_guard(s.text))
    if outro.strip():
        blocks += ["---", _guard(outro)]
    return "\n\n".join(b for b in blocks if b) + "\n"


def _one_line(text: str) -> str:
    return " ".join(text.split())


_MD_SPECIAL = re.compile(r"([\\`*_\[\]<])")
_ENTITY_AMP = re.compile(r"&(?=#?\w+;)")


def _escape_inline(text: str) -> str:
    r"""Backslash-escape what CommonMark would read as markup in a title or a name.

    >>> _escape_inline("Q&A: <b>*bold*</b> &amp; C#")
    'Q&A: \\<b>\\*bold\\*\\</b> \\&amp; C#'
    """
    return _ENTITY_AMP.sub(r"\\&", _MD_SPECIAL.sub(r"\\\1", text))


def _authors_line(authors: Sequence[str]) -> str:
    names = [_escape_inline(_one_line(a)) for a in authors if a.strip()]
    if not names:
        return ""
    line = ", ".join(names[:MAX_AUTHORS])
    if len(names) > MAX_AUTHORS:
        line += " and colleagues"
    return f"*{line}*"


_H1_LINE = re.compile(r"^#(?=\s|$)", re.MULTILINE)
_RULE_LINE = re.compile(r"^[ \t]*(-{3,}|\*{3,}|_{3,})[ \t]*$", re.MULTILINE)


def _guard(markdown: str) -> str:
    """Keep free text from producing the lines an importer splits on (see render_markdown)."""
    spaced = _RULE_LINE.sub(lambda m: " ".join(m.group(1)[0] * 3), markdown.strip())
    return _H1_LINE.sub("##", spaced)


# --- HTML for the site ----------------------------------------------------------------------------


def render_html(markdown_text: str) -> str:
    """Body HTML of a newsletter in `render_markdown`'s format (no <html>/<body>, no page title).

    Raw HTML in the Markdown is shown as text, never as tags. The leading comment line (title,
    date) is dropped, headings move down one level (a paper is an <h2>, under the page's own
    <h1>), a paper's URL line becomes a link, and every link gets rel="noopener".
    """
    lines = markdown_text.lstrip().splitlines()
    while lines and _COMMENT_LINE.fullmatch(lines[0].strip()):
        lines.pop(0)
    tokens = _MD.parse("\n".join(lines))
    for tok in tokens:
        if tok.type in ("heading_open", "heading_close"):
            tok.tag = f"h{min(int(tok.tag[1]) + 1, 6)}"
    return str(_MD.renderer.render(tokens, _MD.options, {}))


# --- Show notes and description for the feed ------------------------------------------------------


def notes_html(intro: str, summaries: Sequence[Summary], outro: str, chapters: Sequence[Chapter]) -> str:
    """Show notes for the feed's content:encoded, using only the tags in `NOTES_TAGS`.

    The intro, each paper (its title in bold, linked to its URL, the authors in italics, then its
    summary), the closing text, and the chapter list with timestamps ("12:05 Title"), which
    podcast apps turn into seek links. Markdown headings become bold paragraphs, code becomes text.
    """
    parts = [_notes_from_markdown(intro)]
    for s in summaries:
        title = html.escape(_one_line(s.paper.title))
        if _is_web_url(s.paper.url):
            title = f'<a href="{html.escape(s.paper.url.strip())}">{title}</a>'
        names = [_one_line(a) for a in s.paper.authors if a.strip()]
        byline = ", ".join(names[:MAX_AUTHORS]) + (" and colleagues" if len(names) > MAX_AUTHORS else "")
        parts.append(f"<p><b>{title}</b>" + (f"<br><i>{html.escape(byline)}</i>" if byline else "") + "</p>")
        parts.append(_notes_from_markdown(s.text))
    parts.append(_notes_from_markdown(outro))
    if chapters:
        parts.append("<p><b>Chapters</b></p>")
        parts.append("<ul>" + "".join(_chapter_item(c) for c in chapters) + "</ul>")
    return "\n".join(p for p in parts if p)


def _chapter_item(chapter: Chapter) -> str:
    title = html.escape(_one_line(chapter.title))
    if _is_web_url(chapter.url):
        title = f'<a href="{html.escape(chapter.url.strip())}">{title}</a>'
    return f"<li>{format_clock(chapter.start)} {title}</li>"


def _is_web_url(url: str) -> bool:
    return url.strip().lower().startswith(("https://", "http://"))


# Markdown-it block tokens mapped to the whitelisted markup; anything not listed leaves no tag.
_NOTES_BLOCK = {
    "paragraph_open": "<p>",
    "paragraph_close": "</p>",
    "heading_open": "<p><b>",
    "heading_close": "</b></p>",
    "bullet_list_open": "<ul>",
    "bullet_list_close": "</ul>",
    "ordered_list_open": "<ol>",
    "ordered_list_close": "</ol>",
    "list_item_open": "<li>",
    "list_item_close": "</li>",
}
_NOTES_INLINE = {
    "softbreak": "\n",
    "hardbreak": "<br>",
    "em_open": "<em>",
    "em_close": "</em>",
    "strong_open": "<strong>",
    "strong_close": "</strong>",
}


def _notes_from_markdown(markdown: str) -> str:
    out: list[str] = []
    for tok in _MD.parse(markdown):
        if tok.type == "inline":
            out.append(_notes_inline(tok.children or []))
        elif tok.type in ("fence", "code_block"):
            out.append("<p>" + html.escape(tok.content.rstrip("\n")).replace("\n", "<br>") + "</p>")
        elif not tok.hidden:  # hidden: the paragraphs of a tight list, which render without <p>
            out.append(_NOTES_BLOCK.get(tok.type, ""))
    return "".join(out)


def _notes_inline(children: Sequence[Token]) -> str:
    out: list[str] = []
    open_links: list[bool] = []  # per link_open: whether an <a> was written (only for web URLs)
    for tok in children:
        if tok.type == "link_open":
            href = str(tok.attrGet("href") or "")
            open_links.append(_is_web_url(href) or href.startswith("mailto:"))
            out.append(f'<a href="{html.escape(href)}">' if open_links[-1] else "")
        elif tok.type == "link_close":
            out.append("</a>" if open_links and open_links.pop() else "")
        elif tok.type in _NOTES_INLINE:
            out.append(_NOTES_INLINE[tok.type])
        else:  # text, code_inline, image (its alt text): content only, escaped
            out.append(html.escape(tok.content))
    return "".join(out)


def plain_description(intro: str, summaries: Sequence[Summary], limit: int = 600) -> str:
    """One plain-text paragraph: the intro, then "Papers: title; title.", at most `limit` characters.

    Markdown is reduced to its text; a cut falls on a word boundary and ends with "…".

    >>> from podcast.models import Paper
    >>> plain_description("This *week*: [agents](https://x.org).", [Summary(Paper("1", "Plan"), "")])
    'This week: agents. Papers: Plan.'
    """
    text = _plain(intro)
    titles = [_one_line(s.paper.title) for s in summaries if s.paper.title.strip()]
    if titles:
        text = f"{text} Papers: {'; '.join(titles)}.".strip()
    return _cut(text, limit)


def _plain(markdown: str) -> str:
    words = []
    for tok in _MD.parse(markdown):
        if tok.type in ("fence", "code_block"):
            words.append(tok.content)
        for child in tok.children or ():
            words.append(" " if child.type in ("softbreak", "hardbreak") else child.content)
        if tok.type.endswith("_close"):
            words.append(" ")
    return _one_line("".join(words))


def _cut(text: str, limit: int) -> str:
    """Shorten to at most `limit` characters on a word boundary.

    >>> _cut("one two three", 10)
    'one two…'
    """
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    if not text[limit - 1].isspace() and " " in head:
        head = head.rsplit(" ", 1)[0]
    return head.rstrip(" ;,:-") + "…"


def format_clock(seconds: float) -> str:
    """A timestamp as podcast apps show it: m:ss, or h:mm:ss from an hour on.

    >>> format_clock(65.9), format_clock(3600)
    ('1:05', '1:00:00')
    """
    s = max(0, int(seconds))
    h, m, sec = s // 3600, s // 60 % 60, s % 60
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"
