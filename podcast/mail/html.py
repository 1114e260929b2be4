"""The newsletter as HTML for mail clients: one table 600 px wide, every style inline, no script.

Mail clients are old browsers with rules of their own: many drop <style> blocks and external CSS,
Outlook lays out tables but not floats or flex, and images load only from absolute URLs. So every
element carries its style, the layout is a table, links and images are absolute URLs of the show's
site, and images from anywhere else are left out (shown as their alt text): a newsletter must not
make readers' clients call other servers. The one <style> block only darkens the colors for the
clients that honor prefers-color-scheme; the colors inline read well in light and dark alike (and
when a client inverts them itself).

The body is the newsletter's allowlisted HTML (see edition.py), re-written tag by tag with styles
added: nothing in it survives as markup unless it is one of the allowlisted tags.
"""

from __future__ import annotations

import html
from html.parser import HTMLParser
from urllib.parse import urljoin

from podcast.mail.edition import Edition
from podcast.models import BuiltEpisode, Show
from podcast.text import one_line

__all__ = ["EMAIL_PAGE", "WIDTH", "email_page", "render_html"]

WIDTH = 600
"""Pixels: the width mail clients are designed for (a phone narrows it, the table shrinks with it)."""

TEXT = "#222222"
MUTED = "#6b6b6b"
ACCENT = "#a33f1d"
"""The sample cover's rust: links and the Listen button, readable on white and, lightened, on dark."""
PAGE = "#f2efe9"
CARD = "#ffffff"
RULE = "#e3ddd5"
FONT = "-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif"
MONO = "Menlo,Consolas,'Liberation Mono',monospace"

_DARK = """
:root { color-scheme: light dark; supported-color-schemes: light dark; }
@media (prefers-color-scheme: dark) {
  .pc-page { background-color: #121212 !important; }
  .pc-card { background-color: #1e1e1e !important; }
  .pc-text { color: #e8e6e3 !important; }
  .pc-muted { color: #a8a29e !important; }
  .pc-link { color: #f4a582 !important; }
  .pc-code { background-color: #2a2a2a !important; color: #e8e6e3 !important; }
  .pc-rule { border-color: #3a3a3a !important; }
}
"""
"""The dark palette, for clients that honor prefers-color-scheme (Apple Mail, Outlook for Mac)."""

_BODY_STYLES = {
    "p": ("pc-text", f"margin:0 0 14px;font-size:16px;line-height:1.6;color:{TEXT};"),
    "h1": ("pc-text", f"margin:28px 0 10px;font-size:22px;line-height:1.3;color:{TEXT};"),
    "h2": ("pc-text", f"margin:28px 0 8px;font-size:20px;line-height:1.3;color:{TEXT};"),
    "h3": ("pc-text", f"margin:22px 0 8px;font-size:18px;line-height:1.3;color:{TEXT};"),
    "ul": ("pc-text", f"margin:0 0 14px;padding:0 0 0 24px;font-size:16px;line-height:1.6;color:{TEXT};"),
    "li": ("", "margin:0 0 6px;"),
    "a": ("pc-link", f"color:{ACCENT};text-decoration:underline;"),
    "blockquote": ("pc-muted pc-rule",
                   f"margin:0 0 14px;padding:0 0 0 14px;border-left:3px solid {RULE};color:{MUTED};"),
    "pre": ("pc-code", f"margin:0 0 14px;padding:12px;background-color:{PAGE};color:{TEXT};"
                       f"font-family:{MONO};font-size:14px;line-height:1.5;white-space:pre-wrap;"),
    "code": ("", f"font-family:{MONO};font-size:14px;"),
    "hr": ("pc-rule", f"border:0;border-top:1px solid {RULE};margin:24px 0;"),
    "img": ("", "display:block;max-width:100%;height:auto;border:0;margin:0 0 14px;"),
}
_BODY_STYLES |= {"ol": _BODY_STYLES["ul"], "h4": _BODY_STYLES["h3"], "h5": _BODY_STYLES["h3"],
                 "h6": _BODY_STYLES["h3"]}
