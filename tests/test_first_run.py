"""A new user's first run, as issue 14 walked it: `podcast init`, an own three-paper newsletter made
into an episode in a date-named folder, build, publish. Built once for the module; each test reads
one thing a podcaster notices."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import feedparser
import podcastparser
import pytest
from fakes.arxiv import FakeArxiv
from support.shows import make_publishable

FOLDER = "episodes/2024-05-17"
NEWSLETTER = """\
Welcome to issue 12. Three papers this week.

# xLSTM: Extended Long Short-Term Memory
https://arxiv.org/abs/2405.04517

The LSTM returns, scaled up with exponential gating.

# DeepSeek-V2: A Strong, Economical, and Efficient Mixture-of-Experts Language Model
https://arxiv.org/abs/2405.04434

A 236B model that uses 21B per token and cuts the cache by 93.3%.

# Does Fine-Tuning LLMs on New Knowledge Encourage Hallucinations?
https://arxiv.org/abs/2405.05904

New facts are learned slowly, and a 0.1% share of them already shows.

---

That was the week. See you next Friday.
<!-- newsletter-only -->Reply to this email to tell us what to cover.<!-- /newsletter-only -->
<!-- audio-only -->Thanks for listening to the audio edition.<!-- /audio-only -->
"""


def run(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([sys.executable, "-m", "podcast", *args], cwd=cwd, env=env,
                            capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stderr
    return result


Runs = dict[str, subprocess.CompletedProcess[str]]
FirstRun = tuple[Path, Runs, FakeArxiv]


@pytest.fixture(scope="module")
def first_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FirstRun]:
    parent = tmp_path_factory.mktemp("first-run")
    with FakeArxiv() as arxiv:
        env = dict(os.environ, PODCAST_ARXIV_API_URL=arxiv.api_url)  # any request would be seen here
        run(parent, env, "init", "show")
        root = make_publishable(parent / "show")
        (root / "issue-12.md").write_text(NEWSLETTER, "utf-8")
        runs = {"new": run(root, env, "new", FOLDER, "--from-newsletter", "issue-12.md")}
        runs["build"] = run(root, env, "build", FOLDER)
        runs["publish"] = run(root, env, "publish")
        yield root, runs, arxiv


def test_first_episode_is_episode_1_dated_by_its_folder(first_run: FirstRun) -> None:
    root, _, _ = first_run
    xml = (root / "public" / "feed.xml").read_bytes()
    fp = feedparser.parse(xml)
    assert not fp.bozo, fp.bozo_exception
    [entry] = fp.entries
    assert entry.itunes_episode == "1"  # init's unbuilt episodes/first-week is not counted
    assert date(*entry.published_parsed[:3]) == date(2024, 5, 17)
    assert entry.title == "Week of May 13, 2024"
    [ep] = podcastparser.parse("https://podcast.papercast.dev/feed.xml", io.BytesIO(xml))["episodes"]
    assert ep["number"] == 1
    assert date.fromtimestamp(ep["published"]).isoformat() in ("2024-05-16", "2024-05-17")  # local zone
    assert "2024-05-17T00:00:00" in json.loads((root / FOLDER / "build" / "episode.json").read_text())["published"]


def test_newsletter_import_neither_asks_arxiv_nor_claims_an_engine(first_run: FirstRun) -> None:
    _, runs, arxiv = first_run
    assert arxiv.requests == []
    build = runs["build"]
    assert "abstract" not in build.stderr
    last = build.stdout.splitlines()[-1]
    assert "summaries as written in summaries/" in last and "extractive" not in last


def test_outro_said_once_and_markers_choose_the_edition(first_run: FirstRun) -> None:
    root, _, _ = first_run
    script = (root / FOLDER / "script.md").read_text("utf-8")
    outro = script.split("## Outro", 1)[1]
    assert "See you next Friday." in outro
    assert "That's all for" not in outro  # the built-in closing is replaced, not added
    assert "Thanks for listening to the audio edition." in outro
    assert "Reply to this email" not in script
    letter = (root / FOLDER / "build" / "newsletter.md").read_text("utf-8")
    assert "Reply to this email to tell us what to cover." in letter
    assert "audio edition" not in letter and "<!--" not in letter.split("\n", 1)[1]


def test_transcript_shows_the_written_words(first_run: FirstRun) -> None:
    root, _, _ = first_run
    vtt = (root / FOLDER / "build" / "transcript.vtt").read_text("utf-8")
    text = " ".join(vtt.split())
    assert "236B" in text and "93.3%" in text and "0.1%" in text
    assert "billion" not in text and "percent" not in text


def test_new_over_an_existing_folder_offers_force_and_keeps_the_build(show: Path) -> None:
    (show / "issue-12.md").write_text(NEWSLETTER, "utf-8")
    folder = show / "episodes" / "first-week"
    refused = subprocess.run([sys.executable, "-m", "podcast", "new", "episodes/first-week", "--from-newsletter",
                              "issue-12.md"], cwd=show, capture_output=True, text=True, check=False)
    assert refused.returncode == 1 and "--force" in refused.stderr
    assert "Our first episode" in (folder / "episode.toml").read_text("utf-8")
    built = (folder / "build" / "episode.json").read_bytes()
    run(show, dict(os.environ), "new", "episodes/first-week", "--from-newsletter", "issue-12.md", "--force",
        "--title", "Issue 12")
    toml = (folder / "episode.toml").read_text("utf-8")
    assert 'title = "Issue 12"' in toml and "2405.05904" in toml
    assert (folder / "summaries" / "2405.05904.md").is_file()
    assert (folder / "build" / "episode.json").read_bytes() == built  # the published record stays
