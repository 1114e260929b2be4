"""`podcast serve`: the published site over HTTP, the way podcast apps need a host to behave.

Apps probe media with HEAD and seek with byte ranges (Apple's validator asks for `bytes=0-1`), so
this server answers both, with exact Content-Length and the podcast MIME types. It serves files
only: a folder is its index.html or nothing, and no path can reach outside the site.

    server = make_server(Path("public"), port=0)      # port 0: any free port
    threading.Thread(target=server.serve_forever, daemon=True).start()
    ...  server.url -> "http://127.0.0.1:PORT/"
    server.shutdown(); server.server_close()

The feed's links are absolute URLs under the show's base_url, so an app that subscribes here still
fetches episodes from base_url. `base_url=` rewrites the published base to another URL in the
feeds and pages as they are served (the files are not touched), to try the show in an app on
this machine or a phone on the same network before it is hosted.
"""

from __future__ import annotations

import contextlib
import email.utils
import io
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote, unquote, urlsplit

from lxml import etree

from podcast.errors import PublishError
from podcast.publish.feed import FEED_PATH
from podcast.publish.mediatypes import content_type

REWRITTEN = (".xml", ".html")
"""Files whose text carries the base URL, rewritten when serving under another one."""
_RANGE = re.compile(r"bytes=(\d*)-(\d*)")
_CHUNK = 1 << 16


class SiteServer(ThreadingHTTPServer):
    """A threading HTTP server for one site folder; `url` is where it can be reached."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, site: Path, address: tuple[str, int], *, rewrite: tuple[str, str] | None = None,
                 log: Callable[[str], None] | None = None) -> None:
        self.site = site.resolve()
        self.rewrite = (rewrite[0].encode("utf-8"), rewrite[1].encode("utf-8")) if rewrite else None
        self.log = log
        super().__init__(address, SiteHandler)

    @property
    def url(self) -> str:
        """The base URL of the served site, ending with '/' ("http://127.0.0.1:8000/")."""
        address, port = self.server_address[:2]
        host = address.decode() if isinstance(address, bytes) else str(address)
        if host in ("0.0.0.0", "::", ""):
            host = "127.0.0.1"  # bound to every address: this machine's own is one of them
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{port}/"


class SiteHandler(BaseHTTPRequestHandler):
    """GET and HEAD for the files of `server.site`, with single byte ranges (206 / 416)."""

    server: SiteServer
    server_version = "papercast"
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._respond(body=True)

    def do_HEAD(self) -> None:
        self._respond(body=False)

    def _respond(self, body: bool) -> None:
        url_path = urlsplit(self.path).path
        path = self._resolve(url_path)
        if path is not None and path.is_dir():
            if not url_path.endswith("/"):
                # Relative links in an index.html resolve against the folder only with its slash. The
                # location is rebuilt from the checked path: "//host" would send the browser elsewhere.
                rel = path.relative_to(self.server.site).as_posix()
                self._status(HTTPStatus.MOVED_PERMANENTLY, location=quote(f"/{rel}/".replace("/./", "/")))
                return
            path = path / "index.html"
        if path is None or not path.is_file() or (url_path.endswith("/") and path.name != "index.html"):
            self._status(HTTPStatus.NOT_FOUND)
            return
        try:
            content = self._content(path)
        except OSError:
            self._status(HTTPStatus.NOT_FOUND)
            return
        with contextlib.closing(content.stream):
            self._send(content, body)

    def _resolve(self, url_path: str) -> Path | None:
        """The file a URL path names inside the site, or None for a path that would leave it."""
        rel = unquote(url_path)
        parts = [p for p in rel.split("/") if p not in ("", ".")]
        if "\x00" in rel or "\\" in rel or ".." in parts:
            return None
        path = self.server.site.joinpath(*parts)
        try:
            real = path.resolve()
        except (OSError, RuntimeError):
            return None
        # A symlink inside the site must not lead out of it either.
        return path if real == self.server.site or real.is_relative_to(self.server.site) else None

    def _content(self, path: Path) -> _Content:
        kind = content_type(path.name)
        stat = path.stat()
        rewrite = self.server.rewrite
        if rewrite and path.suffix.lower() in REWRITTEN:
            data = path.read_bytes().replace(*rewrite)
            return _Content(io.BytesIO(data), len(data), kind, stat.st_mtime)
        return _Content(path.open("rb"), stat.st_size, kind, stat.st_mtime)

    def _send(self, content: _Content, body: bool) -> None:
        try:
            span = _byte_range(self.headers.get("Range", ""), content.size)
        except _Unsatisfiable:
            self._status(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE, content_range=f"bytes */{content.size}")
            return
        start, end = span if span is not None else (0, content.size - 1)
        length = end - start + 1
        self.send_response(HTTPStatus.PARTIAL_CONTENT if span is not None else HTTPStatus.OK)
        self.send_header("Content-Type", content.type)
        self.send_header("Content-Length", str(length))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Last-Modified", email.utils.formatdate(content.mtime, usegmt=True))
        if span is not None:
            self.send_header("Content-Range", f"bytes {start}-{end}/{content.size}")
        self.end_headers()
        if body and length > 0:
            content.stream.seek(start)
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                _copy(content.stream, self.wfile, length)

    def _status(self, status: HTTPStatus, *, location: str = "", content_range: str = "") -> None:
        """A response whose content is a one-line message (its headers alone for HEAD)."""
        text = f"{status.value} {status.phrase}\n".encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(text)))
        if location:
            self.send_header("Location", location)
        if content_range:
            self.send_header("Content-Range", content_range)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(text)

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.log is not None:
            self.server.log(f"{self.address_string()} {format % args}")


@dataclass(frozen=True)
class _Content:
    """What a response sends: a stream positioned anywhere (it seeks), its size, type and time."""

    stream: IO[bytes]
    size: int
    type: str
    mtime: float


class _Unsatisfiable(ValueError):
    """A byte range that starts past the end of the file: answered with 416."""


def _byte_range(header: str, size: int) -> tuple[int, int] | None:
    """The (first, last) byte of a single `Range: bytes=...` within `size` bytes.

    None means "send the whole file": no Range, or one that is not a single well-formed byte
    range (RFC 9110 lets a server ignore those). _Unsatisfiable means a 416.

    >>> _byte_range("bytes=0-1", 10), _byte_range("bytes=4-", 10), _byte_range("bytes=-3", 10)
    ((0, 1), (4, 9), (7, 9))
    >>> _byte_range("bytes=5-100", 10), _byte_range("bytes=-30", 10)
    ((5, 9), (0, 9))
    >>> _byte_range("bytes=0-1,4-5", 10) is None, _byte_range("bytes=3-2", 10) is None
    (True, True)
    >>> _byte_range("bytes=10-", 10)
    Traceback (most recent call last):
    podcast.publish.serve._Unsatisfiable: bytes=10- of 10 bytes
    """
    m = _RANGE.fullmatch(header.strip())
    if not m or m.groups() == ("", ""):
        return None
    first, last = m.groups()
    if not first:  # a suffix: the last N bytes
        n = int(last)
        if n == 0 or size == 0:
            raise _Unsatisfiable(f"{header} of {size} bytes")
        return max(0, size - n), size - 1
    start = int(first)
    if last and int(last) < start:
        return None
    if start >= size:
        raise _Unsatisfiable(f"{header} of {size} bytes")
    return start, min(int(last), size - 1) if last else size - 1


def _copy(src: IO[bytes], dst: Any, length: int) -> None:
    while length > 0:
        chunk = src.read(min(_CHUNK, length))
        if not chunk:
            break
        dst.write(chunk)
        length -= len(chunk)


# --- starting it ------------------------------------------------------------------------------------


def published_base_url(site: Path) -> str:
    """The base URL the site was published for: its feed's channel <link>; "" when unknown."""
    try:
        root = etree.parse(str(site / FEED_PATH), etree.XMLParser(resolve_entities=False, no_network=True))
    except (OSError, etree.XMLSyntaxError):
        return ""
    link = (root.findtext("channel/link") or "").strip()
    return link if not link or link.endswith("/") else link + "/"


