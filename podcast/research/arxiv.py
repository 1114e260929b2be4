"""arXiv at the edge: paper metadata through its API (the `arxiv` package) and full-text PDFs.

arXiv asks API users for at most one request every three seconds on one connection. Every request
papercast makes to arXiv (API pages and PDFs alike) goes through one `_Transport`, a requests
adapter that
  - waits its turn: `[find] delay` seconds after the previous request, even one made by an earlier
    `podcast` command (the time is kept in .cache/arxiv/last-request);
  - retries what may pass (HTTP 429 and 5xx, timeouts, an empty page in the middle of a result
    set) with exponential backoff, honoring Retry-After, and gives up at once on what will not
    (HTTP 4xx, an Atom feed whose entry is an arXiv error); a host it cannot connect to twice
    (no network, no DNS) is taken as offline for the rest of the command, so an offline build
    falls back to abstracts in a second, not after minutes of retries;
  - keeps every good API answer in .cache/arxiv/, keyed by URL: a lookup by id for good, a search
    page for an hour, so a run that fails half-way resumes without asking again.
The `arxiv` package builds the query URLs, pages through results and parses the Atom feed.

The API URL is PODCAST_ARXIV_API_URL, else podcast.toml [find] arxiv_api, else arXiv's own; PDFs
come from the same host (`/pdf/<id>`: export.arxiv.org, the mirror arXiv asks programs to use),
which is also how tests point everything at 127.0.0.1. PDFs are kept in .cache/pdf/ by id.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import arxiv
import requests
from lxml import etree
from requests.adapters import HTTPAdapter
from urllib3.response import HTTPResponse

from podcast import __version__, cache
from podcast.config import ShowConfig
from podcast.errors import ConfigError, InputError, PodcastError
from podcast.fsutil import write_bytes, write_text
from podcast.models import Paper
from podcast.research.arxiv_id import ArxivId, arxiv_id_of
from podcast.research.sources import PdfError, read_pdf, slugify
from podcast.text import clean, one_line

DEFAULT_API = "https://export.arxiv.org/api/query"
API_ENV = "PODCAST_ARXIV_API_URL"
MIN_DELAY = 3.0
"""arXiv's terms of use: no more than one request every three seconds."""
RETRIES = 3
PAGE_SIZE = 100
SEARCH_TTL = 3600.0
"""Seconds a cached search page stays fresh: new papers are announced daily, retried runs reuse it."""
RECONNECT = 0.5
"""Seconds before the one retry of a connection that could not be made (nothing reached arXiv)."""
TIMEOUT = (10.0, 60.0)
"""(connect, read) seconds for one request."""
USER_AGENT = f"papercast/{__version__} (podcast generator; one request every 3 s)"

_ATOM = "{http://www.w3.org/2005/Atom}"


class ArxivUnavailable(PodcastError):
    """arXiv (or the configured API server) cannot be reached: no network, DNS, refused, overloaded."""


class ArxivRejected(InputError):
    """arXiv answered, and the answer is no: an unknown or malformed id, an error page or feed."""


# -- where and how politely -----------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    """Where arXiv is, how long to wait between requests, and where answers are kept."""

    api: str
    """The API query URL, e.g. https://export.arxiv.org/api/query."""
    delay: float
    """Seconds between two requests."""
    cache_dir: Path
    """The show's .cache/ folder: answers go to arxiv/, PDFs to pdf/."""
    retries: int = RETRIES

    def pdf_url(self, paper_id: str) -> str:
        parts = urlsplit(self.api)
        return f"{parts.scheme}://{parts.netloc}/pdf/{paper_id}"

    @property
    def is_arxiv(self) -> bool:
        host = urlsplit(self.api).hostname or ""
        return host == "arxiv.org" or host.endswith(".arxiv.org")


def endpoint(cfg: ShowConfig) -> Endpoint:
    """The show's arXiv endpoint: PODCAST_ARXIV_API_URL, else [find] arxiv_api, else arXiv's own."""
    where = f"{API_ENV}" if os.environ.get(API_ENV) else f"{cfg.root / 'podcast.toml'} [find] arxiv_api"
    api = os.environ.get(API_ENV) or cfg.find.arxiv_api or DEFAULT_API
    if not re.fullmatch(r"https?://[^/\s?#]+(/[^\s?#]*)?", api):
        raise ConfigError(f"{where}: {api!r} is not an http(s) URL like {DEFAULT_API}")
    ep = Endpoint(api, cfg.find.delay, cfg.cache_dir)
    if ep.is_arxiv and ep.delay < MIN_DELAY:
        raise ConfigError(
            f"{cfg.root / 'podcast.toml'} [find]: delay = {ep.delay} is too short for arXiv, which asks "
            f"for at most one request every {MIN_DELAY:g} seconds; set 3 or more"
        )
    return ep


