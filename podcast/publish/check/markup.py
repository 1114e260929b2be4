"""HTML in both feeds (feed.xml and newsletter.xml): no field that readers render as HTML may hold
markup that runs or loads something (podcast.publish.markup.active_markup says what counts)."""

from __future__ import annotations

from typing import Any

from lxml import etree

from podcast.publish.check.items import Item
from podcast.publish.check.problems import NS, Findings, text
from podcast.publish.markup import active_markup
from podcast.publish.site import NEWSLETTER_FEED

HTML_FIELDS = ("description", "content:encoded", "itunes:summary")
"""The elements, of the channel and of each item, that feed readers render as HTML."""


def check_markup(found: Findings, channel: Any, file: str) -> None:
    """The HTML fields of a feed's channel and of each of its items; `file` is the feed's name."""
    items = enumerate(channel.findall("item"), start=1)
    places = [("channel", channel), *((Item(n, text(item, "title")).label, item) for n, item in items)]
    for where, element in places:
        for tag in HTML_FIELDS:
            for field in element.findall(tag, NS):
                active = active_markup(field.text or "")
                if active:
                    found.add(file, "markup", f"{where} <{tag}> holds {', '.join(active)}: a feed reader "
                              "would run or load it; remove it (papercast escapes text and cleans HTML)")


def check_newsletter_feed(found: Findings) -> None:
    """newsletter.xml, when the site has one: well-formed XML, and no active markup in it."""
    path = found.root / NEWSLETTER_FEED
    if not path.is_file():
        return
    try:
        root = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True)).getroot()
    except etree.XMLSyntaxError as e:
        found.add(NEWSLETTER_FEED, "page", f"is not well-formed XML ({e}); publish again")
        return
    channel = root.find("channel")
    if channel is not None:
        check_markup(found, channel, NEWSLETTER_FEED)
