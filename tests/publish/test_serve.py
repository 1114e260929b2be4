"""`podcast serve`: HEAD, byte ranges, content types and a folder nothing can escape, over real HTTP.

Then what a careless or hostile client sends, over raw sockets: malformed and oversized requests,
bodies, stalls, escapes for the terminal, and (with hypothesis) any Range header and any path.
"""

from __future__ import annotations

import http.client
import io
import os
import re
import select
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree
from support.shows import sample_show

from podcast.errors import PublishError
from podcast.models import BuiltEpisode
from podcast.publish.feed import episode_path, render_feed
from podcast.publish.serve import SiteServer, make_server, running

SHOW = sample_show(title="Serve Weekly", description="Papers, read aloud.", base_url="https://example.org/show/")
SLUG = "2024-w19"
AUDIO = bytes(range(256)) * 400  # 102400 bytes, each position's value known
SECRET = b"outside the site"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    top = tmp_path_factory.mktemp("serve")
    (top / "secret.txt").write_bytes(SECRET)
    root = top / "public"
    folder = root / episode_path(SLUG)
    folder.mkdir(parents=True)
    (folder / f"{SLUG}.mp3").write_bytes(AUDIO)
    files = {
        "index.html": "<!doctype html><title>Serve Weekly</title>",
        "newsletter.xml": "<?xml version='1.0'?><rss version='2.0'><channel><title>n</title></channel></rss>",
        episode_path(SLUG, "index.html"): "<!doctype html><title>Week 19</title>",
        episode_path(SLUG, "transcript.vtt"): "WEBVTT\n\n00:00:00.000 --> 00:00:01.000\n<v Host>Hi.\n",
        episode_path(SLUG, "transcript.srt"): "1\n00:00:00,000 --> 00:00:01,000\nHost: Hi.\n",
        episode_path(SLUG, "chapters.json"): '{"version": "1.2.0", "chapters": []}\n',
    }
    for name, text in files.items():
        (root / name).write_text(text, "utf-8")
    (root / "cover.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a JPEG")
    (root / "cover.png").write_bytes(b"\x89PNG\r\n\x1a\n not really a PNG")
    episode = BuiltEpisode(
        slug=SLUG, title="Week 19", number=1, published=datetime(2024, 5, 10, tzinfo=UTC),
        guid="serve-weekly-2024-w19", description="One paper.", notes_html="<p>One paper.</p>",
        audio=f"{SLUG}.mp3", audio_bytes=len(AUDIO), duration=6.0, chapters=(),
    )
    (root / "feed.xml").write_bytes(render_feed(SHOW, [episode]))
    (root / "about.html").write_text(f'<!doctype html><link rel="canonical" href="{SHOW.base_url}">', "utf-8")
    os.symlink(top / "secret.txt", root / "link.txt")
    (root / "leak").mkdir()
    os.symlink(top / "secret.txt", root / "leak" / "index.html")
    return root


@pytest.fixture(scope="module")
def log() -> list[str]:
    """The module server's log lines: each test reads those of its own requests."""
    return []


@pytest.fixture(scope="module")
def server(site: Path, log: list[str]) -> Iterator[SiteServer]:
    with running(site, log=log.append) as server:
        yield server


def address(server: SiteServer) -> tuple[str, int]:
    host, port = server.server_address[:2]
    return str(host), int(port)


def request(server: SiteServer, method: str, path: str, **headers: str) -> tuple[http.client.HTTPResponse, bytes]:
    conn = http.client.HTTPConnection(*address(server), timeout=5)
    try:
        conn.request(method, path, headers=headers)
        response = conn.getresponse()
        return response, response.read()
    finally:
        conn.close()


MP3 = f"/episodes/{SLUG}/{SLUG}.mp3"


def test_head_gives_the_headers_of_a_get_without_the_body(server: SiteServer) -> None:
    head, body = request(server, "HEAD", MP3)
    assert head.status == 200 and body == b""
    assert head.getheader("Content-Length") == str(len(AUDIO))
    assert head.getheader("Content-Type") == "audio/mpeg"
    assert head.getheader("Accept-Ranges") == "bytes"

    get, body = request(server, "GET", MP3)
    assert get.status == 200 and body == AUDIO
    assert get.getheader("Content-Length") == str(len(AUDIO))


