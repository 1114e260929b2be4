"""`podcast week` end to end against the loopback arXiv (and OpenAI) servers: it publishes the week's
best-ranked papers and records them; a dry run, a quiet week, an unreachable arXiv and an LLM failing
midway publish nothing, leave the show exactly as it was, and a rerun after the failure succeeds."""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest
from fakes.arxiv import FakeArxiv
from fakes.openai_chat import FakeOpenAI, completion

from podcast.research.arxiv import API_ENV
from podcast.research.ledger import Ledger

RunCli = Callable[..., subprocess.CompletedProcess[str]]
"""The `run_cli` fixture (tests/conftest.py; this folder's conftest.py has the name)."""
UNTIL = "2024-05-12"
TURNS = (
    '[{"speaker": "cohost", "text": "This one is about caching."}, {"speaker": "host", "text": "Why now?"},'
    ' {"speaker": "cohost", "text": "Long contexts cost memory."}, {"speaker": "host", "text": "Fair."}]'
)
LLM_SETTINGS = '[summarizer]\nengine = "openai"\nmodel = "test-model"\nretry_wait = 0.001\ntimeout = 10.0\n'


@pytest.fixture
def week_show(built_show: Path, tmp_path: Path, fake_arxiv: FakeArxiv, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the built and published sample show, finding on the fake arXiv, picking two papers a week."""
    show = Path(shutil.copytree(built_show, tmp_path / "show", symlinks=True))
    monkeypatch.setenv(API_ENV, fake_arxiv.api_url)
    toml = show / "podcast.toml"  # the template ends with its [find] table
    toml.write_text(toml.read_text("utf-8") + "pick = 2\ndelay = 0.05\nfull_text = false\n", "utf-8")
    return show


def snapshot(root: Path) -> dict[str, str]:
    """Every file of the show but its .cache, by content."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".cache" not in p.relative_to(root).parts
    }


def starred(stdout: str) -> list[str]:
    """The ids the ranking marks as picked, best first."""
    return re.findall(r"^\*\s*\d+\. \d\.\d\d  (\S+)", stdout, re.M)


def one_error(stderr: str) -> str:
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in stderr, stderr
    return errors[0]


def nothing_left(show: Path, before: dict[str, str]) -> None:
    assert snapshot(show) == before, "the show changed"
    assert not list((show / ".cache" / "week").glob("*")), "a half-made week was left in .cache/week"


def test_a_week_publishes_the_best_ranked_papers_and_records_them(week_show: Path, run_cli: RunCli) -> None:
    run = run_cli(week_show, "week", "--until", UNTIL)
    assert run.returncode == 0, run.stderr
    picked = starred(run.stdout)
    assert len(picked) == 2 and "2405.04517" not in run.stdout, "the paper already in an episode is not offered"
    episode = week_show / "episodes" / UNTIL
    with open(episode / "episode.toml", "rb") as f:
        toml = tomllib.load(f)
    assert [p["id"] for p in toml["papers"]] == picked, "episode.toml lists the picks best first"
    assert toml["title"] == "The week of May 6, 2024"
    feed = (week_show / "public" / "feed.xml").read_text("utf-8")
    assert feed.count("<item>") == 2 and f"{UNTIL}.mp3" in feed
    assert run.stdout.splitlines()[-1].startswith(f"published episodes/{UNTIL}: 2 papers")
    with Ledger.open(week_show) as ledger:
        for pid in picked:
            assert ledger.history(pid).picked == (UNTIL,)
        passed = re.findall(r"^ \s*\d+\. \d\.\d\d  (\S+)", run.stdout, re.M)
        assert passed and all(ledger.history(p).first_seen and not ledger.history(p).picked for p in passed)

    before = snapshot(week_show)
    again = run_cli(week_show, "week", "--until", UNTIL)  # the scheduler fires twice
    assert again.returncode == 1 and "already exists" in one_error(again.stderr)
    nothing_left(week_show, before)


def test_a_dry_run_shows_scores_and_reasons_and_writes_nothing(week_show: Path, run_cli: RunCli) -> None:
    before = snapshot(week_show)
    run = run_cli(week_show, "week", "--dry-run", "--until", UNTIL)
    assert run.returncode == 0, run.stderr
    assert len(starred(run.stdout)) == 2 and "would pick the best 2" in run.stdout
    assert re.search(r"^\s+\S.*$", run.stdout.split("\n", 3)[-1], re.M), "each paper has a reason"
    assert "nothing was written" in run.stdout.splitlines()[-1]
    nothing_left(week_show, before)
    assert not (week_show / "episodes" / UNTIL).exists()


def test_a_week_without_new_papers_has_nothing_to_do(week_show: Path, run_cli: RunCli) -> None:
    before = snapshot(week_show)
    run = run_cli(week_show, "week", "--until", "2023-03-03")
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines()[-1].startswith("nothing to do: no papers")
    nothing_left(week_show, before)


def test_arxiv_unreachable_publishes_nothing(week_show: Path, fake_arxiv: FakeArxiv, run_cli: RunCli) -> None:
    fake_arxiv.failures += [503] * 10
    before = snapshot(week_show)
    run = run_cli(week_show, "week", "--until", UNTIL)
    assert run.returncode == 1
    assert "503" in one_error(run.stderr)
    nothing_left(week_show, before)


def test_an_llm_failing_midway_publishes_nothing_and_the_rerun_publishes_the_week(
    week_show: Path, openai_chat: FakeOpenAI, run_cli: RunCli
) -> None:
    toml = week_show / "podcast.toml"
    toml.write_text(toml.read_text("utf-8").replace("[summarizer]\n", LLM_SETTINGS, 1), "utf-8")
    before = snapshot(week_show)
    openai_chat.script(completion("LLM-SUMMARY-ONE The paper shrinks the cache. It keeps accuracy."))
    failed = run_cli(week_show, "week", "--until", UNTIL)  # the second summary gets an error answer
    assert failed.returncode == 1
    one_error(failed.stderr)
    nothing_left(week_show, before)

    openai_chat.script(
        *[completion(f"LLM-SUMMARY-{n} The paper shrinks the cache. It keeps accuracy.") for n in ("A", "B")],
        completion(TURNS),
        completion(TURNS),
    )
    run = run_cli(week_show, "week", "--until", UNTIL)
    assert run.returncode == 0, run.stderr
    assert "summaries by openai" in run.stdout
    vtt = (week_show / "episodes" / UNTIL / "build" / "transcript.vtt").read_text("utf-8")
    assert "<v Ava>Long contexts cost memory." in vtt and "LLM-SUMMARY" not in vtt, "the hosts talk it over"
    assert (week_show / "public" / "feed.xml").read_text("utf-8").count("<item>") == 2
