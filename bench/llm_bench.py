"""LLM-stage benchmark: summaries and the hosts' exchanges one request at a time against
`[summarizer] concurrency` at a time (default 4), in one run.

A fake OpenAI-compatible server on 127.0.0.1 (tests/fakes/openai_chat.py) answers every chat request
after `--seconds` (2 s by default), like a hosted model writing 150 tokens. The show is `podcast
init`'s, duo, opted into the LLM ([summarizer] engine = "openai", so [script] dialogue "auto" is on),
with one episode of `--papers` papers (20) given by their abstracts (no arXiv). The LLM stage is
the build's summaries stage and script stage (a summary, then an exchange, per paper: 40 requests),
run as `podcast build` runs them (each paper's exchange asked for as soon as its summary is there,
each stage `concurrency` wide), timed from an empty cache for each setting. The target: the
default takes at most 25% of the sequential time. The exit code is 1 when it does not.

    .venv/bin/python bench/llm_bench.py            (or: make bench-llm)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the fake server the tests use

from fakes.openai_chat import Reply, Request, completion, serve_openai  # noqa: E402

from podcast.build import dialogue_ahead, script_stage, summarize_stage  # noqa: E402
from podcast.config import load_episode, load_show  # noqa: E402
from podcast.edits import Generated  # noqa: E402
from podcast.research.sources import papers_of  # noqa: E402
from podcast.scaffold import TEMPLATE  # noqa: E402
from podcast.summarize.base import SummarizerSettings  # noqa: E402

TARGET = 0.25
"""The default concurrency's time as a share of the sequential time, at most."""


def week(n: int) -> str:
    papers = [
        f'[[papers]]\nid = "2405.{10000 + k}"\ntitle = "Paper {k}: gated memories at scale"\n'
        f'authors = ["A. Author", "B. Author"]\nurl = "https://arxiv.org/abs/2405.{10000 + k}"\n'
        f'abstract = "Paper {k} scales a recurrent model with exponential gating and a matrix memory. '
        'It matches Transformers of the same size in perplexity while keeping a constant memory."\n'
        for k in range(n)
    ]
    return 'title = "A week"\ndate = 2024-05-10\nintro = "Twenty papers."\n\n' + "\n".join(papers)


def make_show(parent: Path, papers: int) -> Path:
    root = Path(shutil.copytree(TEMPLATE, parent / "show"))
    toml = root / "podcast.toml"
    opted_in = toml.read_text("utf-8").replace("[summarizer]\n", '[summarizer]\nengine = "openai"\n')
    toml.write_text(opted_in + "full_text = false\n", "utf-8")  # the template ends with its [find] table
    (root / "episodes" / "first-week" / "episode.toml").write_text(week(papers), "utf-8")
    return root


def responder(seconds: float) -> Callable[[Request, int], Reply]:
    def answer(request: Request, n: int) -> Reply:
        title = re.search(r"Title: (Paper \d+)", request.user)
        name = title.group(1) if title else "The paper"
        if "JSON list of turns" in request.user:
            text = json.dumps(
                [
                    {"speaker": "cohost", "text": f"{name} gives a recurrent model a matrix memory."},
                    {"speaker": "host", "text": "And does it keep up with Transformers?"},
                    {"speaker": "cohost", "text": "In perplexity, yes, at the same size."},
                ]
            )
        else:
            text = f"{name} scales a recurrent model with exponential gating. It matches Transformers."
        return replace(completion(text, prompt_tokens=900, completion_tokens=150), delay=seconds)

    return answer


def llm_stage(root: Path, concurrency: int) -> tuple[float, int]:
    """Seconds the summaries and script stages take from an empty cache, and the exchanges written."""
    cfg = load_show(root)
    cfg = replace(cfg, summarizer=replace(cfg.summarizer, concurrency=concurrency))
    assert cfg.dialogue, "the bench show must have [script] dialogue on"
    folder = root / "episodes" / "first-week"
    ep = load_episode(folder)
    papers = papers_of(ep, folder)
    gen = Generated(folder)
    t0 = time.perf_counter()
    ahead = dialogue_ahead(folder, ep, cfg, gen)
    summaries, _, _ = summarize_stage(folder, papers, cfg, gen, lambda _: None, (), None, ahead)
    script_stage(folder, ep, summaries, cfg, gen, lambda _: None, ahead)
    took = time.perf_counter() - t0
    gen.save()
    exchanges = (folder / "script.md").read_text("utf-8").count("gives a recurrent model a matrix memory")
    return took, exchanges


def floor(papers: int, workers: int, seconds: float) -> float:
    """The least time the LLM stage can take with answers of `seconds` each: the summaries `workers`
    at a time, each paper's exchange as soon as its summary is there and an exchange worker is free
    (one stage after the other with one worker, as `concurrency = 1` runs them).

    >>> floor(20, 4, 2.0), floor(20, 1, 2.0)
    (12.0, 80.0)
    """
    if workers <= 1:
        return 2 * papers * seconds

    def finished(ready: list[float]) -> list[float]:
        free = [0.0] * workers
        done = []
        for at in ready:  # each request in the order it is queued, on the worker free first
            k = free.index(min(free))
            free[k] = max(free[k], at) + seconds
            done.append(free[k])
        return done

    return max(finished(sorted(finished([0.0] * papers))))


def run(papers: int, seconds: float, concurrency: int) -> dict[str, float]:
    results: dict[str, float] = {}
    with serve_openai() as server:
        os.environ["OPENAI_BASE_URL"] = server.url
        os.environ["OPENAI_API_KEY"] = "sk-bench"
        server.respond = responder(seconds)
        for label, workers in (("sequential", 1), ("concurrent", concurrency)):
            with tempfile.TemporaryDirectory(prefix="llm-bench-") as tmp:
                server.max_in_flight, server.max_in_flight_by = 0, {}
                asked = len(server.chats)
                took, exchanges = llm_stage(make_show(Path(tmp), papers), workers)
                requests = len(server.chats) - asked
                assert exchanges == papers, f"{exchanges} exchanges in script.md, not {papers}"
                most = server.max_in_flight_by
                print(
                    f"{label:<11} concurrency {workers:>2}: {took:6.1f} s for {requests} requests "
                    f"({server.max_in_flight} in flight at most: {most.get('summary', 0)} summaries, "
                    f"{most.get('dialogue', 0)} exchanges; floor {floor(papers, workers, seconds):.1f} s)"
                )
                results[label] = took
    return results


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--papers", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=2.0, help="how long the server takes per answer")
    parser.add_argument("--concurrency", type=int, default=SummarizerSettings().concurrency)
    args = parser.parse_args()
    print(
        f"LLM stage of a {args.papers}-paper duo week, dialogue on; "
        f"the server answers in {args.seconds:g} s"
    )
    results = run(args.papers, args.seconds, args.concurrency)
    ratio = results["concurrent"] / results["sequential"]
    # With answers of equal length no run can take less than this share of the sequential time:
    # ceil(20 / 4) rounds of summaries, then the last round's exchanges (12 s of 80 s, 15%).
    ideal = floor(args.papers, args.concurrency, args.seconds) / floor(args.papers, 1, args.seconds)
    verdict = "ok" if ratio <= TARGET else "over the target"
    print(
        f"concurrent / sequential = {ratio:.2%} (target <= {TARGET:.0%}; the least possible at "
        f"{args.concurrency} at a time per stage, pipelined: {ideal:.2%}): {verdict}"
    )
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
