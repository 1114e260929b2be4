"""The feed document and its channel: RSS 2.0, iTunes and Podcasting 2.0 rules.

The channel's <link> (the show's base_url) is what every URL of the feed is mapped back to a file
of the site by, so it is read first; the rules for each episode's <item> are in items.py.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from lxml import etree

from podcast.publish.categories import APPLE_CATEGORIES
from podcast.publish.check.problems import NS, Findings, text
from podcast.publish.check.sidecars import check_cover_art
from podcast.publish.feed import FEED_PATH, MAX_CHANNEL_DESCRIPTION_BYTES

_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_RFC2822 = re.compile(
    r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{1,2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} "
    r"\d{2}:\d{2}(:\d{2})? ([+-]\d{4}|GMT|UT|[ECMP][SD]T)"
)
_LANGUAGE = re.compile(r"[a-zA-Z]{2,3}(-[A-Za-z0-9]{2,8})*")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def parse_feed(found: Findings) -> Any:
    """The feed's <channel>, or None after reporting why there is none."""
    path = found.root / FEED_PATH
    if not path.is_file():
        found.feed("missing; run 'podcast publish' to write the site")
        return None
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
    try:
        root = etree.parse(str(path), parser).getroot()
    except etree.XMLSyntaxError as e:
        found.feed(f"is not well-formed XML ({e}); publish again")
        return None
    if root.tag != "rss" or root.get("version") != "2.0":
        found.feed(f"the root element is <{root.tag} version={root.get('version')!r}>; "
                   "a podcast feed is <rss version=\"2.0\">")
    _namespaces(found, root)
    channel = root.find("channel")
    if channel is None:
        found.feed("has no <channel>; publish again")
    return channel


def _namespaces(found: Findings, root: Any) -> None:
    declared: dict[str, str] = {}
    for el in root.iter():
        declared |= {k: v for k, v in el.nsmap.items() if k}
    uris = set(declared.values())
    for prefix, uri in NS.items():
        if prefix in declared and declared[prefix] != uri:
            found.feed(f"namespace prefix {prefix!r} is bound to {declared[prefix]}; it must be {uri}")
        elif uri not in uris:
            found.feed(f"does not declare the {prefix} namespace {uri}")


def check_channel(found: Findings, ch: Any, now: datetime) -> None:
    """The channel's own elements; sets `found.base` from its <link> when that is usable."""
    _required(found, ch, "title", "the show's title (title in podcast.toml)")
    _base_url(found, ch)
    description = text(ch, "description")
    if not description:
        found.feed("channel has no <description>; set description in podcast.toml")
    elif len(description.encode("utf-8")) > MAX_CHANNEL_DESCRIPTION_BYTES:
        found.feed(f"channel <description> is {len(description.encode('utf-8'))} bytes; Apple allows "
                   f"{MAX_CHANNEL_DESCRIPTION_BYTES}: shorten description in podcast.toml")
    language = text(ch, "language")
    if not _LANGUAGE.fullmatch(language):
        found.feed(f"channel <language> {language!r} is not an ISO 639 code like 'en' or 'en-US'")
    _required(found, ch, "itunes:author", "the author (author in podcast.toml)")
    _owner(found, ch)
    _image(found, ch)
    _categories(found, ch)
    choice(found, ch, "itunes:explicit", ("true", "false"), "channel")
    choice(found, ch, "itunes:type", ("episodic",), "channel")
    _podcast_tags(found, ch)
    if ch.find("lastBuildDate") is not None:
        check_date(found, text(ch, "lastBuildDate"), "channel <lastBuildDate>", now, future_ok=True)


def _required(found: Findings, el: Any, tag: str, what: str, where: str = "channel") -> str:
    """The text of `tag` under `el`, after reporting it when it is missing or empty."""
    value = text(el, tag)
    if not value:
        found.feed(f"{where} has no <{tag}> with {what}")
    return value


def choice(found: Findings, el: Any, tag: str, allowed: Sequence[str], where: str, *,
           optional: bool = False) -> None:
    """Report `tag` under `el` unless its text is one of `allowed` (or it is absent and `optional`)."""
    element = el.find(tag, NS)
    if element is None and optional:
        return
    value = (element.text or "").strip() if element is not None else None
    if value not in allowed:
        got = "is missing" if value is None else f"is {value!r}"
        found.feed(f"{where} <{tag}> {got}; it must be {' or '.join(repr(a) for a in allowed)}")


