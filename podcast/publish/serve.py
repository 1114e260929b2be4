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

Whatever a client sends, it gets an answer with a status or a closed connection, never a
traceback: a request must arrive whole within `timeout` seconds, one request is one message (a
small body is read and dropped, a large one closes the connection after the answer), and the log
shows control characters as escapes.
"""

from __future__ import annotations

import contextlib
import email.utils
import html
import io
import re
import socket
import sys
import threading
import time
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
TIMEOUT = 30.0
"""Seconds a client has to send a whole request (and to take each part of an answer)."""
MAX_TARGET = 4096
"""Longest request target (path and query) answered; longer ones get 414."""
MAX_HEADER = 8192
"""Longest header value answered; longer ones get 431."""
MAX_DROPPED_BODY = 1 << 16
"""A request body up to this size is read and dropped; a larger one closes the connection after the answer."""
_RANGE = re.compile(r"bytes=([0-9]*)-([0-9]*)", re.IGNORECASE)
_BEYOND = 10**18
"""Stands for any byte position with more digits than this one: past the end of every file."""
_CHUNK = 1 << 16
_VISIBLE = re.compile(r"[\x21-\x7e]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_BASE_URL = re.compile(
    r"https?://(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?"
    r"(?:/(?:[A-Za-z0-9._~!$()*+,;=:@/-]|%[0-9A-Fa-f]{2})*)?"
)
"""An absolute http(s) URL without query, fragment, quotes, markup or spaces: safe in any page."""
_HOST = re.compile(r"[A-Za-z0-9.:%_-]*")


class SiteServer(ThreadingHTTPServer):
    """A threading HTTP server for one site folder; `url` is where it can be reached."""

    daemon_threads = True
    block_on_close = False
    # socketserver's 5 left a burst of requests (a page's images, an app's probes) waiting for SYN retries.
    request_queue_size = 512

    def __init__(self, site: Path, address: tuple[str, int], *, rewrite: tuple[str, str] | None = None,
                 log: Callable[[str], None] | None = None, timeout: float = TIMEOUT) -> None:
        self.site = site.resolve()
        self.base_url = rewrite[1] if rewrite else None
        # The published URL is in the files escaped; the same escaping keeps the new one well-formed.
        self.rewrite = (_escaped(rewrite[0]), _escaped(rewrite[1])) if rewrite else None
        self.log = log
        self.client_timeout = timeout
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
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

    def note(self, line: str) -> None:
        """Log one line, its control characters escaped: what a client sends never drives the terminal."""
        if self.log is not None:
            self.log(printable(line))

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionError, TimeoutError)):
            return  # the client went away or stalled: nothing to answer, nothing to fix
        self.note(f"{client_address[0]} internal error: {type(error).__name__}: {error}")


class SiteHandler(BaseHTTPRequestHandler):
    """GET and HEAD for the files of `server.site`, with single byte ranges (206 / 416)."""

    server: SiteServer
    server_version = "papercast"
    protocol_version = "HTTP/1.1"
    url_path = "/"
    """The path of the request target, still percent-encoded; set once the request is checked."""

    def setup(self) -> None:
        super().setup()
        self.connection.settimeout(self.server.client_timeout)
        self.rfile.close()
        self.input = _Deadline(self.connection, self.server.client_timeout)
        self.rfile = io.BufferedReader(self.input)

    def handle_one_request(self) -> None:
        self.input.restart()  # the time to wait for the next request on a kept-alive connection too
        super().handle_one_request()

    def parse_request(self) -> bool:
        return super().parse_request() and self._check_headers() and self._check_target()

    def _check_headers(self) -> bool:
        """Refuse oversized headers; drop a request's body, or close the connection after answering.

        We serve no method that takes a body; reading it as the next request would answer bytes the
        client never meant as one.
        """
        if any(len(value) > MAX_HEADER for value in self.headers.values()):
            self.send_error(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE)
            return False
        if "Transfer-Encoding" in self.headers:
            self.send_error(HTTPStatus.NOT_IMPLEMENTED, "Transfer-Encoding is not supported")
            return False
        lengths = set(self.headers.get_all("Content-Length") or ())
        if not lengths:
            return True
        length = lengths.pop()
        if lengths or not length.isascii() or not length.isdigit():
            self.send_error(HTTPStatus.BAD_REQUEST, "Malformed Content-Length")
            return False
        too_long = len(length) > 18 or int(length) > MAX_DROPPED_BODY
        if too_long or len(self.rfile.read(int(length))) < int(length):
            self.close_connection = True
        return True

    def _check_target(self) -> bool:
        """Accept an origin-form ("/path?q") or absolute-form target; set `url_path`."""
        target = self.path
        if len(target) > MAX_TARGET:
            self.send_error(HTTPStatus.REQUEST_URI_TOO_LONG)
            return False
        absolute = target.startswith(("http://", "https://"))
        if not _VISIBLE.fullmatch(target) or not (target.startswith("/") or absolute):
            self.send_error(HTTPStatus.BAD_REQUEST, "Malformed request target")
            return False
        path = urlsplit(target).path or "/"
        if _CONTROL.search(unquote(path)):
            self.send_error(HTTPStatus.BAD_REQUEST, "Control characters in the path")
            return False
        self.url_path = path
        return True

    def do_GET(self) -> None:
        self._answer(body=True)

    def do_HEAD(self) -> None:
        self._answer(body=False)

    def send_response(self, code: int, message: str | None = None) -> None:
        self.answered = True
        super().send_response(code, message)

    def _answer(self, body: bool) -> None:
        self.answered = False
        try:
            self._respond(body)
        except (ConnectionError, TimeoutError):
            raise
        except Exception as e:  # a bug of ours: the client still gets a status, the log one line
            self.close_connection = True
            self.log_error("internal error: %s: %s", type(e).__name__, e)
            if not self.answered:
                self._status(HTTPStatus.INTERNAL_SERVER_ERROR)

    def _respond(self, body: bool) -> None:
        try:
            found = self._locate(self.url_path)
            content = self._content(found) if isinstance(found, Path) else None
        except (OSError, ValueError, RuntimeError):  # a name too long, a symlink loop: no such file
            found = content = None
        if isinstance(found, str):
            self._status(HTTPStatus.MOVED_PERMANENTLY, location=found)
        elif content is None:
            self._status(HTTPStatus.NOT_FOUND)
        else:
            with contextlib.closing(content.stream):
                self._send(content, body)

    def _locate(self, url_path: str) -> Path | str | None:
        """The file a URL path names, the location a folder without its slash moves to, or None."""
        path = self._resolve(url_path)
        if path is not None and path.is_dir():
            if not url_path.endswith("/"):
                # Relative links in an index.html resolve against the folder only with its slash. The
                # location is rebuilt from the checked path: "//host" would send the browser elsewhere.
                rel = path.relative_to(self.server.site).as_posix()
                return quote(f"/{rel}/".replace("/./", "/"))
            path = self._resolve(url_path + "index.html")  # checked too: it may be a symlink out
        elif url_path.endswith("/"):
            return None
        return path if path is not None and path.is_file() else None

    def _resolve(self, url_path: str) -> Path | None:
        """The file a URL path names inside the site, or None for a path that would leave it."""
        rel = unquote(url_path)
        parts = [p for p in rel.split("/") if p not in ("", ".")]
        if "\x00" in rel or "\\" in rel or ".." in parts:
            return None
        path = self.server.site.joinpath(*parts)
        real = path.resolve()
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
        self._end_headers()
        if body and length > 0:
            content.stream.seek(start)
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                if _copy(content.stream, self.wfile, length) < length:
                    self.close_connection = True  # the file shrank: the client must not wait for the rest

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
        self._end_headers()
        if self.command != "HEAD":
            self.wfile.write(text)

    def _end_headers(self) -> None:
        if self.close_connection:  # the client learns the connection ends here (an unread body, HTTP/1.0)
            self.send_header("Connection", "close")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        self.server.note(f"{self.address_string()} {format % args}")


def printable(text: str, limit: int = 1000) -> str:
    r"""`text` cut to `limit` characters, each one a terminal could act on shown as an escape.

    Backslashes are doubled, so a client cannot forge an escape either.

    >>> printable('GET /\x1b[2J\\x1b\u202e HTTP/1.1')
    'GET /\\x1b[2J\\\\x1b\\u202e HTTP/1.1'
    >>> printable("x" * 5, limit=3)
    'xxx...'
    """
    cut = text[:limit]
    shown = "".join(c if c.isprintable() and c != "\\" else _escape(c) for c in cut)
    return shown + ("..." if len(text) > limit else "")


def _escaped(url: str) -> bytes:
    return html.escape(url, quote=False).encode("utf-8")


def _escape(c: str) -> str:
    if c == "\\":
        return "\\\\"
    n = ord(c)
    return f"\\x{n:02x}" if n < 0x100 else f"\\u{n:04x}" if n < 0x10000 else f"\\U{n:08x}"


class _Deadline(io.RawIOBase):
    """A connection's input that fails with TimeoutError once a request takes `limit` seconds to arrive.

    The socket timeout alone bounds each wait: a client sending a byte just within it would hold
    its thread forever.
    """

    def __init__(self, sock: socket.socket, limit: float) -> None:
        self.sock = sock
        self.limit = limit
        self.ends = time.monotonic() + limit

    def restart(self) -> None:
        self.ends = time.monotonic() + self.limit

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        left = self.ends - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"no whole request within {self.limit:g} s")
        self.sock.settimeout(min(left, self.limit))
        try:
            return self.sock.recv_into(buffer)
        finally:
            self.sock.settimeout(self.limit)  # answers are sent with the full timeout


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
    range (RFC 9110 lets a server ignore those). _Unsatisfiable means a 416. Numbers of any
    length are read, a position past every file standing for them all.

    >>> _byte_range("bytes=0-1", 10), _byte_range("bytes=4-", 10), _byte_range("bytes=-3", 10)
    ((0, 1), (4, 9), (7, 9))
    >>> _byte_range("bytes=5-100", 10), _byte_range("bytes=-30", 10), _byte_range("bytes=0-" + "9" * 5000, 10)
    ((5, 9), (0, 9), (0, 9))
    >>> _byte_range("bytes=0-1,4-5", 10) is None, _byte_range("bytes=3-2", 10) is None
    (True, True)
    >>> _byte_range("bytes=10-", 10)
    Traceback (most recent call last):
    podcast.publish.serve._Unsatisfiable: bytes=10- of 10 bytes
    >>> _byte_range("bytes=" + "9" * 5000 + "-", 10)
    Traceback (most recent call last):
    podcast.publish.serve._Unsatisfiable: bytes=99999999999999... of 10 bytes
    """
    m = _RANGE.fullmatch(header.strip())
    if not m or m.groups() == ("", ""):
        return None
    first, last = m.groups()
    if not first:  # a suffix: the last N bytes
        n = _position(last)
        if n == 0 or size == 0:
            raise _Unsatisfiable(f"{printable(header, 20)} of {size} bytes")
        return max(0, size - n), size - 1
    start = _position(first)
    if last and _position(last) < start:
        return None
    if start >= size:
        raise _Unsatisfiable(f"{printable(header, 20)} of {size} bytes")
    return start, min(_position(last), size - 1) if last else size - 1


