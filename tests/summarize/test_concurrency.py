"""The LLM stage several requests at a time, against the fake OpenAI-compatible server on 127.0.0.1
(which records how many requests were in flight, of each kind, and in what order it answered): the
papers' order kept whatever order answers come in, each paper's exchange asked for as soon as its
summary is there (each stage `concurrency` wide), one 429 holding every worker back, answers
cached, a failure midway ending in one line with nothing half-written, and PDF downloads
overlapping the summaries while arXiv requests stay `[find] delay` apart."""

from __future__ import annotations

import itertools
import json
import re
import shutil
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import RunCli
from fakes.arxiv import FakeArxiv, make_pdf
from fakes.openai_chat import FakeOpenAI, Reply, Request, completion, rate_limited, unauthorized

from podcast.build import SCRIPT, dialogue_ahead, script_stage, summarize_stage, with_full_texts
from podcast.config import ShowConfig, load_episode, load_show
from podcast.edits import STATE_FILE, Generated
from podcast.llm import CACHE_KIND
from podcast.models import Summary
from podcast.research.arxiv import API_ENV
from podcast.research.sources import papers_of
from podcast.scaffold import TEMPLATE

FAST = 'engine = "openai"\nmodel = "test-model"\nretry_wait = 0.001\nretry_max_wait = 5.0\ntimeout = 20.0\n'


def week(n: int) -> str:
    """An episode.toml of `n` papers titled "Paper 0" ... with ids 2405.10000 ..."""
    papers = [
        f'[[papers]]\nid = "2405.1000{k}"\ntitle = "Paper {k}"\nurl = "https://arxiv.org/abs/2405.1000{k}"\n'
        f'abstract = "The authors of paper {k} study gating. It scales to billions of parameters."\n'
        for k in range(n)
    ]
    return 'title = "A week"\ndate = 2024-05-10\nintro = "Papers."\n\n' + "\n".join(papers)


def make_show(tmp_path: Path, papers: int, settings: str = FAST) -> Path:
    """`podcast init`'s show (no music), opted into the LLM, its one episode of `papers` papers."""
    root = Path(shutil.copytree(TEMPLATE, tmp_path / "show"))
    toml = root / "podcast.toml"
    toml.write_text(toml.read_text("utf-8").replace("[summarizer]\n", f"[summarizer]\n{settings}"), "utf-8")
    (root / "episodes" / "first-week" / "episode.toml").write_text(week(papers), "utf-8")
    return root


def title_in(request: Request) -> str:
    found = re.search(r"Title: (Paper \d+)", request.user)
    assert found, request.user
    return found.group(1)


def summary_of(title: str) -> str:
    return f"{title} gates its memory. It scales."


def turns_of(title: str) -> str:
    return json.dumps(
        [{"speaker": "cohost", "text": f"{title} gates its memory."}, {"speaker": "host", "text": "Does it scale?"}]
    )


def answer(request: Request, n: int) -> Reply:
    """A summary or an exchange that names the paper asked about, costing 100 + its number tokens."""
    title = title_in(request)
    exchange = "JSON list of turns" in request.user
    text = turns_of(title) if exchange else summary_of(title)
    return completion(text, prompt_tokens=100 + int(title.split()[1]), completion_tokens=10)


def summaries_stage(root: Path, cfg: ShowConfig | None = None) -> tuple[list[Summary], list[str]]:
    folder = root / "episodes" / "first-week"
    gen = Generated(folder)
    log: list[str] = []
    papers = papers_of(load_episode(folder), folder)
    summaries, _, _ = summarize_stage(folder, papers, cfg or load_show(root), gen, log.append)
    gen.save()
    return summaries, log


def script_md(root: Path, summaries: list[Summary]) -> tuple[str, list[str]]:
    folder = root / "episodes" / "first-week"
    gen = Generated(folder)
    log: list[str] = []
    script_stage(folder, load_episode(folder), summaries, load_show(root), gen, log.append)
    gen.save()
    return (folder / SCRIPT).read_text("utf-8"), log


