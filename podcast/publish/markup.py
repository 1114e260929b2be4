"""HTML in the feeds: text made safe to render, HTML kept to an allowlist, and what counts as active.

Feed readers render a feed's <description>, <content:encoded> and <itunes:summary> as HTML, whatever
the feed meant, so each of these fields holds either plain text escaped by `text_html` or HTML passed
through `safe_html`. Titles, author names and chapter titles are plain text (RSS and Apple say so,
and podcast apps show them as text): XML escaping is all they need.

`safe_html` lets HTML through unchanged only when it is written in a small dialect that every HTML
parser reads the same way: tags from an allowlist with double-quoted attributes from an allowlist,
http(s)/mailto or relative links, balanced, no comments. papercast's own HTML is written that way,
so its feeds keep their bytes. Anything else goes through nh3 (the Ammonia sanitizer, on the HTML5
parser browsers use) with the same allowlist.

`active_markup` is the other side, for `podcast check`: what in a field would run or load something
in a reader (script-like tags, on* handlers, javascript:/data:/vbscript: URLs, and comments or
declarations, which parsers end at different places and so can hide a tag from one of them).
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser

from podcast.writing.newsletter import NOTES_TAGS

__all__ = ["NEWSLETTER", "NOTES", "HtmlPolicy", "active_markup", "safe_html", "text_html"]

URL_SCHEMES = frozenset({"http", "https", "mailto"})
"""Schemes a link or image in our HTML may use; a URL without a scheme (relative) is fine too."""


@dataclass(frozen=True)
class HtmlPolicy:
    """The tags, and per tag the attributes, that HTML in a field may keep."""

    tags: frozenset[str]
    attributes: Mapping[str, frozenset[str]] = field(default_factory=dict)


NOTES = HtmlPolicy(NOTES_TAGS, {"a": frozenset({"href"})})
"""Show notes and channel descriptions (STANDARDS.md: p ol ul li a b i strong em br)."""

NEWSLETTER = HtmlPolicy(
    NOTES_TAGS | {"h1", "h2", "h3", "h4", "h5", "h6", "code", "pre", "blockquote", "hr", "img"},
    {
        "a": frozenset({"href", "title", "rel"}),
        "img": frozenset({"src", "alt", "title"}),
        "ol": frozenset({"start"}),
        "code": frozenset({"class"}),
    },
)
"""The newsletter as CommonMark renders it (newsletter.render_html), for its page and newsletter.xml."""

_VOID = frozenset({"br", "hr", "img"})
_LINK_ATTRIBUTES = frozenset({"href", "src"})
_TOKEN = re.compile(r'[^<]+|</([a-z][a-z0-9]*)>|<([a-z][a-z0-9]*)((?: [a-z]+="[^"<>]*")*) ?/?>')
_ATTRIBUTE = re.compile(r' ([a-z]+)="([^"<>]*)"')
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")


def text_html(text: str) -> str:
    """Plain text as HTML that shows exactly that text.

    Text with no & or < reads the same as HTML and is returned as it is (line ends made \\n, ends
    trimmed). Other text is escaped and put in a <p>, so that readers guessing whether a description
    is text or HTML (gPodder) take it as HTML and show the characters, not their escapes.

    >>> text_html("Attention is all you need")
    'Attention is all you need'
    >>> text_html("Q&A: <script>alert(1)</script>")
    '<p>Q&amp;A: &lt;script&gt;alert(1)&lt;/script&gt;</p>'
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    if "<" not in text and "&" not in text:
        return text
    return f"<p>{html.escape(text, quote=False)}</p>"


