"""A local publish that dies at any moment leaves a feed that works, and bad input stops it before writing.

The crash test runs the real `podcast publish` while the show gains a week (with a big MP3 to
copy) and SIGKILLs it at random moments of its writing: the site must then hold the previous
feed.xml or the new one, never a torn one, and every enclosure that feed names must be there
with the length it announces. The input tests break one thing each and check that publish
(to a folder or to S3) stops with one line naming it, before any file is written.
"""

from __future__ import annotations

import io
import multiprocessing
import os
import random
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from multiprocessing.process import BaseProcess
from pathlib import Path

import pytest
from episodecopy import add_episode
from lxml import etree
from PIL import Image

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


@pytest.mark.parametrize("to_s3", [False, True], ids=["local", "s3"])
def test_a_site_that_fails_check_fails_publish(show: Path, to_s3: bool, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    # An episode dated in the future passes every input check, but `podcast check` rejects the feed.
    manifest = show / "episodes" / "first-week" / "build" / "episode.json"
    text = manifest.read_text("utf-8")
    manifest.write_text(text.replace('"published": "2024-05-10T', '"published": "2099-05-08T'), "utf-8")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.chdir(show)
    args = ["publish", "--to", "s3://bucket/show"] if to_s3 else ["publish"]
    assert cli.main(args) == 1
    out, err = capsys.readouterr()
    problems = out.splitlines()
    assert problems and all(line.startswith("feed.xml: ") for line in problems), out
    assert any("in the future" in line for line in problems)
    assert err.count("\n") == 1 and "fails podcast check with" in err and problems[0] in err, err
    if to_s3:
        assert "nothing was uploaded to s3://bucket/show/" in err and "127.0.0.1:9" not in err
    else:  # the local site was written, then checked: the error says where it is
        assert str(show / "public") in err
        assert b"2099" in (show / "public" / "feed.xml").read_bytes()