def test_requests_go_four_at_a_time_and_everything_stays_in_the_papers_order(
    openai_chat: FakeOpenAI, tmp_path: Path
) -> None:
    root = make_show(tmp_path, 4)
    titles = [f"Paper {k}" for k in range(4)]
    openai_chat.respond = answer
    openai_chat.gather(4, latest_first=True)  # the last request asked is the first one answered
    summaries, log = summaries_stage(root)
    assert openai_chat.max_in_flight == 4 and openai_chat.answered == [3, 2, 1, 0]
    assert [s.paper.title for s in summaries] == titles
    assert [s.text for s in summaries] == [summary_of(t) for t in titles]
    assert log[1:] == [f"  2405.1000{k}: {100 + k} in, 10 out" for k in range(4)]

    openai_chat.gather(4, latest_first=True)  # the exchanges: again answered last first
    script, log = script_md(root, summaries)
    assert openai_chat.max_in_flight == 4 and openai_chat.answered[4:] == [7, 6, 5, 4]
    sections = script.split("\n## Paper: ")[1:]
    assert [s.split("\n", 1)[0] for s in sections] == titles
    for title, section in zip(titles, sections, strict=True):
        assert f"cohost: {title} gates its memory." in section
    assert log[0] == "dialogue tokens: 406 in, 40 out (4 requests)"
    assert log[1:] == [f"  2405.1000{k}: {100 + k} in, 10 out" for k in range(4)]

    # A second build with summaries/ and script.md gone asks for nothing: every answer is cached.
    folder = root / "episodes" / "first-week"
    shutil.rmtree(folder / "summaries")
    (folder / SCRIPT).unlink()
    again, log = summaries_stage(root)
    assert log[0] == "summary tokens: 0 in, 0 out (0 requests; 4 answers from the cache, not paid again)"
    assert script_md(root, again)[0] == script and len(openai_chat.chats) == 8


def llm_stage(root: Path) -> tuple[str, list[str]]:
    """The build's LLM stage as `podcast build` runs it: summaries, each paper's exchange asked for
    as soon as its summary is there, then script.md; its text and what was logged."""
    folder = root / "episodes" / "first-week"
    cfg, ep, gen = load_show(root), load_episode(folder), Generated(folder)
    log: list[str] = []
    ahead = dialogue_ahead(folder, ep, cfg, gen)
    summaries, _, _ = summarize_stage(folder, papers_of(ep, folder), cfg, gen, log.append, (), None, ahead)
    script_stage(folder, ep, summaries, cfg, gen, log.append, ahead)
    gen.save()
    return (folder / SCRIPT).read_text("utf-8"), log


def asked(server: FakeOpenAI, kind: str, title: str = "") -> list[Request]:
    """The chat requests of `kind` so far, those about `title` when it is given."""
    return [r for r in server.chats if r.kind == kind and title in ("", title_in(r))]


def test_each_exchange_is_asked_for_as_soon_as_its_summary_is_there_each_stage_concurrency_wide(
    openai_chat: FakeOpenAI, tmp_path: Path
) -> None:
    root = make_show(tmp_path, 6, FAST + "concurrency = 2\n")
    titles = [f"Paper {k}" for k in range(6)]

    def held(request: Request, n: int) -> Reply:
        reply, title = answer(request, n), title_in(request)
        if request.kind == "summary" and len(asked(openai_chat, "summary")) <= 2:  # the first two at once
            return replace(reply, until=lambda s: len(asked(s, "summary")) >= 2)
        if request.kind == "summary" and title == "Paper 5":  # the last: answered once two exchanges are asked
            return replace(reply, until=lambda s: len(asked(s, "dialogue")) >= 2)
        if request.kind == "dialogue" and len(asked(openai_chat, "dialogue")) <= 2:
            # The first two exchanges wait for each other and for the last summary: three in flight.
            return replace(reply, until=lambda s: len(asked(s, "dialogue")) >= 2 and bool(asked(s, "summary", "Paper 5")))
        return reply

    openai_chat.respond = held
    script, log = llm_stage(root)
    last_summary = openai_chat.chats.index(asked(openai_chat, "summary", "Paper 5")[0])
    assert min(r.at for r in asked(openai_chat, "dialogue")) < openai_chat.replied[last_summary][0]
    # Each stage keeps to its width; together they have more in flight (the last summary and two exchanges).
    assert openai_chat.max_in_flight_by == {"summary": 2, "dialogue": 2} and openai_chat.max_in_flight >= 3
    assert all(status == 200 for _, status in openai_chat.replied.values()) and len(openai_chat.chats) == 12
    sections = script.split("\n## Paper: ")[1:]  # the papers' order, whatever order the answers came in
    assert [s.split("\n", 1)[0] for s in sections] == titles
    for title, section in zip(titles, sections, strict=True):
        assert f"cohost: {title} gates its memory." in section
    assert "dialogue tokens: 615 in, 60 out (6 requests)" in log

    # script.md kept as it is (the summaries did not change) asks for no exchange, even with the
    # cached answers gone: none is paid for ahead of a script that will not be written.
    shutil.rmtree(load_show(root).cache_dir / CACHE_KIND)
    assert llm_stage(root)[0] == script and len(openai_chat.chats) == 12