_PLAIN_TAGS = frozenset({"b", "i", "strong", "em", "br"})


def render_html(ed: Edition, unsubscribe: str = "") -> str:
    """The whole HTML document of the edition; `unsubscribe` (a URL or mailto:) adds a footer link to it.

    Without it (the copy `podcast publish` writes for pasting into a newsletter service, which adds
    its own) the footer only says where the newsletter comes from.
    """
    show, ep = ed.show, ed.episode
    title = _e(ed.subject)
    return f"""<!DOCTYPE html>
<html lang="{_a(show.language)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="supported-color-schemes" content="light dark">
<title>{title}</title>
<style>{_DARK}</style>
</head>
<body class="pc-page" style="margin:0;padding:0;background-color:{PAGE};">
<div style="display:none;max-height:0;overflow:hidden;">{_e(one_line(ep.description))}</div>
<table role="presentation" class="pc-page" width="100%" cellpadding="0" cellspacing="0" border="0" \
style="background-color:{PAGE};">
<tr><td align="center" style="padding:24px 8px;">
<table role="presentation" class="pc-card" width="{WIDTH}" cellpadding="0" cellspacing="0" border="0" \
style="width:100%;max-width:{WIDTH}px;background-color:{CARD};font-family:{FONT};">
{_masthead(ed)}
{_listen(ed)}
{_contents(ed)}
<tr><td style="padding:8px 28px 12px;word-wrap:break-word;overflow-wrap:break-word;word-break:break-word;">
{_restyle(ed)}
</td></tr>
{_footer(ed, unsubscribe)}
</table>
</td></tr>
</table>
</body>
</html>
"""


def _e(text: str) -> str:
    return html.escape(text, quote=False)


def _a(value: str) -> str:
    return html.escape(value, quote=True)


def _link(href: str, text: str, style: str = "") -> str:
    css = f"color:{ACCENT};text-decoration:underline;{style}"
    return f'<a class="pc-link" href="{_a(href)}" style="{css}">{text}</a>'


def _masthead(ed: Edition) -> str:
    show, ep = ed.show, ed.episode
    when = f"{ep.published:%B} {ep.published.day}, {ep.published.year}"
    cover = (f'<img src="{_a(ed.cover_url)}" width="56" height="56" alt="{_a(one_line(show.title))}" '
             'style="display:block;width:56px;height:56px;border:0;">')
    return f"""<tr><td style="padding:24px 28px 0;">
<table role="presentation" cellpadding="0" cellspacing="0" border="0"><tr>
<td style="padding:0 14px 0 0;vertical-align:middle;"><a href="{_a(show.base_url)}">{cover}</a></td>
<td class="pc-muted" style="vertical-align:middle;font-size:14px;line-height:1.4;color:{MUTED};">\
{_link(show.base_url, _e(one_line(show.title)), "text-decoration:none;font-weight:bold;")}<br>\
Episode {ep.number} &middot; {_e(when)}</td>
</tr></table>
<h1 class="pc-text" style="margin:18px 0 0;font-size:26px;line-height:1.25;color:{TEXT};">\
{_e(ed.subject)}</h1>
</td></tr>"""


def _listen(ed: Edition) -> str:
    from podcast.writing.newsletter import format_clock

    ep = ed.episode
    mp3 = f"the MP3 ({format_clock(ep.duration)}, {ep.audio_bytes / 1e6:.1f} MB)"
    button = (f'<a class="pc-button" href="{_a(ed.page_url)}" style="display:inline-block;padding:12px 22px;'
              f'background-color:{ACCENT};color:#ffffff;font-size:16px;font-weight:bold;text-decoration:none;'
              f'border-radius:6px;">&#9654;&nbsp;Listen</a>')
    return f"""<tr><td style="padding:18px 28px 6px;">
{button}
<p class="pc-muted" style="margin:10px 0 0;font-size:14px;line-height:1.5;color:{MUTED};">\
On the episode page, or download {_link(ed.mp3_url, _e(mp3))}.</p>
</td></tr>"""


