"""`podcast publish --to s3://...` against a real S3 server (moto's, on 127.0.0.1).

Between papercast and moto sits a small HTTP proxy of ours: it records every request, in order
(so the tests see that media go up before pages and feed.xml goes last), and on demand refuses
an upload (403 AccessDenied) or drops the connection mid-request, the way a flaky network does.
The objects are read back straight from moto and compared with a local publish of the same show.
"""

from __future__ import annotations

import hashlib
import http.client
import itertools
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import boto3
import pytest
from lxml import etree
from moto.server import ThreadedMotoServer
from support.shows import add_episode

from podcast import cli
from podcast.config import load_show
from podcast.errors import PublishError
from podcast.publish import s3 as upload
from podcast.publish.local import publish_site
from podcast.publish.s3 import Retry, make_client, upload_site

RunCli = Callable[..., Any]
RunIn = Callable[..., "Result"]
SECRET = "papercast-test-secret-9f2c"
"""The secret key the tests use: it must never show up in anything papercast prints."""
EXPECTED_TYPES = {
    ".mp3": "audio/mpeg",
    ".xml": "application/rss+xml",
    ".vtt": "text/vtt",
    ".srt": "application/x-subrip",
    ".json": "application/json",
    ".html": "text/html; charset=utf-8",
    ".md": "text/markdown; charset=utf-8",
    ".jpg": "image/jpeg",
    ".png": "image/png",
}
FAST = Retry(request_attempts=1, object_attempts=3, first_delay=0.01)
_buckets = itertools.count(1)


# --- the S3 server and the proxy in front of it ----------------------------------------------------

Rule = Callable[[str, str], str | None]
"""(method, path) -> None to pass the request on, "deny" for a 403, "drop" to close the connection."""


class S3Proxy(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, upstream: int) -> None:
        self.upstream = upstream
        self.requests: list[tuple[str, str]] = []
        self.rule: Rule = lambda method, path: None
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _ProxyHandler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def puts(self, bucket: str, prefix: str = "show/") -> list[str]:
        """Site-relative paths of the objects PUT into the bucket, in order (multipart parts excluded)."""
        head = f"/{bucket}/{prefix}"
        with self.lock:
            return [p[len(head):] for m, p in self.requests if m == "PUT" and p.startswith(head)]


class _ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive and Expect: 100-continue, as botocore uses them
    server: S3Proxy

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._forward()

    do_PUT = do_POST = do_HEAD = do_DELETE = do_GET

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0], 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                pass
            return b"".join(chunks)
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _forward(self) -> None:
        body = self._body()
        path = unquote(urlsplit(self.path).path)
        with self.server.lock:
            self.server.requests.append((self.command, path))
        action = self.server.rule(self.command, path)
        if action == "drop":
            self.close_connection = True  # no answer at all: the client sees the connection close
            return
        if action == "deny":
            self._reply(403, {"Content-Type": "application/xml"},
                        b"<?xml version='1.0' encoding='UTF-8'?>\n<Error><Code>AccessDenied</Code>"
                        b"<Message>Access Denied</Message></Error>")
            return
        skip = {"transfer-encoding", "expect", "connection", "content-length"}
        headers = {k: v for k, v in self.headers.items() if k.lower() not in skip}
        headers["Content-Length"] = str(len(body))
        upstream = http.client.HTTPConnection("127.0.0.1", self.server.upstream, timeout=30)
        try:
            upstream.request(self.command, self.path, body=body, headers=headers)
            response = upstream.getresponse()
            data = response.read()
            passed = {k: v for k, v in response.getheaders() if k.lower() not in skip}
            # A HEAD answer has no body but announces the object's length: pass that on unchanged.
            length = response.getheader("Content-Length", "0") if self.command == "HEAD" else str(len(data))
            self._reply(response.status, {**passed, "Content-Length": length}, data)
        finally:
            upstream.close()

    def _reply(self, status: int, headers: dict[str, str], data: bytes) -> None:
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        if "Content-Length" not in headers:
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)


@pytest.fixture(scope="module")
def moto_port() -> Iterator[int]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    yield server.get_host_and_port()[1]
    server.stop()


