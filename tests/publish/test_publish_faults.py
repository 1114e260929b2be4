"""A local publish that dies at any moment leaves a feed that works, and bad input stops it before writing.

The crash test runs the real `podcast publish` while the show gains a week (with a big MP3 to
copy) and SIGKILLs it at random moments of its writing: the site must then hold the previous
feed.xml or the new one, never a torn one, and every enclosure that feed names must be there
with the length it announces. The input tests break one thing each and check that publish
(to a folder or to S3) stops with one line naming it, before any file is written.
"""

from __future__ import annotations

import hashlib
import io
import json
import multiprocessing
import os
import random
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from PIL import Image
from support.shows import add_episode

import podcast.config
import podcast.publish.local
import podcast.publish.site  # noqa: F401 - imported once here, not in every forked publish
from podcast import cli

RunCli = Callable[..., subprocess.CompletedProcess[str]]
KILLS = 8
PAD_BYTES = 24 << 20
WRITE_WINDOW = 0.3
"""Seconds after the first new file appears over which kills are spread (the writing takes about that)."""


def enclosures(site: Path) -> list[tuple[Path, int]]:
    """Each enclosure of the site's feed.xml as (site file, announced length); fails if the feed is torn."""
    root = etree.fromstring((site / "feed.xml").read_bytes())
    base = root.findtext("channel/link")
    assert base, "the feed has no channel <link>"
    base = base if base.endswith("/") else base + "/"
    found = []
    for el in root.iterfind("channel/item/enclosure"):
        url = el.get("url", "")
        assert url.startswith(base), url
        found.append((site / url[len(base):], int(el.get("length", "-1"))))
    assert found, "the feed names no enclosure"
    return found


def assert_enclosures_present(site: Path) -> None:
    for path, length in enclosures(site):
        assert path.is_file(), f"the feed names {path.relative_to(site)}, which is missing"
        assert path.stat().st_size == length, f"{path.name}: {path.stat().st_size} bytes, the feed says {length}"


def publish_in_child(show: Path, site: Path) -> None:
    """The child's life: `podcast publish --site SITE` in the show, with its output dropped."""
    os.chdir(show)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    os._exit(cli.main(["publish", "--site", str(site)]))


def wait_until_writing(child: BaseProcess, marker: Path, timeout: float = 30.0) -> bool:
    """Poll until `marker` exists (the publish began writing the new episode); False if it ended first."""
    deadline = time.monotonic() + timeout
    while not marker.exists():
        if not child.is_alive():
            return False
        assert time.monotonic() < deadline, "publish never started writing"
        time.sleep(0.001)
    return True


def test_killed_publish_leaves_the_previous_feed_or_the_new_one(show: Path, run_cli: RunCli,
                                                                tmp_path: Path) -> None:
    published = show / "public"
    old_feed = (published / "feed.xml").read_bytes()
    add_episode(show, "second-week", pad_bytes=PAD_BYTES)

    # Each publish is a forked copy of this process, which has imported the publish code already:
    # a fresh interpreter would spend seconds importing before writing a byte.
    fork = multiprocessing.get_context("fork")
    rng = random.Random(os.getpid())
    feeds = []
    for i in range(KILLS):
        site = Path(shutil.copytree(published, tmp_path / f"site{i}"))
        child = fork.Process(target=publish_in_child, args=(show, site))
        child.start()
        try:
            if wait_until_writing(child, site / "episodes" / "second-week"):
                # The first kill comes at once (mid-MP3), the others anywhere in the writing.
                time.sleep(0 if i == 0 else rng.uniform(0, WRITE_WINDOW))
                os.kill(child.pid or 0, signal.SIGKILL)
        finally:
            child.join(timeout=60)
        assert child.exitcode in (0, -signal.SIGKILL), f"kill {i}: publish failed on its own ({child.exitcode})"
        feeds.append((site / "feed.xml").read_bytes())
        assert_enclosures_present(site)

    # The real command, run after the crashes, completes the site and sweeps the temp files they left.
    site = tmp_path / f"site{KILLS - 1}"
    result = run_cli(show, "publish", "--site", site)
    assert result.returncode == 0, result.stderr
    new_feed = (site / "feed.xml").read_bytes()
    assert new_feed != old_feed and b"second-week.mp3" in new_feed
    assert_enclosures_present(site)
    assert [p.name for p in site.rglob("*.part")] == []
    for i, feed in enumerate(feeds):
        assert feed in (old_feed, new_feed), f"kill {i}: feed.xml is neither the previous nor the new one"
    assert old_feed in feeds, "no kill landed before the feed was replaced: the test proved nothing"


# -- bad input stops publish before anything is written ----------------------------------------------


def image(fmt: str, size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (40, 90, 160)).save(out, fmt)
    return out.getvalue()


def set_cover(name: str, data: bytes) -> Callable[[Path], None]:
    def apply(show: Path) -> None:
        (show / name).write_bytes(data)
        toml = show / "podcast.toml"
        toml.write_text(f'cover = "{name}"\n' + toml.read_text("utf-8"), "utf-8")

    return apply


