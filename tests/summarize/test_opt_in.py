"""An LLM is something a show opts into: OPENAI_API_KEY or OPENAI_BASE_URL in the environment leaves a
show that did not (the sample week of `make demo` included) offline, and the first build says once
that a key was found and how to use it."""

from __future__ import annotations

import shutil
from pathlib import Path

from fakes.openai_chat import FakeOpenAI

from podcast.build import summarize_stage
from podcast.config import load_episode, load_show
from podcast.edits import Generated
from podcast.research.sources import papers_of
from podcast.scaffold import TEMPLATE

REPO = Path(__file__).resolve().parents[2]


def build_log(root: Path) -> tuple[str, list[str]]:
    """The summaries stage of the show's first episode: (the engine that wrote them, its log lines)."""
    folder = root / "episodes" / "first-week"
    cfg = load_show(root)
    log: list[str] = []
    gen = Generated(folder)
    _, engine, _ = summarize_stage(folder, papers_of(load_episode(folder), folder), cfg, gen, log.append)
    gen.save()
    return engine, log


def test_a_key_found_leaves_the_show_offline_and_is_mentioned_on_the_first_build_only(
    openai_chat: FakeOpenAI, tmp_path: Path
) -> None:
    root = Path(shutil.copytree(TEMPLATE, tmp_path / "show"))
    cfg = load_show(root)
    assert cfg.summarizer.engine == "extractive" and cfg.format == "duo" and cfg.dialogue is False
    engine, log = build_log(root)
    assert engine == "extractive" and openai_chat.requests == []
    assert log == [
        "OPENAI_API_KEY and OPENAI_BASE_URL are set, but this show does not use an LLM; to opt in, set "
        '[summarizer] engine = "openai" in podcast.toml (said once)'
    ]
    shutil.rmtree(root / "episodes" / "first-week" / "summaries")
    assert build_log(root) == ("extractive", [])  # said once for the show, remembered in .cache/
    assert openai_chat.requests == []


def test_a_show_that_opted_in_is_not_told(openai_chat: FakeOpenAI, tmp_path: Path) -> None:
    root = Path(shutil.copytree(TEMPLATE, tmp_path / "show"))
    toml = root / "podcast.toml"
    toml.write_text(toml.read_text("utf-8").replace("[summarizer]\n", '[summarizer]\nengine = "openai"\n'))
    assert load_show(root).dialogue is True  # "auto": on with the openai summarizer
    toml.write_text(
        toml.read_text("utf-8").replace('engine = "openai"\n', "").replace("[script]\n", '[script]\ndialogue = "on"\n')
    )
    assert load_show(root).dialogue is True
    assert not any("said once" in line for line in build_log(root)[1])


def test_the_sample_week_of_make_demo_stays_offline_with_a_key(openai_chat: FakeOpenAI) -> None:
    cfg = load_show(REPO)
    assert cfg.summarizer.engine == "extractive" and cfg.dialogue is False