def safe_html(markup: str, policy: HtmlPolicy) -> str:
    """`markup` with only the tags and attributes `policy` allows and only safe links.

    Unchanged when it is in the plain dialect described above (papercast's own HTML is); else
    cleaned by nh3, which also drops comments and the content of script and style. The result never
    holds "]]>", so it always fits in one CDATA section.

    >>> safe_html('<p>It&#x27;s <a href="https://arxiv.org">here</a></p>', NOTES)
    '<p>It&#x27;s <a href="https://arxiv.org">here</a></p>'
    >>> safe_html('<p onclick="x()">Hi<script>alert(1)</script> <a href="javascript:x()">there</a>', NOTES)
    '<p>Hi <a>there</a></p>'
    """
    if _in_dialect(markup, policy):
        return markup
    import nh3

    cleaned = nh3.clean(
        markup,
        tags=set(policy.tags),
        attributes={tag: set(names) for tag, names in policy.attributes.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel=None,
        strip_comments=True,
    )
    # The serializer leaves ">" unescaped in attribute values; "&gt;" there means the same.
    return cleaned.replace("]]>", "]]&gt;")


def _in_dialect(markup: str, policy: HtmlPolicy) -> bool:
    """Whether `markup` is allowlisted tags with quoted allowlisted attributes, balanced, safe links."""
    if "]]>" in markup:
        return False
    open_tags: list[str] = []
    pos = 0
    while pos < len(markup):
        m = _TOKEN.match(markup, pos)
        if m is None:
            return False
        pos = m.end()
        closing, opening, attributes = m.groups()
        if closing:
            if not open_tags or open_tags.pop() != closing:
                return False
        elif opening:
            if opening not in policy.tags or not _safe_attributes(opening, attributes, policy):
                return False
            if opening not in _VOID:
                open_tags.append(opening)
    return not open_tags


def _safe_attributes(tag: str, attributes: str, policy: HtmlPolicy) -> bool:
    allowed = policy.attributes.get(tag, frozenset())
    pairs = _ATTRIBUTE.findall(attributes)
    names = [name for name, _ in pairs]
    if len(set(names)) != len(names) or not set(names) <= allowed:
        return False
    return all(name not in _LINK_ATTRIBUTES or _safe_link(html.unescape(value)) for name, value in pairs)


def _safe_link(url: str) -> bool:
    if any(ord(c) <= 0x20 or 0x7F <= ord(c) <= 0x9F for c in url):
        return False  # browsers drop such characters from a scheme ("java\tscript:"): let nh3 judge
    scheme = _SCHEME.match(url)
    return scheme is None or scheme.group(1).lower() in URL_SCHEMES


# --- What `podcast check` rejects ------------------------------------------------------------------

ACTIVE_TAGS = frozenset({"script", "style", "iframe", "frame", "frameset", "object", "embed", "applet",
                         "base", "link", "meta"})
"""Tags that run code, load a document or restyle the reader's page."""
BAD_SCHEMES = ("javascript:", "vbscript:", "data:")
URL_ATTRIBUTES = frozenset({"href", "src", "action", "formaction", "background", "poster", "cite", "data",
                            "codebase", "classid", "archive", "longdesc", "lowsrc", "dynsrc", "usemap",
                            "manifest", "icon", "ping", "xlink:href"})
_OPEN_AT_END = re.compile(r"<[A-Za-z!/?][^>]*\Z")


def active_markup(markup: str) -> list[str]:
    """What in an HTML field a feed reader would run or load, each named once, in order of appearance.

    >>> active_markup('<p>Q&amp;A: &lt;script&gt;x&lt;/script&gt; <a href="https://a.org">a</a></p>')
    []
    >>> active_markup('<img src=x onerror=alert(1)><a href=" JavaScript:go()">x</a><script>y</script>')
    ['an onerror= attribute', 'a javascript: URL (href=)', 'a <script> tag']
    """
    scanner = _Scanner()
    scanner.feed(markup)
    scanner.close()
    found = scanner.found
    if _OPEN_AT_END.search(markup):  # a reader's page around the field would complete the tag
        found.append("a tag left open at the end")
    return list(dict.fromkeys(found))


class _Scanner(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ACTIVE_TAGS:
            self.found.append(f"a <{tag}> tag")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"an {name}= attribute")
            elif name in URL_ATTRIBUTES and value:
                bare = "".join(c for c in value if ord(c) > 0x20).lower()
                scheme = next((s for s in BAD_SCHEMES if bare.startswith(s)), None)
                if scheme:
                    self.found.append(f"a {scheme} URL ({name}=)")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_comment(self, data: str) -> None:
        self.found.append("an HTML comment")

    def handle_decl(self, decl: str) -> None:
        self.found.append("a <!...> declaration")

    def unknown_decl(self, data: str) -> None:
        self.handle_decl(data)

    def handle_pi(self, data: str) -> None:
        self.found.append("a <?...> instruction")
