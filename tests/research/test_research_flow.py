"""The research half end to end: `podcast new --arxiv`, then `podcast build` with an LLM configured,
against a fake arXiv and a fake OpenAI-compatible endpoint on 127.0.0.1: the summary the episode
speaks is the LLM's, written from the paper's PDF, and the paper is never offered again."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import RunCli
from fakes.arxiv import FakeArxiv, make_pdf
from fakes.openai_chat import FakeOpenAI, completion
from support.shows import make_publishable

from podcast.research.arxiv import API_ENV
from podcast.scaffold import init_show

PDF_MARK = "The mLSTM cell stores a matrix memory and retrieves from it with a query vector."
PDF = [
    ["xLSTM: Extended Long Short-Term Memory", "Abstract", "The LSTM is revisited with exponential gating.",
     "1 Introduction", "Recurrent networks keep a fixed-size state and process one token at a time."],
    ["2 Method", PDF_MARK, "Its update follows a covariance rule."],
    ["5 Conclusion", "The xLSTM matches Transformers of the same size in perplexity."],
]
LLM_SUMMARY = (
    "LLM-SUMMARY-MARK The xLSTM revisits the LSTM with exponential gating and a matrix memory that it "
    "reads with a query vector, and matches Transformers of the same size."
)


@pytest.fixture
def servers(
    fake_arxiv: FakeArxiv, openai_chat: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> tuple[FakeArxiv, FakeOpenAI]:
    """arXiv and an LLM, both fake, found the way the CLI finds them: through the environment."""
    monkeypatch.setenv(API_ENV, fake_arxiv.api_url)
    return fake_arxiv, openai_chat


def test_new_from_arxiv_then_build_summarizes_the_pdf_with_the_llm(
    servers: tuple[FakeArxiv, FakeOpenAI], tmp_path: Path, run_cli: RunCli
) -> None:
    arxiv, llm = servers
    arxiv.pdfs["2405.04517"] = make_pdf(PDF)
    show = make_publishable(init_show(tmp_path / "show"))
    shutil.rmtree(show / "episodes")  # only the new episode, so the build has one paper
    toml = show / "podcast.toml"
    toml.write_text(toml.read_text("utf-8") + "delay = 0.05\n", "utf-8")  # the template ends with its [find] table
    toml.write_text(toml.read_text("utf-8").replace("[summarizer]\n", '[summarizer]\nengine = "openai"\nmodel = "test-model"\n'))
    # The co-host reads the summary out (not an exchange between the hosts: see test_dialogue).
    toml.write_text(toml.read_text("utf-8").replace("[script]\n", '[script]\ndialogue = "off"\n'))

    made = run_cli(show, "new", "episodes/week", "--arxiv", "https://arxiv.org/abs/2405.04517v1",
                   "--date", "2024-05-10")
    assert made.returncode == 0, made.stderr
    llm.script(completion(LLM_SUMMARY, prompt_tokens=900, completion_tokens=40))
    built = run_cli(show, "build", "episodes/week")
    assert built.returncode == 0, built.stderr

    [chat] = llm.chats
    assert PDF_MARK in chat.user, "the LLM was asked about the PDF's text, not only the abstract"
    assert "summaries by openai" in built.stdout.splitlines()[-1]
    assert "summary tokens: 900 in, 40 out (1 request)" in built.stdout + built.stderr
    episode = show / "episodes" / "week"
    # The version asked for is the one kept.
    assert LLM_SUMMARY in (episode / "summaries" / "2405.04517v1.md").read_text("utf-8")
    assert "LLM-SUMMARY-MARK" in (episode / "build" / "transcript.vtt").read_text("utf-8")

    # The paper is in an episode now: a find of its week does not offer it again.
    found = run_cli(show, "find", "--since", "2024-05-06", "--until", "2024-05-12")
    assert found.returncode == 0, found.stderr
    assert "2405.04517" not in found.stdout and "2405.05254" in found.stdout