def _contents(ed: Edition) -> str:
    items = []
    for paper in ed.episode.papers:
        title = _e(one_line(paper.title) or paper.id)
        url = paper.url.strip()
        shown = _link(url, title) if url.lower().startswith(("https://", "http://")) else title
        items.append(f'<li style="margin:0 0 6px;">{shown}</li>')
    if not items:
        return ""
    return f"""<tr><td style="padding:14px 28px 0;">
<p class="pc-muted" style="margin:0 0 6px;font-size:13px;letter-spacing:0.08em;text-transform:uppercase;\
color:{MUTED};">In this issue</p>
<ol class="pc-text" style="margin:0;padding:0 0 0 22px;font-size:15px;line-height:1.5;color:{TEXT};">
{"".join(items)}
</ol>
<hr class="pc-rule" style="border:0;border-top:1px solid {RULE};margin:20px 0 0;">
</td></tr>"""


def _footer(ed: Edition, unsubscribe: str) -> str:
    show = ed.show
    name = _e(one_line(show.title))
    lines = [f"You are reading {name}, a newsletter and podcast: {_link(show.base_url, _e(show.base_url))}."]
    lines.append(f"Read it on the web: {_link(ed.page_url, 'the episode page')}.")
    if unsubscribe:
        lines.append(f"No longer interested? {_link(unsubscribe, 'Unsubscribe')}.")
    text = "<br>".join(lines)
    return f"""<tr><td class="pc-muted pc-rule" style="padding:18px 28px 26px;border-top:1px solid {RULE};\
font-size:13px;line-height:1.6;color:{MUTED};">{text}</td></tr>"""


def _restyle(ed: Edition) -> str:
    writer = _Restyler(ed.page_url, ed.show.base_url)
    writer.feed(ed.body_html)
    writer.close()
    return "".join(writer.out)


class _Restyler(HTMLParser):
    """Re-writes allowlisted HTML with inline styles and absolute links; drops any other tag."""

    def __init__(self, page_url: str, base_url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page_url, self.base_url = page_url, base_url
        self.out: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "img":
            self._image(values)
            return
        if tag in _PLAIN_TAGS:
            self.out.append(f"<{tag}>")
            return
        if tag not in _BODY_STYLES:
            return
        css_class, style = _BODY_STYLES[tag]
        extra = ""
        if tag == "a":
            href = self._absolute(values.get("href", ""))
            extra = f' href="{_a(href)}"' if href else ""
        elif tag == "ol" and values.get("start", "").isdigit():
            extra = f' start="{values["start"]}"'
        klass = f' class="{css_class}"' if css_class else ""
        self.out.append(f'<{tag}{klass}{extra} style="{style}">')

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if (tag in _BODY_STYLES or tag in _PLAIN_TAGS) and tag not in ("img", "hr", "br"):
            self.out.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        self.out.append(_e(data))

    def _absolute(self, url: str) -> str:
        """`url` made absolute against the episode page; empty for a scheme other than http(s) or mailto."""
        url = url.strip()
        if url.lower().startswith("mailto:"):
            return url
        full = urljoin(self.page_url, url)
        return full if full.lower().startswith(("https://", "http://")) else ""

    def _image(self, values: dict[str, str]) -> None:
        src = self._absolute(values.get("src", ""))
        alt = values.get("alt", "")
        if not src.startswith(self.base_url):  # another server would learn who opened the mail
            self.out.append(f"[{_e(alt)}]" if alt else "")
            return
        self.out.append(f'<img src="{_a(src)}" alt="{_a(alt)}" style="{_BODY_STYLES["img"][1]}">')


EMAIL_PAGE = "newsletter-email.html"
"""Beside each episode's page: the newsletter as mail HTML, to paste into a newsletter service."""


def email_page(show: Show, ep: BuiltEpisode, newsletter_html: str, cover: str) -> str:
    """The edition's HTML without a reader's unsubscribe link (the service adds its own)."""
    from podcast.mail.edition import edition

    return render_html(edition(show, ep, newsletter_html, cover))