def check_date(found: Findings, when_text: str, what: str, now: datetime, *, future_ok: bool = False) -> None:
    """An RFC 2822 date with its true weekday, and not after `now` unless `future_ok`."""
    if not _RFC2822.fullmatch(when_text):
        found.feed(f"{what} {when_text!r} is not an RFC 2822 date like 'Fri, 10 May 2024 00:00:00 +0000'")
        return
    try:
        when = parsedate_to_datetime(when_text)
    except ValueError:
        found.feed(f"{what} {when_text!r} is not a real date")
        return
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    weekday = _WEEKDAYS[when.weekday()]
    if when_text[:3] != weekday:
        found.feed(f"{what} {when_text!r} says {when_text[:3]}, but that day is a {weekday}")
    if not future_ok and when > now:
        found.feed(f"{what} {when_text!r} is in the future; apps hide the episode until then "
                   "(fix the episode's date, or publish later)")


def _base_url(found: Findings, ch: Any) -> None:
    link = text(ch, "link")
    if not re.match(r"https?://[^/]+", link):
        found.feed(f"channel <link> {link!r} is not the site's http(s) URL; set base_url in podcast.toml")
        return
    found.base = link if link.endswith("/") else link + "/"
    selfs = [a for a in ch.findall("atom:link", NS) if a.get("rel") == "self"]
    if len(selfs) != 1:
        found.feed(f"channel has {len(selfs)} <atom:link rel=\"self\">; it needs exactly one, "
                   "the feed's own URL")
        return
    href = selfs[0].get("href", "")
    path = found.file_of(href, "channel <atom:link rel=\"self\">")
    if path is not None and path.name != FEED_PATH:
        found.feed(f"<atom:link rel=\"self\"> {href} points at {found.rel(path)}, "
                   f"not at the feed ({FEED_PATH})")


def _owner(found: Findings, ch: Any) -> None:
    email = text(ch, "itunes:owner/itunes:email")
    if not _EMAIL.fullmatch(email):
        got = f"{email!r} is not an email address" if email else "is missing"
        found.feed(f"channel <itunes:owner><itunes:email> {got}; set email in podcast.toml")


def _image(found: Findings, ch: Any) -> None:
    el = ch.find("itunes:image", NS)
    href = el.get("href", "") if el is not None else ""
    if not href:
        found.feed("channel has no <itunes:image href=...>: Apple requires cover art", "cover")
        return
    if not href.startswith("https://"):
        found.feed(f"<itunes:image> {href} is not an https URL (Apple requires one); "
                   "serve the site over https", "cover")
    if not href.lower().endswith((".jpg", ".png")):
        found.feed(f"<itunes:image> {href} must end in .jpg or .png (Apple ignores it otherwise)", "cover")
    path = found.file_of(href, "channel <itunes:image>")
    if path is not None:
        check_cover_art(found, path)
    image_url = text(ch, "image/url")
    if image_url:
        found.file_of(image_url, "channel <image><url>")


def _categories(found: Findings, ch: Any) -> None:
    cats = ch.findall("itunes:category", NS)
    if not cats:
        found.feed("channel has no <itunes:category>; set category in podcast.toml")
    for cat in cats:
        name = cat.get("text", "")
        if name not in APPLE_CATEGORIES:
            found.feed(f"<itunes:category text={name!r}> is not an Apple Podcasts category")
            continue
        for sub in cat.findall("itunes:category", NS):
            if sub.get("text", "") not in APPLE_CATEGORIES[name]:
                found.feed(f"<itunes:category text={sub.get('text', '')!r}> is not a subcategory "
                           f"of {name!r}")


def _podcast_tags(found: Findings, ch: Any) -> None:
    guid = text(ch, "podcast:guid")
    try:
        uuid.UUID(guid)
    except ValueError:
        found.feed(f"channel <podcast:guid> {guid!r} is not a UUID; leave guid empty in podcast.toml "
                   "to derive it from the feed URL" if guid else "channel has no <podcast:guid>")
    choice(found, ch, "podcast:locked", ("yes", "no"), "channel")
    locked = ch.find("podcast:locked", NS)
    if locked is not None and not _EMAIL.fullmatch(locked.get("owner", "")):
        found.feed("<podcast:locked> has no owner=\"email\"; set email in podcast.toml")
    choice(found, ch, "podcast:medium", ("podcast",), "channel")