def set_base_url(url: str) -> Callable[[Path], None]:
    def apply(show: Path) -> None:
        toml = show / "podcast.toml"
        text = toml.read_text("utf-8")
        assert text.count('"https://podcast.papercast.dev/"') == 1
        toml.write_text(text.replace('"https://podcast.papercast.dev/"', f'"{url}"'), "utf-8")

    return apply


def duplicate_slug(show: Path) -> None:
    # A folder copied by hand keeps the build of the original: both claim the slug "first-week".
    shutil.copytree(show / "episodes" / "first-week", show / "episodes" / "first-week-copy")


BAD_INPUT = [
    pytest.param(set_base_url("podcast.papercast.dev/"), ("podcast.toml", "base_url"), id="base_url-relative"),
    pytest.param(set_base_url("ftp://podcast.papercast.dev/"), ("base_url", "http"), id="base_url-ftp"),
    pytest.param(set_cover("cover.png", image("PNG", (1600, 1400))), ("cover.png", "1600x1400", "square"),
                 id="cover-not-square"),
    pytest.param(set_cover("cover.jpg", image("JPEG", (1000, 1000))), ("cover.jpg", "1000x1000", "1400-3000"),
                 id="cover-too-small"),
    pytest.param(set_cover("cover.jpg", image("JPEG", (3200, 3200))), ("cover.jpg", "3200x3200"),
                 id="cover-too-big"),
    pytest.param(set_cover("cover.png", image("GIF", (1400, 1400))), ("cover.png", "JPEG or PNG"),
                 id="cover-gif"),
    pytest.param(duplicate_slug, ("first-week-copy", "'first-week'", "podcast build"), id="duplicate-slug"),
]


def site_state(site: Path) -> dict[str, tuple[int, int]]:
    return {p.relative_to(site).as_posix(): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in site.rglob("*") if p.is_file()}


@pytest.mark.parametrize("to_s3", [False, True], ids=["local", "s3"])
@pytest.mark.parametrize(("breaker", "names"), BAD_INPUT)
def test_bad_input_stops_publish_before_writing(show: Path, breaker: Callable[[Path], None],
                                                names: tuple[str, ...], to_s3: bool,
                                                monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    # In-process for speed; `podcast.cli.main` is the command itself. For --to, the endpoint is a
    # closed port: the input must be rejected before any connection is tried.
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.chdir(show)
    breaker(show)
    before = site_state(show / "public")
    args = ["publish", "--to", "s3://bucket/show"] if to_s3 else ["publish"]
    assert cli.main(args) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and err.startswith("error: "), err
    for name in names:
        assert name in err, f"{name!r} not in {err!r}"
    assert "127.0.0.1:9" not in err, "an S3 connection was tried before the input was checked"
    assert site_state(show / "public") == before


def digests(root: Path) -> dict[str, str]:
    """sha256 of every file under `root` (links not followed), by path relative to it."""
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and not p.is_symlink()}


def edit_record(show: Path, change: Callable[[dict[str, Any]], object]) -> None:
    manifest = show / "episodes" / "first-week" / "build" / "episode.json"
    record = json.loads(manifest.read_text("utf-8"))
    change(record)
    manifest.write_text(json.dumps(record, indent=1), "utf-8")


def set_chapter_title(record: dict[str, Any]) -> None:
    record["chapters"][1]["title"] = "<script>alert(1)</script> & <img src=x onerror=alert(2)>"


def date_in_the_future(record: dict[str, Any]) -> None:
    record["published"] = record["published"].replace("2024-05-10T", "2099-05-08T")


# Each is a record that passes every input check, so only `podcast check` on the staged site stops it:
# hostile text edited into the record's chapter titles (the MP3's own chapters say otherwise), or a date
# in the future.
REJECTED = [
    pytest.param(set_chapter_title, r"chapter 2 \('<script>alert\(1\)</script> .*' .*\) differs from the MP3's",
                 id="hostile-chapter-title"),
    pytest.param(date_in_the_future, r"is in the future", id="future-date"),
]