def _position(digits: str) -> int:
    """A byte position in decimal; _BEYOND for any too long to be one (int() refuses 4,300 digits)."""
    digits = digits.lstrip("0") or "0"
    return int(digits) if len(digits) < len(str(_BEYOND)) else _BEYOND


def _copy(src: IO[bytes], dst: Any, length: int) -> int:
    """Copy up to `length` bytes; the number copied, fewer if `src` ends first."""
    copied = 0
    while copied < length:
        chunk = src.read(min(_CHUNK, length - copied))
        if not chunk:
            break
        dst.write(chunk)
        copied += len(chunk)
    return copied


# --- starting it ------------------------------------------------------------------------------------


def published_base_url(site: Path) -> str:
    """The base URL the site was published for: its feed's channel <link>; "" when unknown."""
    try:
        root = etree.parse(str(site / FEED_PATH), etree.XMLParser(resolve_entities=False, no_network=True))
    except (OSError, etree.XMLSyntaxError):
        return ""
    link = (root.findtext("channel/link") or "").strip()
    return link if not link or link.endswith("/") else link + "/"


def check_base_url(url: str) -> str:
    """`url` ending with '/', if it is an absolute http(s) URL safe to write into a page or a feed.

    >>> check_base_url("http://192.168.1.20:8000")
    'http://192.168.1.20:8000/'
    >>> check_base_url('http://laptop.local/"><script>')  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    podcast.errors.PublishError: --base-url 'http://laptop.local/"><script>': give an absolute http(s) URL ...
    """
    if not _BASE_URL.fullmatch(url) or not _port_ok(url):
        raise PublishError(f"--base-url {url!r}: give an absolute http(s) URL like http://192.168.1.20:8000/"
                           ", without quotes, spaces, markup, query or fragment")
    return url if url.endswith("/") else url + "/"