@pytest.fixture
def proxy(moto_port: int) -> Iterator[S3Proxy]:
    server = S3Proxy(moto_port)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def s3(proxy: S3Proxy, moto_port: int, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    """The environment a user sets (endpoint: the proxy); returns a client that talks to moto directly."""
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_ENDPOINT_URL_S3", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    return boto3.client("s3", endpoint_url=f"http://127.0.0.1:{moto_port}", region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")


@dataclass(frozen=True)
class Result:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def podcast(show: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> RunIn:
    """`podcast ARGS...` in the show, in this process: the CLI's own main() without an interpreter's
    start-up (seconds of imports); the first test runs the command as a real subprocess."""
    monkeypatch.chdir(show)

    def run(*args: str) -> Result:
        capsys.readouterr()
        code = cli.main(list(args))
        out, err = capsys.readouterr()
        return Result(code, out, err)

    return run


def new_bucket(client: Any) -> str:
    name = f"show-bucket-{next(_buckets)}"
    client.create_bucket(Bucket=name)
    return name


def local_site(show: Path, folder: Path) -> dict[str, bytes]:
    """A local publish of the show (the reference the bucket must match): relative path -> bytes."""
    publish_site(load_show(show), folder)
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def bucket_site(client: Any, bucket: str, prefix: str = "show/") -> dict[str, dict[str, Any]]:
    """Every object under the prefix, fetched: relative path -> the GetObject answer with its bytes."""
    found = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", ()):
            got = client.get_object(Bucket=bucket, Key=obj["Key"])
            found[obj["Key"][len(prefix):]] = {**got, "Bytes": got["Body"].read()}
    return found


def assert_ok(result: Any) -> str:
    assert result.returncode == 0, result.stderr
    assert SECRET not in result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1, result.stdout
    return str(lines[0])


def assert_one_line_error(result: Any) -> str:
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr and SECRET not in result.stdout + result.stderr
    assert result.stdout == "" and result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("error: ")
    return str(result.stderr)


def assert_feed_media_present(client: Any, bucket: str, feed: bytes, prefix: str = "show/") -> None:
    """Every enclosure the feed names is an object of the announced length."""
    root = etree.fromstring(feed)
    base = root.findtext("channel/link") or ""
    enclosures = root.findall("channel/item/enclosure")
    assert enclosures
    for el in enclosures:
        key = prefix + el.get("url", "")[len(base):]
        assert client.head_object(Bucket=bucket, Key=key)["ContentLength"] == int(el.get("length", "-1"))


# --- publishing -------------------------------------------------------------------------------------


def test_publish_uploads_the_site_with_types_media_first_feed_last(show: Path, run_cli: RunCli, s3: Any,
                                                                    proxy: S3Proxy, tmp_path: Path) -> None:
    bucket = new_bucket(s3)
    summary = assert_ok(run_cli(show, "publish", "--to", f"s3://{bucket}/show"))
    reference = local_site(show, tmp_path / "reference")
    assert f"s3://{bucket}/show/" in summary and f"uploaded {len(reference)} " in summary
    assert "unchanged 0" in summary

    remote = bucket_site(s3, bucket)
    assert sorted(remote) == sorted(reference)
    for rel, obj in remote.items():
        assert obj["Bytes"] == reference[rel], rel
        assert obj["ContentType"] == EXPECTED_TYPES[Path(rel).suffix], rel
        assert obj["Metadata"]["sha256"] == hashlib.sha256(reference[rel]).hexdigest(), rel
        max_age = int(obj["CacheControl"].rsplit("max-age=", 1)[1])
        if rel.endswith((".xml", ".html")):
            assert max_age <= 600, f"{rel}: feeds and pages must be rechecked within minutes"
        else:
            assert max_age >= 86400, f"{rel}: media should be cached long"

    order = proxy.puts(bucket)
    assert sorted(order) == sorted(reference), "each file should be uploaded exactly once"
    assert order[-2:] == ["newsletter.xml", "feed.xml"]
    pages = [i for i, rel in enumerate(order) if rel.endswith(".html")]
    media = [i for i, rel in enumerate(order) if not rel.endswith((".html", ".xml"))]
    assert max(media) < min(pages), f"media and sidecars go up before any page: {order}"


def test_republish_uploads_only_what_changed(show: Path, podcast: RunIn, s3: Any, proxy: S3Proxy,
                                             tmp_path: Path) -> None:
    bucket = new_bucket(s3)
    before = local_site(show, tmp_path / "before")
    assert_ok(podcast("publish", "--to", f"s3://{bucket}/show"))

    with proxy.lock:
        proxy.requests.clear()
    summary = assert_ok(podcast("publish", "--to", f"s3://{bucket}/show"))
    assert "uploaded 0 (0 B)" in summary and f"unchanged {len(before)}" in summary
    assert proxy.puts(bucket) == [], "an unchanged site must upload nothing"

    # What a rebuild that changed one file does: its newsletter.md; and a new show description,
    # which changes the feeds and pages but none of the media.
    newsletter = show / "episodes" / "first-week" / "build" / "newsletter.md"
    newsletter.write_text(newsletter.read_text("utf-8") + "\nA correction: one more sentence.\n", "utf-8")
    toml = show / "podcast.toml"
    text = toml.read_text("utf-8")
    assert text.count("\ndescription = ") == 1
    toml.write_text(text.replace("\ndescription = ", '\ndescription = "Weekly AI papers, read aloud." # ', 1),
                    "utf-8")
    after = local_site(show, tmp_path / "after")
    changed = {rel for rel in after if after[rel] != before.get(rel)}
    assert "episodes/first-week/newsletter.md" in changed and "feed.xml" in changed
    assert not any(rel.endswith((".mp3", ".jpg", ".vtt", ".srt")) for rel in changed)

    with proxy.lock:
        proxy.requests.clear()
    summary = assert_ok(podcast("publish", "--to", f"s3://{bucket}/show"))
    assert f"uploaded {len(changed)} " in summary and f"unchanged {len(after) - len(changed)}" in summary
    order = proxy.puts(bucket)
    assert sorted(order) == sorted(changed)
    assert order[-1] == "feed.xml"
    assert {rel: obj["Bytes"] for rel, obj in bucket_site(s3, bucket).items()} == after


def test_refused_media_upload_keeps_the_previous_feed(show: Path, podcast: RunIn, s3: Any,
                                                      proxy: S3Proxy) -> None:
    bucket = new_bucket(s3)
    assert_ok(podcast("publish", "--to", f"s3://{bucket}/show"))
    old_feed = s3.get_object(Bucket=bucket, Key="show/feed.xml")["Body"].read()

    add_episode(show, "second-week")
    proxy.rule = lambda method, path: "deny" if method == "PUT" and path.endswith("second-week.mp3") else None
    with proxy.lock:
        proxy.requests.clear()
    error = assert_one_line_error(podcast("publish", "--to", f"s3://{bucket}/show"))
    assert "episodes/second-week/second-week.mp3" in error and "AccessDenied" in error, error
    assert "feed.xml was not uploaded" in error
    assert not {"feed.xml", "newsletter.xml", "index.html"} & set(proxy.puts(bucket))
    feed = s3.get_object(Bucket=bucket, Key="show/feed.xml")["Body"].read()
    assert feed == old_feed
    assert_feed_media_present(s3, bucket, feed)

    # Once the storage accepts it again, the same command finishes the job.
    proxy.rule = lambda method, path: None
    assert_ok(podcast("publish", "--to", f"s3://{bucket}/show"))
    feed = s3.get_object(Bucket=bucket, Key="show/feed.xml")["Body"].read()
    assert b"second-week.mp3" in feed
    assert_feed_media_present(s3, bucket, feed)


def test_missing_bucket_is_one_line(podcast: RunIn, s3: Any, proxy: S3Proxy) -> None:
    error = assert_one_line_error(podcast("publish", "--to", "s3://no-such-bucket/show"))
    assert "s3://no-such-bucket/show/" in error and "NoSuchBucket" in error and "create the bucket" in error
    assert not any(method == "PUT" for method, _ in proxy.requests)


# --- retries, large files, dry runs (in process: fast retries, and the library's own API) -----------


def test_dropped_connections_are_retried_then_stop_before_the_feed(show: Path, s3: Any, proxy: S3Proxy,
                                                                   tmp_path: Path) -> None:
    bucket = new_bucket(s3)
    site = tmp_path / "site"
    files = publish_site(load_show(show), site).files
    target = upload.parse_s3_url(f"s3://{bucket}/show")
    mp3 = "episodes/first-week/first-week.mp3"

    proxy.rule = lambda method, path: "drop" if method == "PUT" and path.endswith(".mp3") else None
    with pytest.raises(PublishError) as failed:
        upload_site(make_client(retry=FAST), site, files, target, retry=FAST)
    message = str(failed.value)
    assert mp3 in message and "feed.xml was not uploaded" in message and "\n" not in message
    assert proxy.puts(bucket) == [mp3] * FAST.object_attempts, "each try of the MP3, then nothing else"

    # One dropped connection: our own retry recovers and the upload completes.
    drops = itertools.count()
    proxy.rule = lambda m, p: "drop" if m == "PUT" and p.endswith(".mp3") and next(drops) == 0 else None
    with proxy.lock:
        proxy.requests.clear()
    report = upload_site(make_client(retry=FAST), site, files, target, retry=FAST)
    assert proxy.puts(bucket)[:2] == [mp3, mp3] and report.uploaded[-1] == "feed.xml"

    # botocore's own retries (standard mode) do the same within one request.
    drops = itertools.count()
    proxy.rule = lambda m, p: "drop" if m == "PUT" and p.endswith(".mp3") and next(drops) == 0 else None
    (site / mp3).write_bytes((site / mp3).read_bytes() + b"\0")
    with proxy.lock:
        proxy.requests.clear()
    once = Retry(request_attempts=3, object_attempts=1, first_delay=0.01)
    report = upload_site(make_client(retry=once), site, files, target, retry=once)
    assert report.uploaded == (mp3,) and proxy.puts(bucket) == [mp3, mp3]


def test_large_files_go_up_in_parts_with_the_same_metadata(show: Path, s3: Any, proxy: S3Proxy,
                                                           tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(upload, "MULTIPART_BYTES", 256 << 10)
    bucket = new_bucket(s3)
    site = tmp_path / "site"
    files = publish_site(load_show(show), site).files
    target = upload.parse_s3_url(f"s3://{bucket}/show")
    upload_site(make_client(), site, files, target)

    mp3 = "episodes/first-week/first-week.mp3"
    assert ("POST", f"/{bucket}/show/{mp3}") in proxy.requests, "the MP3 should use a multipart upload"
    got = s3.get_object(Bucket=bucket, Key=f"show/{mp3}")
    data = (site / mp3).read_bytes()
    assert got["Body"].read() == data and got["ContentType"] == "audio/mpeg"
    assert got["Metadata"]["sha256"] == hashlib.sha256(data).hexdigest()
    again = upload_site(make_client(), site, files, target)
    assert again.uploaded == () and len(again.unchanged) == len(files)


def _size(n: int) -> str:
    """A size as the CLI's messages give it: bytes under 1000, else kB or MB with one decimal."""
    if n < 1000:
        return f"{n} B"
    return f"{n / 1000:.1f} kB" if n < 999_950 else f"{n / 1_000_000:.1f} MB"


def test_dry_run_lists_and_uploads_nothing(show: Path, s3: Any, proxy: S3Proxy, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    bucket = new_bucket(s3)
    reference = local_site(show, tmp_path / "reference")  # what a publish would put in the bucket
    monkeypatch.chdir(show)
    assert cli.main(["publish", "--to", f"s3://{bucket}/show", "--dry-run"]) == 0
    out = capsys.readouterr().out.splitlines()
    mp3 = "episodes/first-week/first-week.mp3"
    assert out[0] == f"would upload s3://{bucket}/show/{mp3} ({_size(len(reference[mp3]))}, new)"
    assert out[-2] == f"would upload s3://{bucket}/show/feed.xml ({_size(len(reference['feed.xml']))}, new)"
    listed = sorted(line.split(" ")[2].removeprefix(f"s3://{bucket}/show/") for line in out[:-1])
    assert listed == sorted(reference)
    total = _size(sum(len(data) for data in reference.values()))
    assert out[-1].startswith(f"dry run: would upload {len(reference)} ({total}), unchanged 0; nothing was uploaded")
    assert proxy.puts(bucket) == [] and s3.list_objects_v2(Bucket=bucket).get("KeyCount") == 0


def test_client_settings_come_from_config_then_environment(s3: Any, proxy: S3Proxy) -> None:
    client = make_client()
    assert client.meta.endpoint_url == proxy.url and client.meta.region_name == "us-east-1"
    assert make_client("http://127.0.0.1:9").meta.endpoint_url == "http://127.0.0.1:9"
    with pytest.raises(PublishError, match="s3_endpoint"):
        make_client("s3.example.net")
    with pytest.raises(PublishError, match=r"s3://BUCKET/PREFIX"):
        upload.parse_s3_url("https://bucket/prefix")