class _Transport(HTTPAdapter):
    """Throttle, retry with backoff and cache every request to arXiv (see the module docstring)."""

    def __init__(self, ep: Endpoint) -> None:
        super().__init__()
        self.ep = ep
        self.cache = cache.Cache(ep.cache_dir)
        self.stamp = ep.cache_dir / "arxiv" / "last-request"
        self.unreachable = ""
        """Why the host could not be reached; set once, so an offline build fails fast after that."""
        self._not_before = 0.0

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        url = request.url or ""
        cached = self._cached(url)
        if cached is not None:
            return self._replay(request, cached)
        if self.unreachable:
            raise ArxivUnavailable(self.unreachable)
        kwargs["timeout"] = TIMEOUT
        problem = ""
        host = urlsplit(url).netloc
        for attempt in range(self.ep.retries + 1):
            self._wait_turn()
            try:
                response = super().send(request, *args, **kwargs)
                body = response.content
            except requests.ConnectionError as e:
                if isinstance(e, requests.ConnectTimeout) or _is_refusal(e):
                    # Nothing reached the host, so trying again soon is polite; twice is offline.
                    problem = f"cannot connect to {host} ({_reason(e)})"
                    if attempt >= 1:
                        self.unreachable = problem
                        raise ArxivUnavailable(problem) from None
                    self._not_before = time.time() + RECONNECT
                    continue
                problem = f"the connection to {host} failed ({_reason(e)})"
                self._done()
                self._backoff(attempt, None)
                continue
            except requests.RequestException as e:  # a timeout, an answer cut off: worth another try
                problem = f"the request to {host} failed ({_reason(e)})"
                self._done()
                self._backoff(attempt, None)
                continue
            self._done()
            verdict = self._judge(url, response.status_code, body)
            if verdict is None:
                self._keep(url, body)
                return response
            transient, problem = verdict
            if not transient:
                raise ArxivRejected(problem)
            self._backoff(attempt, response)
        tries = self.ep.retries + 1
        raise ArxivUnavailable(f"{problem}, {tries} times; try again later")

    # -- politeness

    def _wait_turn(self) -> None:
        """Sleep until `delay` after the last request that reached the host, and past any backoff."""
        last = 0.0
        with contextlib.suppress(OSError, ValueError):
            last = float(self.stamp.read_text("utf-8"))
        now = time.time()
        backoff = max(0.0, self._not_before - now)
        # At most `delay`: a stamp from the future (a clock change) must not stall us.
        turn = min(max(0.0, last + self.ep.delay - now), self.ep.delay)
        wait = max(turn, backoff)
        if wait > 0:
            time.sleep(wait)

    def _done(self) -> None:
        with contextlib.suppress(PodcastError):  # an unwritable cache must not stop the work
            write_text(self.stamp, f"{time.time():.6f}\n")

    def _backoff(self, attempt: int, response: requests.Response | None) -> None:
        wait = self.ep.delay * 2**attempt
        retry_after = response.headers.get("Retry-After", "") if response is not None else ""
        if retry_after.isdigit():
            wait = max(wait, min(float(retry_after), 60.0))
        self._not_before = time.time() + wait

    # -- answers

    def _judge(self, url: str, status: int, body: bytes) -> tuple[bool, str] | None:
        """None for a good answer, else (worth retrying, what went wrong)."""
        error = _error_entry(body)
        if error:
            return False, f"arXiv says: {error}"
        if status in (429, 500, 502, 503, 504):
            return True, f"arXiv answered HTTP {status}"
        if status != 200:
            return False, f"arXiv answered HTTP {status}"
        if not self._is_api(url):
            return None
        if b"<feed" not in body[:4000]:
            return True, "arXiv sent something other than an Atom feed"
        start = parse_qs(urlsplit(url).query).get("start", ["0"])[0]
        if start.isdigit() and int(start) > 0 and not _has_entries(body):
            return True, "arXiv returned an empty page in the middle of the results"
        return None

    def _is_api(self, url: str) -> bool:
        return url.startswith(self.ep.api + "?")

    def _cached(self, url: str) -> bytes | None:
        if not self._is_api(url):
            return None
        path = self.cache.path("arxiv", cache.key(url), ".atom")
        try:
            age = time.time() - path.stat().st_mtime
        except OSError:
            return None
        is_search = bool(parse_qs(urlsplit(url).query).get("search_query"))
        if is_search and age > SEARCH_TTL:  # new papers come every day; a lookup by id keeps
            return None
        return self.cache.get("arxiv", cache.key(url), ".atom")

    def _keep(self, url: str, body: bytes) -> None:
        if self._is_api(url) and _has_entries(body):
            with contextlib.suppress(PodcastError):
                self.cache.put("arxiv", cache.key(url), ".atom", body)

    def _replay(self, request: requests.PreparedRequest, body: bytes) -> requests.Response:
        raw = HTTPResponse(
            body=io.BytesIO(body),
            status=200,
            headers={"Content-Type": "application/atom+xml"},
            preload_content=False,
        )
        return self.build_response(request, raw)


