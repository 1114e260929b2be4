"""HTML in the feeds: what `podcast check` calls active, what the writers let through, and the feed writers
themselves fed any Unicode text.

The judge of what a browser would run is nh3 itself (html5ever, the HTML5 parser of browsers), asked to
keep everything, active parts included: its serialization is canonical, so the tags in it are the tags a
browser sees. Our detector must find something in every string where that judge sees active markup,
and nothing the writers produce may hold any.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime
from html.parser import HTMLParser

import lxml.html
import nh3
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree
from support.shows import sample_show

from podcast.errors import InputError
from podcast.models import BuiltEpisode, Chapter, Paper, Summary
from podcast.publish.feed import clip_title, render_feed, xml_text
from podcast.publish.feed_ext import NAMESPACES
from podcast.publish.markup import NEWSLETTER, NOTES, active_markup, safe_html, text_html
from podcast.publish.site import render_newsletter_feed
from podcast.writing.newsletter import notes_html, render_html, render_markdown

# Reproducible examples, no per-example time limit (tests must pass on a busy machine), no .hypothesis/.
CHECKED = settings(derandomize=True, deadline=None, database=None, max_examples=400)

PIECES = (
    "<", ">", "/", " ", "\t", "\n", "=", '"', "'", "!", "-", "--", "<!--", "-->", "--!>", "<!", "<![CDATA[", "]]>",
    "<?", "?>", "</", "img", "script", "a", "p", "b", "br", "svg", "style", "iframe", "textarea", "title",
    "noscript", "xmp", "math", "src=x", "onerror=alert(1)", "onload=x", "href=", 'href="', "javascript:alert(1)",
    "java&#x09;script:", "&#106;avascript:", "JaVaScRiPt:", "data:text/html,x", "x", "&", ";", "&lt;", "&gt;",
    "&quot;", "&#60;", "&#x3c;", "\x00", "\ufffd",
)
"""Pieces that HTML parsers disagree about, to be strung together at random."""
html_like = st.lists(st.sampled_from(PIECES), max_size=30).map("".join)
any_text = st.one_of(st.text(), st.lists(st.sampled_from(PIECES) | st.text(max_size=4), max_size=20).map("".join))
"""Any Unicode text, and as often text strewn with the pieces of markup."""

_JUDGE = {
    "tags": {"script", "style", "iframe", "img", "a", "p", "b", "br", "svg", "textarea", "title", "noscript", "xmp",
             "math"},
    "clean_content_tags": set(),
    "attributes": {"*": {"onerror", "onload", "href", "src"}},
    "url_schemes": {"javascript", "data", "vbscript", "http", "https", "mailto"},
    "link_rel": None,
    "strip_comments": True,
}
_SERIALIZED_TAG = re.compile(r"<([a-zA-Z][^\s/>]*)([^>]*)>")
_SERIALIZED_ATTRIBUTE = re.compile(r'\s([^\s=]+)="([^"]*)"')


def browser_sees_active(markup: str) -> bool:
    """Whether a browser would find a script, style or iframe, an on* handler or a script URL in `markup`."""
    for name, attributes in _SERIALIZED_TAG.findall(nh3.clean(markup, **_JUDGE)):  # type: ignore[arg-type]
        if name.lower() in ("script", "style", "iframe"):
            return True
        for attribute, value in _SERIALIZED_ATTRIBUTE.findall(attributes):
            bare = "".join(c for c in html.unescape(value) if ord(c) > 0x20).lower()
            if attribute.startswith("on") or bare.startswith(("javascript:", "data:", "vbscript:")):
                return True
    return False


def assert_inert(markup: str) -> None:
    """No active markup by our detector, by the browser's parser, and by libxml2's HTML parser."""
    assert active_markup(markup) == [], markup
    assert not browser_sees_active(markup), markup
    if markup.strip():
        for el in lxml.html.fragment_fromstring(markup, create_parent="div").iter():
            assert el.tag not in ("script", "style", "iframe", "object", "embed"), markup
            for name, value in el.attrib.items():
                assert not name.startswith("on"), markup
                assert not value.strip().lower().startswith(("javascript:", "data:")), markup


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def shown_text(markup: str) -> str:
    """The text a reader shows for an HTML field (markup only, no tags: they are not text)."""
    parser = _Text()
    parser.feed(markup)
    parser.close()
    return "".join(parser.parts)


# --- the detector and the cleaner -----------------------------------------------------------------


@CHECKED
@given(html_like)
def test_check_sees_all_the_active_markup_a_browser_would_run(markup: str) -> None:
    if browser_sees_active(markup):
        assert active_markup(markup), markup


@CHECKED
@given(html_like)
def test_cleaned_html_holds_nothing_active(markup: str) -> None:
    for policy in (NOTES, NEWSLETTER):
        cleaned = safe_html(markup, policy)
        assert_inert(cleaned)
        assert "]]>" not in cleaned  # always fits in a CDATA section
        assert safe_html(cleaned, policy) == safe_html(safe_html(cleaned, policy), policy)


@pytest.mark.parametrize(
    ("markup", "found"),
    [
        ("<p>fine <b>bold</b> <a href='https://x.org/?a=1&amp;b=2'>link</a></p>", []),
        ("a &lt;script&gt; as text", []),
        ("<script>alert(1)</script>", ["a <script> tag"]),
        ("<iframe src=https://x.org></iframe><object></object><embed><style>p{}</style>",
         ["a <iframe> tag", "a <object> tag", "a <embed> tag", "a <style> tag"]),
        ("<img src=x onerror=alert(2)>", ["an onerror= attribute"]),
        ("<a href='java&#x0A;script:alert(1)'>x</a>", ["a javascript: URL (href=)"]),
        ("<img src='data:image/png;base64,AAAA'>", ["a data: URL (src=)"]),
        # HTML5 ends "<!-->" at once, so the script after it runs; older parsers read one long comment.
        ("<!--><script>alert(1)</script>-->", ["an HTML comment"]),
        ("<![CDATA[><img src=x onerror=alert(1)>]]>", ["a <!...> declaration"]),
        ("text <img src=x onerror=alert(1) ", ["a tag left open at the end"]),
    ],
)
def test_active_markup_names_what_it_finds(markup: str, found: list[str]) -> None:
    assert active_markup(markup) == found


def test_our_own_html_passes_byte_for_byte() -> None:
    paper = Paper("2405.04517", "xLSTM: <Extended> & Long", ("Sepp O'Hochreiter",), "https://arxiv.org/abs/2405.04517")
    summaries = [Summary(paper, "It's **bold** and *new*: see [the code](https://github.com/x?a=1&b=2).")]
    chapters = [Chapter("Intro", 0, 1), Chapter(paper.title, 1, 2, paper.url)]
    notes = notes_html("Hello & welcome.", summaries, "Bye.", chapters)
    letter = render_html(render_markdown("Week 1", date(2024, 5, 10), "Hello & welcome.", summaries, "Bye."))
    assert safe_html(notes, NOTES) == notes
    assert safe_html(letter, NEWSLETTER) == letter
    assert "&#x27;" in notes and 'rel="noopener"' in letter and "<br />" in letter


def test_cleaning_keeps_the_allowlist_and_drops_the_rest() -> None:
    assert safe_html('<p onclick="x()">Hi<script>alert(1)</script> <a href="javascript:x()">there</a>', NOTES) == (
        "<p>Hi <a>there</a></p>")
    assert safe_html('<h2>T</h2><img src="data:image/png;base64,AA" alt="x">', NEWSLETTER) == '<h2>T</h2><img alt="x">'
    assert safe_html("<h2>T</h2>", NOTES) == "T"


def test_text_is_escaped_only_when_html_would_read_it_as_markup() -> None:
    assert text_html("  Plain words, 'quoted' -> fine \r\n") == "Plain words, 'quoted' -> fine"
    assert text_html("<b>5 > 3 & 2</b>") == "<p>&lt;b&gt;5 &gt; 3 &amp; 2&lt;/b&gt;</p>"
    assert shown_text(text_html("<b>5 > 3 & 2</b>")) == "<b>5 > 3 & 2</b>"


# --- the feed writers, fed any text ---------------------------------------------------------------

SHOW = sample_show(description="<p>Weekly <b>papers</b>.</p>", author="Ada", base_url="https://example.org/p/")
PUBLISHED = datetime(2024, 5, 10, tzinfo=UTC)


def episode(title: str, description: str, notes: str) -> BuiltEpisode:
    return BuiltEpisode("2024-w19", title, 1, PUBLISHED, "guid-1", description, notes, "2024-w19.mp3", 1000,
                        60.0, (Chapter("Intro", 0.0, 60.0),))


def html_fields(root: etree._Element) -> list[str]:
    paths = ("channel/description", "channel/item/description", "channel/item/content:encoded",
             "channel/item/itunes:summary")
    return [el.text or "" for path in paths for el in root.findall(path, NAMESPACES)]


def as_read(text: str) -> str:
    """What a field's text comes back as: XML-invalid characters dropped, line ends \\n, ends trimmed."""
    return xml_text(text).replace("\r\n", "\n").replace("\r", "\n").strip()


