"""`podcast serve`: HEAD, byte ranges, content types and a folder nothing can escape, over real HTTP."""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import pytest

from podcast.errors import PublishError
from podcast.models import BuiltEpisode, Category, Show
from podcast.publish.feed import episode_path, render_feed
from podcast.publish.serve import SiteServer, make_server, running

SHOW = Show(
    title="Serve Weekly",
    description="Papers, read aloud.",
    author="Ada Lovelace",
    email="ada@example.org",
    language="en",
    base_url="https://example.org/show/",
    category=Category("Technology"),
)
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
    os.symlink(top / "secret.txt", root / "link.txt")
    return root


@pytest.fixture(scope="module")
def server(site: Path) -> Iterator[SiteServer]:
    with running(site) as server:
        yield server


def request(server: SiteServer, method: str, path: str, **headers: str) -> tuple[http.client.HTTPResponse, bytes]:
    host, port = server.server_address[:2]
    conn = http.client.HTTPConnection(str(host), port, timeout=5)
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
])
def test_nothing_outside_the_site_is_served(server: SiteServer, path: str) -> None:
    # http.client sends the path as given: no client-side normalization hides the attempt.
    response, body = request(server, "GET", path)
    assert response.status == 404
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