def _error_entry(body: bytes) -> str:
    """The text of an arXiv API error entry (`<id>.../api/errors#...`), or ""."""
    if b"/api/errors" not in body:
        return ""
    try:
        root = etree.fromstring(body, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError:
        return ""
    for entry in root.iter(f"{_ATOM}entry"):
        if "/api/errors" in (entry.findtext(f"{_ATOM}id") or ""):
            return " ".join((entry.findtext(f"{_ATOM}summary") or "an error").split())
    return ""


def _has_entries(body: bytes) -> bool:
    return b"<entry" in body


def _is_refusal(e: requests.ConnectionError) -> bool:
    text = str(e)
    return any(s in text for s in ("NameResolution", "Failed to resolve", "refused", "unreachable"))


def _reason(e: Exception) -> str:
    text = str(e)
    for pattern in (r"\[Errno -?\d+\] ([^'\")]+)", r"(Connection refused)", r"(timed out)"):
        m = re.search(pattern, text)
        if m:
            return m.group(1).strip()
    return type(e).__name__


# -- papers ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Listing:
    """A paper as arXiv lists it."""

    id: str
    """The id as asked for: without a version, unless one was given."""
    title: str
    authors: tuple[str, ...]
    abstract: str
    submitted: datetime
    """When version 1 was submitted (the API's `published`), timezone-aware."""
    updated: datetime
    categories: tuple[str, ...] = ()
    """The primary category first, then the cross-lists."""
    version: str = ""
    """The version arXiv answered with ("v2")."""

    @property
    def base_id(self) -> str:
        return ArxivId.parse(self.id).base

    @property
    def url(self) -> str:
        return f"https://arxiv.org/abs/{self.id}"

    def paper(self) -> Paper:
        return Paper(
            self.id, self.title, self.authors, self.url, self.abstract, self.submitted.date()
        )


def _listing(result: arxiv.Result, asked: str = "") -> Listing:
    short = ArxivId.parse(result.get_short_id())
    categories = [result.primary_category] if result.primary_category else []
    categories += [c for c in result.categories if c not in categories]
    return Listing(
        id=asked or short.base,
        title=one_line(result.title),
        authors=tuple(name for name in (one_line(a.name) for a in result.authors) if name),
        abstract=one_line(result.summary),
        submitted=result.published,
        updated=result.updated,
        categories=tuple(categories),
        version=f"v{short.version}" if short.version else "",
    )


class ArxivClient:
    """Metadata and PDFs from arXiv, or from any server that speaks its API."""

    def __init__(self, ep: Endpoint, *, page_size: int = PAGE_SIZE) -> None:
        # The arxiv package logs a warning for every entry it skips (an error entry has no date):
        # our transport reports those itself, as one clear line.
        logging.getLogger("arxiv").setLevel(logging.ERROR)
        self.ep = ep
        self.transport = _Transport(ep)
        self._api = arxiv.Client(page_size=page_size, delay_seconds=0.0, num_retries=0)
        self._api.query_url_format = ep.api + "?{}"
        self._session = requests.Session()
        self._session.headers["User-Agent"] = USER_AGENT
        for session in (self._api._session, self._session):  # the package's one transport hook
            session.mount("http://", self.transport)
            session.mount("https://", self.transport)

    def lookup(self, ids: Sequence[str]) -> list[Listing]:
        """Each id's paper, in the order given (one request for all of them)."""
        wanted = list(dict.fromkeys(ArxivId.parse(i) for i in ids))
        asked = [str(i) for i in wanted]
        search = arxiv.Search(id_list=asked, max_results=len(wanted))
        with _context(f"arXiv lookup of {', '.join(asked)}"):
            found = {ArxivId.parse(r.get_short_id()).base: r for r in self._api.results(search)}
        missing = [str(i) for i in wanted if i.base not in found]
        if missing:
            raise ArxivRejected(
                f"arXiv has no paper {', '.join(missing)}; check the id (see https://arxiv.org/abs/ID)"
            )
        return [_listing(found[i.base], str(i)) for i in wanted]

    def search(self, query: str) -> Iterator[Listing]:
        """Every paper matching an arXiv search query, newest submission first, a page at a time."""
        search = arxiv.Search(
            query=query,
            max_results=None,
            sort_by=arxiv.SortCriterion.SubmittedDate,
            sort_order=arxiv.SortOrder.Descending,
        )
        with _context(f"arXiv search {query!r}"):
            for result in self._api.results(search):
                yield _listing(result)

    def pdf(self, paper_id: str) -> Path:
        """The paper's PDF in .cache/pdf/, downloaded once."""
        path = self.ep.cache_dir / "pdf" / f"{slugify(paper_id, limit=80)}.pdf"
        if path.is_file():
            return path
        url = self.ep.pdf_url(paper_id)
        with _context(f"the PDF of arXiv {paper_id}"):
            data = self._session.get(url).content
        if not data.startswith(b"%PDF"):
            raise ArxivRejected(f"{url} did not send a PDF (it sent {_sniff(data)})")
        write_bytes(path, data)
        return path


@contextlib.contextmanager
def _context(what: str) -> Iterator[None]:
    """Say which request failed, keeping the error's class (InputError vs unreachable)."""
    try:
        yield
    except ArxivRejected as e:
        raise ArxivRejected(f"{what}: {e}") from None
    except ArxivUnavailable as e:
        raise ArxivUnavailable(f"{what}: {e}") from None
    except (arxiv.ArxivError, requests.RequestException) as e:  # not expected past our transport
        raise ArxivUnavailable(f"{what}: {e}") from None


def _sniff(data: bytes) -> str:
    head = data[:200].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html")):
        return "an HTML page"
    return f"{len(data)} bytes of something else" if data else "nothing"


# -- full text for the build ----------------------------------------------------------------------


@dataclass
class FullText:
    """Adds PDF text to arXiv papers for the summaries, downloading each PDF once.

    A paper whose PDF cannot be had keeps its abstract, and the build goes on with a warning
    naming the paper: a build must work offline, and the abstract is a whole summary's worth.
    The next build that gets the PDF summarizes the full text (the summary's inputs changed).
    """

    client: ArxivClient
    warn: Callable[[str], None]
    offline: list[str] = field(default_factory=list)

    def each(self, papers: Sequence[Paper]) -> Iterator[Paper]:
        """The papers, each as soon as its PDF is read; the warning for those left offline comes last."""
        for p in papers:
            yield self._with_text(p)
        if self.offline:
            n = len(self.offline)
            self.warn(
                f"{self.client.transport.unreachable or 'arXiv is unreachable'}: {n} paper"
                f"{'' if n == 1 else 's'} ({', '.join(self.offline)}) summarized from "
                f"{'its abstract' if n == 1 else 'their abstracts'}; a build online uses the full text"
            )

    def _with_text(self, paper: Paper) -> Paper:
        aid = arxiv_id_of(paper)
        if paper.full_text or aid is None:
            return paper
        pid = str(aid)
        if self.client.transport.unreachable:
            self.offline.append(pid)
            return paper
        try:
            return replace(paper, full_text=self._text(pid))
        except ArxivUnavailable as e:
            if self.client.transport.unreachable:
                self.offline.append(pid)
            else:
                self.warn(f"{_label(paper)}: {e}; summarized from its abstract")
        except PdfError as e:
            self.warn(f"{_label(paper)}: its PDF from arXiv {e.reason}; summarized from its abstract")
        except PodcastError as e:
            self.warn(f"{_label(paper)}: {e}; summarized from its abstract")
        return paper

    def _text(self, pid: str) -> str:
        pdf = self.client.pdf(pid)
        text_file = pdf.with_suffix(".txt")
        if text_file.is_file() and text_file.stat().st_mtime >= pdf.stat().st_mtime:
            return clean(text_file.read_text("utf-8"))  # kept by an older papercast, maybe unclean
        try:
            text = read_pdf(pdf)
        except PdfError:
            pdf.unlink(missing_ok=True)  # a bad download is fetched anew next time
            raise
        with contextlib.suppress(PodcastError):
            write_text(text_file, text)
        return text


def add_full_text(papers: Sequence[Paper], cfg: ShowConfig, warn: Callable[[str], None]) -> list[Paper]:
    """The papers, each arXiv paper without text given its PDF's text when [find] full_text is on.

    Meant for the build's sources stage: `papers = arxiv.add_full_text(papers, cfg, warn)`.
    """
    return list(full_texts(papers, cfg, warn))


def full_texts(papers: Sequence[Paper], cfg: ShowConfig, warn: Callable[[str], None]) -> Iterator[Paper]:
    """`add_full_text`, yielding each paper as soon as its text is there, so that summarizing it
    overlaps the next download (which still waits its `[find] delay` turn in this one thread)."""
    if not cfg.find.full_text or not any(arxiv_id_of(p) is not None and not p.full_text for p in papers):
        yield from papers
        return
    yield from FullText(ArxivClient(endpoint(cfg)), warn).each(papers)


def _label(paper: Paper) -> str:
    return f"paper {paper.id} ({' '.join(paper.title.split())!r})"