def test_concurrency_1_asks_one_request_after_the_other_every_summary_first(
    openai_chat: FakeOpenAI, tmp_path: Path
) -> None:
    root = make_show(tmp_path, 3, FAST + "concurrency = 1\n")
    openai_chat.respond = answer
    llm_stage(root)
    assert openai_chat.max_in_flight == 1
    assert [(r.kind, title_in(r)) for r in openai_chat.chats] == [
        (kind, f"Paper {k}") for kind in ("summary", "dialogue") for k in range(3)
    ]


def test_one_429_holds_every_worker_back_until_its_retry_after(openai_chat: FakeOpenAI, tmp_path: Path) -> None:
    root = make_show(tmp_path, 8)

    def limited(request: Request, n: int) -> Reply:
        if n == 0:  # sent once all four are in flight: the others are still waiting for theirs
            return rate_limited("2")
        return replace(answer(request, n), delay=1.0 if n < 4 else 0.0)

    openai_chat.respond = limited
    openai_chat.gather(4)
    summaries, _ = summaries_stage(root)
    assert [s.text for s in summaries] == [summary_of(f"Paper {k}") for k in range(8)]
    refused_at, status = openai_chat.replied[0]
    assert status == 429 and openai_chat.max_in_flight == 4
    later = [r for r in openai_chat.chats if r.at > refused_at]
    # The refused request again and the four papers not yet asked about: none of them, from any of
    # the workers (three were answered a second after the 429), before the 2 s had passed.
    assert len(later) == 5 and len(openai_chat.chats) == 9
    assert min(r.at for r in later) >= refused_at + 2.0 - 0.25  # the 429's own time is taken just after it went