@CHECKED
@given(title=any_text, author=any_text, summary=any_text, paper=any_text)
def test_any_text_makes_a_well_formed_feed_with_the_text_and_no_markup(
    title: str, author: str, summary: str, paper: str
) -> None:
    papers = [Summary(Paper("1", paper, (author,), "https://arxiv.org/abs/1"), summary)]
    notes = notes_html(summary, papers, "", ())
    ep = episode(title, summary, notes)
    show = sample_show(description=SHOW.description, author=author, base_url=SHOW.base_url)
    if not clip_title(title):
        with pytest.raises(InputError, match="has no title"):
            render_feed(show, [ep])
        return
    root = etree.fromstring(render_feed(show, [ep]))
    item = root.find("channel/item")
    assert item.findtext("title") == clip_title(title)
    assert root.findtext("channel/itunes:author", namespaces=NAMESPACES) == (xml_text(author) or None)
    if as_read(summary):  # with no description, feedgen makes the show notes the description
        assert shown_text(item.findtext("description") or "") == as_read(summary)
    for field in html_fields(root):
        assert_inert(field)
    notes_field = item.findtext("content:encoded", namespaces=NAMESPACES) or item.findtext("description")
    shown_notes = shown_text(notes_field or "")
    for name in (paper, author):
        assert xml_text(" ".join(name.split())) in shown_notes

    letter = render_html(render_markdown(title, PUBLISHED.date(), summary, papers, ""))
    readers = etree.fromstring(render_newsletter_feed(show, [ep], {ep.slug: letter}))
    assert readers.findtext("channel/item/title") == clip_title(title)
    assert shown_text(readers.findtext("channel/item/description") or "") == (as_read(summary) or as_read(title))
    for field in html_fields(readers):
        assert_inert(field)