def make_server(site: Path, host: str = "127.0.0.1", port: int = 8000, *, base_url: str | None = None,
                log: Callable[[str], None] | None = None) -> SiteServer:
    """A server for `site`, bound and ready: call `serve_forever()` on it (in a thread for tests).

    `base_url`: serve the feeds and pages with the published base URL replaced by this one.
    `log`: called with one line per request; None keeps quiet.
    """
    site = Path(site)
    if not site.is_dir():
        raise PublishError(f"{site}: no such folder; run 'podcast publish' first, or give the site's folder")
    rewrite = None
    if base_url:
        if not re.match(r"https?://[^/]+", base_url):
            raise PublishError(f"--base-url {base_url!r} must be an http(s) URL like http://192.168.1.20:8000/")
        published = published_base_url(site)
        if not published:
            raise PublishError(f"{site / FEED_PATH}: missing or unreadable, so its base URL cannot be "
                               "rewritten; run 'podcast publish' first")
        rewrite = (published, base_url if base_url.endswith("/") else base_url + "/")
    try:
        return SiteServer(site, (host, port), rewrite=rewrite, log=log)
    except OSError as e:
        raise PublishError(f"cannot listen on {host}:{port} ({e.strerror}); choose another --port") from e


@contextlib.contextmanager
def running(site: Path, host: str = "127.0.0.1", port: int = 0, *, base_url: str | None = None
            ) -> Iterator[SiteServer]:
    """Serve `site` in a background thread for the duration of a `with` block (port 0: any free one)."""
    server = make_server(site, host, port, base_url=base_url)
    # A short poll lets the `with` block end promptly: shutdown() waits for the loop to notice.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              name="podcast-serve", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def serve(
    site: Path,
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    base_url: str | None = None,
    log: Callable[[str], None] | None = None,
    ready: Callable[[SiteServer], None] | None = None,
) -> None:
    """Serve `site` until Ctrl+C. `ready` is called once the port is bound (to print where it is)."""
    server = make_server(site, host, port, base_url=base_url, log=log)
    try:
        if ready is not None:
            ready(server)
        with contextlib.suppress(KeyboardInterrupt):
            server.serve_forever()
    finally:
        server.server_close()
