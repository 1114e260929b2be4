"""The site's pages as readers, link previews and other sites see them: every link inside the site
leads to a file of it, what an episode page's <meta> tags name (its art, audio and embeddable player)
is in the site, and the data a page carries parses."""

from __future__ import annotations

import json
import posixpath
import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from podcast.publish.check.problems import Findings, text
from podcast.publish.feed import EMBED_PAGE

PREVIEW_META = ("og:image", "og:audio", "twitter:image", "twitter:player")
"""The <meta> tags (property= or name=) whose URL a link preview fetches."""


def check_episode_page(found: Findings, item: Any, where: str) -> None:
    """The page the item's <link> names: its preview tags' files, and any JSON it carries."""
    page = found.path_of(text(item, "link"))
    if page is None or not page.is_file():
        return  # items.py reports a missing page
    doc = _parse(found, page)
    if doc is None:
        return
    rel = found.rel(page)
    for meta in doc.iter("meta"):
        key = meta.get("property") or meta.get("name") or ""
        if key not in PREVIEW_META:
            continue
        url = meta.get("content", "")
        target = found.path_of(url)
        if target is None:
            found.add(rel, "page", f"<meta {key}> {url!r} is not a URL under the site's base URL "
                      f"{found.base}; publish again")
        elif not target.is_file():
            found.add(rel, "page", f"<meta {key}> {url} names {found.rel(target)}, which is not in the "
                      "site; publish again")
    _json_scripts(found, doc, rel)
    _local_links(found, doc, page)
    embed = page.parent / EMBED_PAGE
    embed_doc = _parse(found, embed) if embed.is_file() else None
    if embed_doc is not None:
        _local_links(found, embed_doc, embed)


def check_index(found: Findings) -> None:
    """index.html's search index, if it has one: JSON whose every episode has a page in the site."""
    page = found.root / "index.html"
    doc = _parse(found, page) if page.is_file() else None
    if doc is None:
        return
    _local_links(found, doc, page)
    for data in _json_scripts(found, doc, "index.html"):
        if not isinstance(data, list):
            continue
        for entry in data:
            slug = entry.get("slug", "") if isinstance(entry, dict) else ""
            plain = isinstance(slug, str) and slug not in ("", ".", "..") and not set("/\\") & set(slug)
            if not plain or not (found.root / "episodes" / slug / "index.html").is_file():
                found.add("index.html", "page", f"the search index lists {slug!r}, which has no page in "
                          "the site; publish again")


def _parse(found: Findings, page: Path) -> Any:
    import lxml.html
    from lxml import etree

    try:
        return lxml.html.fromstring(page.read_bytes())
    except (OSError, etree.ParserError, ValueError) as e:
        found.add(found.rel(page), "page", f"cannot be read as HTML ({e}); publish again")
        return None


def _json_scripts(found: Findings, doc: Any, rel: str) -> list[Any]:
    """The parsed contents of the page's <script type="application/json"> elements."""
    out = []
    for script in doc.iter("script"):
        if script.get("type") != "application/json":
            continue
        try:
            out.append(json.loads(script.text or ""))
        except ValueError as e:
            found.add(rel, "page", f"<script id={script.get('id')!r}> is not valid JSON ({e}); publish again")
    return out


_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")


def _local_links(found: Findings, doc: Any, page: Path) -> None:
    """Each relative href= and src= of the page names a file of the site (a folder: its index.html).

    Links inside an <article> (the newsletter as its writer wrote it) are the writer's own: a page
    with one the site lacks is still published."""
    rel = found.rel(page)
    written = {el for article in doc.iter("article") for el in article.iter()}
    for el in doc.iter():
        if el in written:
            continue
        for attr in ("href", "src"):
            link = (el.get(attr) or "").strip()
            if not link or link.startswith(("#", "//")) or _SCHEME.match(link):
                continue
            path = unquote(urlsplit(link).path)
            target = posixpath.normpath(posixpath.join(posixpath.dirname(rel), path))
            if path.endswith("/") or not path:
                target = posixpath.join(target, "index.html")
            if path.startswith("/"):
                found.add(rel, "page", f"links to {link!r} from the server's root; links between the "
                          "site's files must be relative, so it works in any folder (fix the template)")
            elif target.startswith("../") or target == "..":
                found.add(rel, "page", f"links to {link!r}, outside the site's folder")
            elif not (found.root / target).is_file():
                found.add(rel, "page", f"links to {link!r} ({target}), which is not in the site; "
                          "publish again")