def test_range_requests_get_206_with_exactly_the_bytes_asked_for(server: SiteServer) -> None:
    first, body = request(server, "GET", MP3, Range="bytes=0-1")
    assert (first.status, body) == (206, AUDIO[:2])
    assert first.getheader("Content-Range") == f"bytes 0-1/{len(AUDIO)}"
    assert first.getheader("Content-Length") == "2"
    assert first.getheader("Content-Type") == "audio/mpeg"

    tail, body = request(server, "GET", MP3, Range="bytes=-300")
    assert (tail.status, body) == (206, AUDIO[-300:])
    assert tail.getheader("Content-Range") == f"bytes {len(AUDIO) - 300}-{len(AUDIO) - 1}/{len(AUDIO)}"

    rest, body = request(server, "GET", MP3, Range="bytes=100000-")
    assert (rest.status, body) == (206, AUDIO[100000:])

    clipped, body = request(server, "GET", MP3, Range=f"bytes=102000-{10 * len(AUDIO)}")
    assert (clipped.status, body, clipped.getheader("Content-Length")) == (206, AUDIO[102000:], "400")

    head, body = request(server, "HEAD", MP3, Range="bytes=10-19")
    assert (head.status, body, head.getheader("Content-Length")) == (206, b"", "10")


def test_a_range_past_the_end_is_416_and_a_malformed_one_is_ignored(server: SiteServer) -> None:
    past, _ = request(server, "GET", MP3, Range=f"bytes={len(AUDIO)}-")
    assert past.status == 416
    assert past.getheader("Content-Range") == f"bytes */{len(AUDIO)}"

    several, body = request(server, "GET", MP3, Range="bytes=0-1,5-6")
    assert (several.status, body) == (200, AUDIO)


@pytest.mark.parametrize(("path", "content_type"), [
    ("/feed.xml", "application/rss+xml"),
    ("/newsletter.xml", "application/rss+xml"),
    (f"/episodes/{SLUG}/transcript.vtt", "text/vtt"),
    (f"/episodes/{SLUG}/transcript.srt", "application/x-subrip"),
    (f"/episodes/{SLUG}/chapters.json", "application/json"),
    ("/", "text/html; charset=utf-8"),
    (f"/episodes/{SLUG}/", "text/html; charset=utf-8"),
    ("/cover.jpg", "image/jpeg"),
    ("/cover.png", "image/png"),
])
def test_content_types(server: SiteServer, site: Path, path: str, content_type: str) -> None:
    response, body = request(server, "GET", path)
    assert response.status == 200
    assert response.getheader("Content-Type") == content_type
    on_disk = site / path.lstrip("/")
    assert body == (on_disk / "index.html" if path.endswith("/") else on_disk).read_bytes()


def test_folders_show_their_index_or_nothing(server: SiteServer) -> None:
    moved, _ = request(server, "GET", f"/episodes/{SLUG}")
    assert moved.status == 301 and moved.getheader("Location") == f"/episodes/{SLUG}/"
    listing, body = request(server, "GET", "/episodes/")
    assert listing.status == 404 and SLUG.encode() not in body


@pytest.mark.parametrize("path", [
    "/../secret.txt", "/%2e%2e/secret.txt", "/episodes/../../secret.txt", "/..%2fsecret.txt", "/link.txt",
    "/%2E%2e/%2e%2E/secret.txt", "/episodes/%2e%2e/%2e%2e/secret.txt", "/..\\secret.txt", "/%5c..%5csecret.txt",
    "/link.txt%00.mp3", "/%00/../secret.txt", "/leak/", "/leak/index.html", "/leak",
    "http://evil.example/../secret.txt",
])
def test_nothing_outside_the_site_is_served(server: SiteServer, path: str) -> None:
    # http.client sends the path as given: no client-side normalization hides the attempt.
    response, body = request(server, "GET", path)
    assert response.status in (400, 404) or (path == "/leak" and response.status == 301)
    assert SECRET not in body


def test_the_feed_fetched_over_http_parses(server: SiteServer) -> None:
    _, body = request(server, "GET", "/feed.xml")
    parsed = feedparser.parse(body)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.feed.title == "Serve Weekly"
    [entry] = parsed.entries
    assert entry.enclosures[0].href == f"https://example.org/show/episodes/{SLUG}/{SLUG}.mp3"
    assert entry.enclosures[0].length == str(len(AUDIO))