def _port_ok(url: str) -> bool:
    try:
        return urlsplit(url).port != 0
    except ValueError:  # past 65535
        return False


def make_server(site: Path, host: str = "127.0.0.1", port: int = 8000, *, base_url: str | None = None,
                log: Callable[[str], None] | None = None, timeout: float = TIMEOUT) -> SiteServer:
    """A server for `site`, bound and ready: call `serve_forever()` on it (in a thread for tests).

    `base_url`: serve the feeds and pages with the published base URL replaced by this one.
    `log`: called with one line per request; None keeps quiet.
    `timeout`: seconds a client has to send a whole request; a slower one is disconnected.
    """
    if not 0 <= port <= 65535:
        raise PublishError(f"--port {port}: a port is a number from 0 to 65535 (0 picks any free one)")
    if not _HOST.fullmatch(host):
        raise PublishError(f"--host {host!r}: give an address of this machine, like 127.0.0.1 or 0.0.0.0")
    site = Path(site)
    if not site.is_dir():
        raise PublishError(f"{site}: no such folder; run 'podcast publish' first, or give the site's folder")
    rewrite = None
    if base_url:
        new = check_base_url(base_url)
        published = published_base_url(site)
        if not published:
            raise PublishError(f"{site / FEED_PATH}: missing or unreadable, so its base URL cannot be "
                               "rewritten; run 'podcast publish' first")
        rewrite = (published, new)
    try:
        return SiteServer(site, (host, port), rewrite=rewrite, log=log, timeout=timeout)
    except socket.gaierror as e:
        raise PublishError(f"cannot listen on {host!r} ({e.strerror}); give an address of this machine, "
                           "like 127.0.0.1 or 0.0.0.0") from e
    except OSError as e:
        raise PublishError(f"cannot listen on {host}:{port} ({e.strerror}); choose another --port") from e


@contextlib.contextmanager
def running(site: Path, host: str = "127.0.0.1", port: int = 0, *, base_url: str | None = None,
            log: Callable[[str], None] | None = None, timeout: float = TIMEOUT) -> Iterator[SiteServer]:
    """Serve `site` in a background thread for the duration of a `with` block (port 0: any free one)."""
    server = make_server(site, host, port, base_url=base_url, log=log, timeout=timeout)
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