def refused_build(
    server: FakeOpenAI, root: Path, run_cli: RunCli, respond: Callable[[Request, int], Reply]
) -> tuple[str, str, list[str]]:
    """`podcast build` of `root` with `respond` answering, which must fail: its one error line, what
    it logged and the summaries left, each checked whole and recorded as ours (a rerun keeps it), with
    no script.md, no build/ and no half-written file."""
    toml = root / "podcast.toml"
    toml.write_text(toml.read_text("utf-8") + "full_text = false\n", "utf-8")  # the template ends with [find]
    server.respond = respond
    run = run_cli(root, "build", "episodes/first-week")
    assert run.returncode == 1
    errors = [line for line in run.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in run.stderr, run.stderr
    folder = root / "episodes" / "first-week"
    assert not (folder / SCRIPT).exists() and not (folder / "build").exists()
    assert not [p for p in root.rglob("*") if p.name.endswith(".part")]
    written = sorted(p.name for p in (folder / "summaries").iterdir())
    for name in written:
        k = int(name[len("2405.1000")])
        assert (folder / "summaries" / name).read_text("utf-8").endswith(f"\n\n{summary_of(f'Paper {k}')}\n")
    recorded = json.loads((folder / STATE_FILE).read_text("utf-8"))
    assert sorted(recorded) == [f"summaries/{name}" for name in written]
    return errors[0], run.stderr, written


def test_a_request_refused_midway_ends_in_one_error_and_nothing_half_written(
    openai_chat: FakeOpenAI, tmp_path: Path, run_cli: RunCli
) -> None:
    error, _, written = refused_build(
        openai_chat,
        make_show(tmp_path, 8),
        run_cli,
        lambda request, n: unauthorized() if title_in(request) == "Paper 5" else replace(answer(request, n), delay=0.2),
    )
    assert "for paper '2405.10005' ('Paper 5')" in error and "the API key was refused" in error
    assert "2405.10005.md" not in written and len(written) >= 1


def test_an_exchange_refused_while_summaries_are_written_stops_both_stages_with_one_error(
    openai_chat: FakeOpenAI, tmp_path: Path, run_cli: RunCli
) -> None:
    def numbers(server: FakeOpenAI, title: str) -> list[int]:
        return [n for n, r in enumerate(server.chats) if r.kind == "dialogue" and title_in(r) == title]

    def refused(request: Request, n: int) -> Reply:
        if request.kind == "dialogue" and title_in(request) == "Paper 1":  # once Paper 0's was answered
            return replace(unauthorized(), until=lambda s: any(n in s.replied for n in numbers(s, "Paper 0")))
        if request.kind == "summary" and title_in(request) == "Paper 7":  # still being written
            return replace(answer(request, n), until=lambda s: 401 in [status for _, status in s.replied.values()])
        return replace(answer(request, n), delay=0.2)

    error, logged, written = refused_build(openai_chat, make_show(tmp_path, 8), run_cli, refused)
    assert "for paper '2405.10001' ('Paper 1')" in error and "the API key was refused" in error
    assert "2405.10001.md" in written
    assert "\n  2405.10000: 100 in, 10 out\n" in logged.split("dialogue tokens:")[1]  # what they cost is said


def test_pdfs_download_one_at_a_time_while_the_papers_already_read_are_summarized(
    openai_chat: FakeOpenAI, fake_arxiv: FakeArxiv, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(API_ENV, fake_arxiv.api_url)
    root = make_show(tmp_path, 4)
    toml = root / "podcast.toml"
    toml.write_text(toml.read_text("utf-8") + "delay = 0.2\n", "utf-8")
    for k in range(4):
        body = f"PDF-TEXT-{k} The gated memory of paper {k} is read with a query vector and written once per token."
        fake_arxiv.pdfs[f"2405.1000{k}"] = make_pdf([[f"Paper {k}", "1 Introduction", body, "2 Method", body]])
    openai_chat.respond = answer
    summarized_before_last_pdf: list[int] = []
    serve = fake_arxiv.answer

    def last_pdf_waits(path: str, failure: int | str | None) -> tuple[int, str, bytes]:
        if path.startswith("/pdf/2405.10003"):  # sent only once a summary was asked for (or 10 s)
            deadline = time.monotonic() + 10
            while not openai_chat.chats and time.monotonic() < deadline:
                time.sleep(0.01)
            summarized_before_last_pdf.append(len(openai_chat.chats))
        return serve(path, failure)

    monkeypatch.setattr(fake_arxiv, "answer", last_pdf_waits)
    cfg = load_show(root)
    folder = root / "episodes" / "first-week"
    papers = papers_of(load_episode(folder), folder)
    gen = Generated(folder)
    texts = with_full_texts(papers, set(), cfg, gen.warnings.append)
    summaries, _, _ = summarize_stage(folder, papers, cfg, gen, [].append, (), texts)
    assert gen.warnings == []
    assert summarized_before_last_pdf and summarized_before_last_pdf[0] >= 1
    for chat in openai_chat.chats:  # each paper was summarized from its PDF
        assert f"PDF-TEXT-{title_in(chat).split()[1]}" in chat.user
    assert all(f"PDF-TEXT-{k}" in s.paper.full_text for k, s in enumerate(summaries))
    pdf_times = [t for t, path in fake_arxiv.requests if path.startswith("/pdf/")]
    assert len(pdf_times) == 4
    assert all(b - a >= 0.2 - 0.01 for a, b in itertools.pairwise(pdf_times))