@pytest.mark.parametrize("to_s3", [False, True], ids=["local", "s3"])
@pytest.mark.parametrize(("change", "problem"), REJECTED)
def test_a_site_that_fails_check_is_not_published(show: Path, to_s3: bool, change: Callable[[dict[str, Any]], None],
                                                  problem: str, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    edit_record(show, change)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.chdir(show)
    before = digests(show)
    args = ["publish", "--to", "s3://bucket/show"] if to_s3 else ["publish"]
    assert cli.main(args) == 1
    out, err = capsys.readouterr()
    problems = out.splitlines()
    assert problems and all(line.startswith("feed.xml: ") for line in problems), out
    assert any(re.search(problem, line) for line in problems), out
    assert err.count("\n") == 1 and err.startswith("error: ") and problems[0] in err, err
    assert "fails podcast check with" in err
    if to_s3:
        assert "nothing was uploaded to s3://bucket/show/" in err and "127.0.0.1:9" not in err
    else:
        assert f"nothing was published, {show / 'public'} is as it was" in err
    # The last good site, byte for byte, and nothing left behind anywhere in the show (the staging is gone).
    assert digests(show) == before


# -- a record edited by hand steers nothing ----------------------------------------------------------

SECRET = "a secret of this machine, outside the show"
SECRET_NAME = "secret.txt"


def record_change(change: Callable[[dict[str, Any], Path], object]) -> Callable[[Path, Path], None]:
    def apply(show: Path, secret: Path) -> None:
        edit_record(show, lambda record: change(record, secret))

    return apply


def build_file(name: str, change: Callable[[Path, Path], object]) -> Callable[[Path, Path], None]:
    def apply(show: Path, secret: Path) -> None:
        change(show / "episodes" / "first-week" / "build" / name, secret)

    return apply


def audio_elsewhere(record: dict[str, Any], secret: Path) -> None:
    record.update(audio=str(secret), audio_bytes=secret.stat().st_size)


def link_to(path: Path, secret: Path) -> None:
    path.unlink()
    path.symlink_to(secret)


HOSTILE_RECORDS = [
    pytest.param(record_change(lambda r, s: r.update(slug="../../../x")), ("slug '../../../x'", "'first-week'"),
                 id="slug-climbs-out"),
    pytest.param(record_change(lambda r, s: r.update(slug="other-week")), ("slug 'other-week'", "'first-week'"),
                 id="slug-not-the-folder"),
    pytest.param(record_change(lambda r, s: r.update(newsletter_html=str(s))), ("newsletter_html", SECRET_NAME),
                 id="newsletter-absolute"),
    pytest.param(record_change(lambda r, s: r.update(newsletter_html="../../../outside/secret.txt")),
                 ("newsletter_html", "'../../../outside/secret.txt'"), id="newsletter-climbs-out"),
    pytest.param(record_change(audio_elsewhere), ("audio", SECRET_NAME), id="audio-any-file-of-that-size"),
    pytest.param(record_change(lambda r, s: r["transcripts"].update(srt="../../x.srt")), ("transcripts.srt",),
                 id="transcript-climbs-out"),
    pytest.param(record_change(lambda r, s: r.update(duration="long")), ("duration", "'long'"), id="duration-text"),
    pytest.param(record_change(lambda r, s: r.update(title=None)), ("title", "None"), id="title-null"),
    pytest.param(record_change(lambda r, s: r.update(number="x")), ("number", "'x'"), id="number-text"),
    pytest.param(record_change(lambda r, s: r.update(published="last friday")), ("published", "'last friday'"),
                 id="published-text"),
    pytest.param(record_change(lambda r, s: r.update(chapters="none")), ("chapters",), id="chapters-not-a-list"),
    pytest.param(record_change(lambda r, s: r["chapters"][1].update(url="javascript:alert(1)")),
                 ("chapter 2", "'javascript:alert(1)'"), id="chapter-url-script"),
    pytest.param(build_file("episode.json", lambda p, s: p.write_text("{not json", "utf-8")),
                 ("episode.json", "not a readable episode record"), id="record-not-json"),
    pytest.param(build_file("newsletter.html", lambda p, s: p.unlink()), ("newsletter.html", "missing"),
                 id="newsletter-missing"),
    pytest.param(build_file("transcript.srt", lambda p, s: p.unlink()), ("transcript.srt", "missing"),
                 id="transcript-missing"),
    pytest.param(build_file("newsletter.html", link_to), ("newsletter.html", "links outside"),
                 id="newsletter-links-out"),
    pytest.param(build_file("newsletter.html", lambda p, s: p.write_bytes(b"<p>caf\xe9</p>")),
                 ("newsletter.html", "not UTF-8"), id="newsletter-not-utf8"),
]


@pytest.mark.parametrize(("breaker", "names"), HOSTILE_RECORDS)
def test_a_hand_edited_build_stops_publish_with_one_line(show: Path, tmp_path: Path,
                                                         breaker: Callable[[Path, Path], None],
                                                         names: tuple[str, ...], monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    secret = tmp_path / "outside" / SECRET_NAME
    secret.parent.mkdir()
    secret.write_text(SECRET, "utf-8")
    breaker(show, secret)
    before = digests(tmp_path)
    monkeypatch.chdir(show)
    assert cli.main(["publish"]) == 1  # any other exception than a PodcastError would be raised here
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and err.startswith("error: "), err
    for name in names:
        assert name in err, f"{name!r} not in {err!r}"
    assert "podcast build episodes/first-week" in err  # what fixes it
    assert digests(tmp_path) == before  # nothing written anywhere: not in the site, not beside it
    assert not any(SECRET in p.read_text("utf-8", "replace") for p in (show / "public").rglob("*") if p.is_file())


def test_publish_writes_nothing_through_a_link_out_of_the_site(show: Path, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    episodes = show / "public" / "episodes"
    shutil.rmtree(episodes)
    episodes.symlink_to(elsewhere, target_is_directory=True)
    before = digests(tmp_path)
    monkeypatch.chdir(show)
    assert cli.main(["publish"]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and err.startswith("error: "), err
    assert "would be written outside the site folder" in err and "episodes/first-week/" in err
    assert digests(tmp_path) == before and list(elsewhere.iterdir()) == []