def test_base_url_rewrites_the_feed_as_served_but_not_the_file(site: Path) -> None:
    before = (site / "feed.xml").read_bytes()
    with running(site, base_url="http://laptop.local:8000/") as server:
        response, body = request(server, "GET", "/feed.xml")
    parsed = feedparser.parse(body)
    assert parsed.entries[0].enclosures[0].href == f"http://laptop.local:8000/episodes/{SLUG}/{SLUG}.mp3"
    assert response.getheader("Content-Length") == str(len(body))
    assert b"https://example.org/show/" not in body
    assert (site / "feed.xml").read_bytes() == before


def test_a_busy_port_and_a_missing_folder_are_errors_that_say_what_to_do(site: Path, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(PublishError, match="choose another --port"):
            make_server(site, "127.0.0.1", taken.getsockname()[1])
    with pytest.raises(PublishError, match="run 'podcast publish' first"):
        make_server(tmp_path / "nowhere")


def test_the_command_prints_where_it_serves_and_stops_on_ctrl_c(site: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "podcast", "serve", str(site), "--port", "0"], cwd=site.parent,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        url = re.search(r"at (http://127\.0\.0\.1:(\d+)/) ", first)
        assert url, first
        hints = proc.stdout.readline() + proc.stdout.readline()
        assert "the feed's links point at https://example.org/show/ (base_url)" in hints
        assert "--host 0.0.0.0 --base-url http://<this machine's LAN address>:" in hints
        conn = http.client.HTTPConnection("127.0.0.1", int(url.group(2)), timeout=5)
        conn.request("HEAD", "/feed.xml")
        assert conn.getresponse().status == 200
        conn.close()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0 and out.strip() == "stopped"
    assert '"HEAD /feed.xml HTTP/1.1" 200' in err, "one log line per request, on stderr"


def test_a_folder_redirect_stays_on_this_site(server: SiteServer) -> None:
    moved, _ = request(server, "GET", "//episodes")
    assert moved.status == 301 and moved.getheader("Location") == "/episodes/"


def test_the_index_of_a_folder_is_served_only_from_inside_the_site(server: SiteServer) -> None:
    # leak/index.html is a symlink to a file outside: the folder shows nothing rather than the file.
    response, body = request(server, "GET", "/leak/")
    assert response.status == 404 and SECRET not in body


# --- hostile and careless clients, over raw sockets ---------------------------------------------------


def exchange(server: SiteServer, data: bytes) -> bytes:
    """Send `data` on one connection and read everything the server answers until it closes."""
    # The timeout only keeps a broken server from hanging the test; no assertion depends on it.
    with socket.create_connection(address(server), timeout=30) as conn:
        conn.sendall(data)
        chunks = []
        while chunk := conn.recv(1 << 16):
            chunks.append(chunk)
    return b"".join(chunks)


def responses(data: bytes) -> list[tuple[int, http.client.HTTPMessage, bytes]]:
    """The (status, headers, body) of each response to GETs in `data`; a cut-off one fails the test."""
    stream = io.BytesIO(data)
    found: list[tuple[int, http.client.HTTPMessage, bytes]] = []
    while line := stream.readline():
        version, status = line.split()[:2]
        assert version == b"HTTP/1.1", line
        headers = http.client.parse_headers(stream)
        length = int(headers.get("Content-Length", "0"))
        body = stream.read(length)
        assert len(body) == length, f"a {status!r} answer cut short"
        found.append((int(status), headers, body))
    return found


def get(path: bytes, *headers: bytes) -> bytes:
    """A raw GET that asks the server to close after answering."""
    lines = [b"GET " + path + b" HTTP/1.1", b"Host: 127.0.0.1", *headers, b"Connection: close"]
    return b"\r\n".join(lines) + b"\r\n\r\n"


@pytest.mark.parametrize(("range_header", "status", "content"), [
    (b"bytes=" + b"9" * 4301 + b"-", 416, b"416 Requested Range Not Satisfiable\n"),
    (b"bytes=0-" + b"9" * 4301, 206, AUDIO),
    (b"bytes=-" + b"9" * 4301, 206, AUDIO),
    (b"bytes=" + b"0" * 4000 + b"7-" + b"0" * 4000 + b"9", 206, AUDIO[7:10]),
    (b"bytes=99999999999999999999-", 416, b"416 Requested Range Not Satisfiable\n"),
    (b"bytes=\xd9\xa1-\xd9\xa2", 200, AUDIO),  # Arabic-Indic digits are not byte positions
])
def test_a_range_of_any_length_is_read_as_a_position(server: SiteServer, range_header: bytes, status: int,
                                                     content: bytes) -> None:
    [(answer, headers, body)] = responses(exchange(server, get(MP3.encode(), b"Range: " + range_header)))
    assert (answer, body) == (status, content)
    if status == 416:
        assert headers["Content-Range"] == f"bytes */{len(AUDIO)}"


@pytest.mark.parametrize(("path", "status"), [
    (b"/" + b"a" * 300, 404),                       # a name longer than the filesystem takes
    (b"/episodes/" + b"b" * 300 + b"/c.mp3", 404),
    (b"/" + b"a" * 5000, 414),                      # a target longer than any this site has
    (b"/\x1b[2J\x1b]0;owned\x07", 400),             # control characters, sent raw
    (b"/%1b[2J", 400),                              # ... or percent-encoded
    (b"/feed.xml\x00", 400),
    (b"/caf\xc3\xa9", 400),                         # bytes outside ASCII must be percent-encoded
    (b"*", 400),
    (b"feed.xml", 400),
])
def test_a_malformed_or_oversized_request_gets_a_client_error(server: SiteServer, log: list[str], path: bytes,
                                                               status: int) -> None:
    del log[:]
    [(answer, _, _)] = responses(exchange(server, get(path)))
    assert answer == status
    assert log and all(line.isprintable() for line in log), log
    assert not any("internal error" in line for line in log), log


def test_an_oversized_header_gets_431(server: SiteServer) -> None:
    [(answer, _, _)] = responses(exchange(server, get(b"/feed.xml", b"Cookie: " + b"c" * 9000)))
    assert answer == 431


def test_the_log_shows_control_characters_as_escapes(server: SiteServer, log: list[str]) -> None:
    del log[:]
    exchange(server, get(b"/\x1b[31mred\x9b2J\\x1b", b"User-Agent: \x1b]0;title\x07"))
    [request_line] = [line for line in log if '"GET' in line]
    assert "\x1b" not in request_line and "\x9b" not in request_line
    assert '"GET /\\x1b[31mred\\x9b2J\\\\x1b HTTP/1.1" 400' in request_line


def test_a_body_on_a_get_is_dropped_not_read_as_the_next_request(server: SiteServer, log: list[str],
                                                                 site: Path) -> None:
    smuggled = b"GET /link.txt HTTP/1.1\r\nHost: x\r\n\r\n"
    first = b"GET /feed.xml HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(smuggled) + smuggled
    del log[:]
    answers = responses(exchange(server, first + get(b"/cover.png")))
    assert [(status, body) for status, _, body in answers] == [
        (200, (site / "feed.xml").read_bytes()),
        (200, (site / "cover.png").read_bytes()),
    ]
    assert not any("link.txt" in line for line in log), log


@pytest.mark.parametrize(("headers", "status"), [
    ((b"Transfer-Encoding: chunked",), 501),
    ((b"Transfer-Encoding: chunked", b"Content-Length: 0"), 501),
    ((b"Content-Length: abc",), 400),
    ((b"Content-Length: 1", b"Content-Length: 2"), 400),
    ((b"Content-Length: -1",), 400),
    ((b"Content-Length: " + b"9" * 40,), 200),  # too big to read: answered, then the connection closes
])
def test_a_body_the_server_cannot_drop_ends_the_connection(server: SiteServer, headers: tuple[bytes, ...],
                                                           status: int) -> None:
    request_bytes = b"\r\n".join([b"GET /cover.png HTTP/1.1", b"Host: x", *headers]) + b"\r\n\r\n"
    [(answer, reply_headers, _)] = responses(exchange(server, request_bytes))  # one answer, then closed
    assert answer == status
    assert reply_headers["Connection"] == "close"


def test_a_stalled_client_is_disconnected_while_others_are_served(site: Path) -> None:
    with running(site, timeout=0.5) as server, \
            socket.create_connection(address(server), timeout=30) as stalled:
        stalled.sendall(b"GET /feed.xml HTTP/1.1\r\nHo")
        response, _ = request(server, "GET", "/cover.png")
        assert response.status == 200
        assert stalled.recv(1024) == b"", "the server closes a request that never completes"


def test_a_client_trickling_a_request_byte_by_byte_is_disconnected(site: Path) -> None:
    # Each byte comes well within the socket timeout, so only a deadline for the whole request ends it.
    with running(site, timeout=0.5) as server, \
            socket.create_connection(address(server), timeout=30) as slow:
        for byte in b"GET /feed.xml HTTP/1.1\r\nX-Slow: " + b"z" * 1000:
            readable, _, _ = select.select([slow], [], [], 0.05)
            if readable:
                break
            slow.sendall(bytes([byte]))
        else:
            pytest.fail("the server waited for 1,000 bytes sent one at a time")
        assert slow.recv(1024) == b""


def test_many_clients_at_once_are_all_answered(server: SiteServer) -> None:
    # Idle connections hold a thread each; the other clients are answered all the same.
    idle = [socket.create_connection(address(server), timeout=30) for _ in range(8)]
    start = threading.Barrier(64)

    def fetch(i: int) -> tuple[int, bytes]:
        start.wait()
        response, body = request(server, "GET", MP3, Range=f"bytes={i}-{i + 99}")
        return response.status, body

    try:
        with ThreadPoolExecutor(64) as pool:
            results = list(pool.map(fetch, range(64)))
    finally:
        for conn in idle:
            conn.close()
    assert results == [(206, AUDIO[i:i + 100]) for i in range(64)]


def test_a_burst_of_connections_waits_in_the_listen_queue(site: Path) -> None:
    # Not accepting at all: every connection must still complete its handshake in the kernel's queue.
    # With socketserver's backlog of 5, the seventh would wait for SYN retries (and time out here).
    somaxconn = Path("/proc/sys/net/core/somaxconn")
    burst = min(300, int(somaxconn.read_text())) if somaxconn.exists() else 300  # the kernel's cap on any backlog
    server = make_server(site, port=0)
    conns: list[socket.socket] = []
    try:
        for _ in range(burst):
            conns.append(socket.create_connection(address(server), timeout=20))
    finally:
        for conn in conns:
            conn.close()
        server.server_close()
    assert len(conns) == burst


def test_ipv6_addresses_are_served(site: Path) -> None:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback on this machine")
    with running(site, host="::1") as server:
        assert server.url.startswith("http://[::1]:")
        conn = http.client.HTTPConnection("::1", server.server_address[1], timeout=30)
        conn.request("HEAD", "/feed.xml")
        assert conn.getresponse().status == 200
        conn.close()


# --- --base-url and --port ------------------------------------------------------------------------


def test_a_rewritten_feed_and_page_stay_well_formed(site: Path) -> None:
    base = "http://192.168.1.20:8000/a;b=c(d)/~e@f$+,*!"
    with running(site, base_url=base) as server:
        _, feed = request(server, "GET", "/feed.xml")
        _, page = request(server, "GET", "/about.html")
    root = etree.fromstring(feed)  # raises on a feed that is not well-formed
    assert root.findtext("channel/link") == base + "/"
    parsed = feedparser.parse(feed)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.entries[0].enclosures[0].href == f"{base}/episodes/{SLUG}/{SLUG}.mp3"
    assert page == f'<!doctype html><link rel="canonical" href="{base}/">'.encode()


@pytest.mark.parametrize("base_url", [
    'http://laptop.local/"><script>alert(1)</script>', "http://laptop.local/<b>", "http://laptop.local/'x",
    "http://laptop.local/a b", "http://laptop.local/\x1b[2J", "http://laptop.local/\u202e", "http://laptop.local/&",
    "http://laptop.local/?feed=1", "http://laptop.local/#top", "http://laptop.local:99999/",
    "http://laptop.local:0/", "http://", "//laptop.local/", "laptop.local", "javascript:alert(1)",
    "ftp://laptop.local/", "http://user@laptop.local/", "http://laptop.local/%zz",
])
def test_a_base_url_that_could_break_a_page_or_the_feed_is_refused(site: Path, base_url: str) -> None:
    with pytest.raises(PublishError, match=r"--base-url .* give an absolute http"):
        make_server(site, port=0, base_url=base_url)


@pytest.mark.parametrize("port", [-1, 65536, 99999])
def test_a_port_out_of_range_is_refused(site: Path, port: int) -> None:
    with pytest.raises(PublishError, match=f"--port {port}: a port is a number from 0 to 65535"):
        make_server(site, port=port)


@pytest.mark.parametrize(("args", "message"), [
    (("--port", "99999"), "error: --port 99999: a port is a number from 0 to 65535"),
    (("--port", "-1"), "error: --port -1: a port is a number from 0 to 65535"),
    (("--base-url", "http://x/<script>"), "error: --base-url 'http://x/<script>': give an absolute http(s) URL"),
    (("--host", "bad host"), "error: --host 'bad host': give an address of this machine"),
])
def test_the_command_refuses_bad_options_in_one_line(site: Path, args: tuple[str, ...], message: str) -> None:
    done = subprocess.run([sys.executable, "-m", "podcast", "serve", str(site), *args], cwd=site.parent,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr.startswith(message) and done.stderr.count("\n") == 1, done.stderr


# --- any Range header, any path ----------------------------------------------------------------------

CHECKED = settings(derandomize=True, deadline=None, database=None, max_examples=300)
"""Reproducible examples, no per-example time limit (tests must pass on a busy machine), no .hypothesis/."""


def line_bytes(max_size: int) -> st.SearchStrategy[bytes]:
    """Any bytes that stay on one line of a request (no CR, no LF)."""
    return st.binary(max_size=max_size).map(lambda b: bytes(c for c in b if c not in b"\r\n"))


def word_bytes(max_size: int) -> st.SearchStrategy[bytes]:
    """Any bytes that stay one word of a request line (no whitespace, as the server splits it)."""
    return st.binary(max_size=max_size).map(lambda b: bytes(c for c in b if not chr(c).isspace()))


POSITIONS = st.one_of(st.just(""), st.integers(0, 2 * len(AUDIO)).map(str), st.text("0123456789", max_size=30),
                      st.just("9" * 4400))
RANGES = st.one_of(
    st.builds("bytes={}-{}".format, POSITIONS, POSITIONS).map(str.encode),
    st.lists(st.builds("{}-{}".format, POSITIONS, POSITIONS), min_size=1, max_size=3).map(
        lambda specs: ("bytes=" + ",".join(specs)).encode()),
    st.builds(bytes.__add__, st.sampled_from([b"bytes=", b"BYTES=", b"bytes =", b"", b"items=0-1"]), line_bytes(40)),
    line_bytes(80),
)


def check_log(log: list[str]) -> None:
    assert all(line.isprintable() for line in log), log
    assert not any("internal error" in line or "Traceback" in line for line in log), log


@CHECKED
@given(RANGES)
def test_any_range_header_gets_the_bytes_it_names_or_a_clear_status(server: SiteServer, log: list[str],
                                                                    range_header: bytes) -> None:
    del log[:]
    [(status, headers, body)] = responses(exchange(server, get(MP3.encode(), b"Range: " + range_header)))
    assert status in (200, 206, 400, 416, 431)  # 431: three positions of 4,400 digits are over 8 KiB
    if status == 200:
        assert body == AUDIO
    elif status == 206:
        m = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+)", headers["Content-Range"])
        assert m and int(m[3]) == len(AUDIO)
        assert body == AUDIO[int(m[1]):int(m[2]) + 1] and body
    elif status == 416:
        assert headers["Content-Range"] == f"bytes */{len(AUDIO)}"
    check_log(log)


SEGMENTS = st.one_of(
    st.sampled_from(["..", ".", "%2e%2e", "%2E%2e", "%2e", "%00", "%5c", "\\", "%2f", "", "a" * 300, "%1b",
                     "episodes", SLUG, f"{SLUG}.mp3", "feed.xml", "index.html", "link.txt", "secret.txt", "leak"]),
    st.text(max_size=8).map(lambda t: "".join(f"%{b:02x}" for b in t.encode())),  # anything, percent-encoded
).map(str.encode) | word_bytes(8)  # ... or sent raw
TARGETS = st.builds(
    lambda segments, query: b"/" + b"/".join(segments) + query,
    st.lists(SEGMENTS, max_size=6), st.sampled_from([b"", b"?", b"?x=1", b"#top"]),
)


@CHECKED
@given(TARGETS)
def test_any_path_gets_a_file_of_the_site_or_a_clear_status(server: SiteServer, log: list[str], site: Path,
                                                            target: bytes) -> None:
    del log[:]
    [(status, headers, body)] = responses(exchange(server, get(target)))
    assert status in (200, 301, 400, 404, 414)
    if status == 200:
        inside = site.resolve()
        served = {p.read_bytes() for p in site.rglob("*") if p.is_file() and p.resolve().is_relative_to(inside)}
        assert body in served
    if status == 301:
        assert headers["Location"].startswith("/") and not headers["Location"].startswith("//")
    assert SECRET not in body
    check_log(log)
