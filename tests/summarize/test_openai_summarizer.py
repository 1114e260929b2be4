"""The "openai" summarizer against a fake OpenAI-compatible server on 127.0.0.1: what the client sends,
how it retries, what it caches, what a build reports and writes, and that only podcast.toml chooses it.
Requests here go one at a time, so scripted replies answer them in order: tests/summarize/
test_concurrency.py covers several at once."""

from __future__ import annotations

import re
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from conftest import RunCli
from fakes.openai_chat import (
    KEY,
    FakeOpenAI,
    Reply,
    completion,
    dropped,
    error,
    model_not_found,
    rate_limited,
    serve_openai,
    server_error,
    slow,
    unauthorized,
)

from podcast.build import summarize_stage
from podcast.cache import key
from podcast.config import ShowConfig, load_episode, load_show
from podcast.edits import Generated
from podcast.errors import ConfigError, EngineError
from podcast.models import Paper, Summary
from podcast.research.sources import papers_of
from podcast.scaffold import TEMPLATE
from podcast.summarize import (
    ONE_LINE_WORDS,
    Summarizer,
    SummarizerSettings,
    TokenUse,
    load,
    register,
    summarize_one,
)
from podcast.summarize.base import read_prompt
from podcast.summarize.openai import OpenAISummarizer

DEFAULT_PROMPT = read_prompt("")


def fast(settings: SummarizerSettings) -> SummarizerSettings:
    """`settings` for the fake server, with every backoff tiny and one request at a time."""
    return replace(
        settings, model="test-model", retry_wait=0.001, retry_max_wait=2.0, timeout=5.0, concurrency=1
    )


ABSTRACT = (
    "ABSTRACT-MARK The authors scale the LSTM to billions of parameters with exponential gating and a "
    "matrix memory, and compare it with Transformers and state space models of the same size."
)
INTRO = (
    "INTRO-MARK Recurrent networks were the workhorse of sequence modeling before attention. "
    "Three limits held them back: storage decisions cannot be revised, memory is scalar, and training "
    "is sequential. This paper asks how far an LSTM goes when those limits are removed."
)
CONCLUSION = (
    "CONCLUSION-MARK Extended LSTMs match or beat Transformers of equal size in perplexity and scale "
    "as well, while keeping a constant memory at inference. Longer training runs remain to be tried."
)


def section(mark: str, topic: str, n: int) -> str:
    """A long section: its marked first sentence, then n numbered filler paragraphs."""
    paragraphs = [f"{mark} The {topic} section opens here with its main point."]
    paragraphs += [
        f"In {topic} step {i} the gate value is normalized and the memory is updated once more."
        for i in range(n)
    ]
    return "\n\n".join(paragraphs)


LONG_TEXT = "\n".join(
    [
        "xLSTM: Extended Long Short-Term Memory",
        "Maximilian Beck  Sepp Hochreiter",
        "Abstract",
        "PDF-ABSTRACT-MARK This abstract repeats the one on arXiv.",
        "1 Introduction",
        INTRO,
        "2 Method",
        section("METHOD-MARK", "method", 400),
        "3 Experiments",
        section("EXPERIMENTS-MARK", "experiments", 400),
        "4 Conclusion",
        CONCLUSION,
        "References",
        "[1] REFERENCE-MARK S. Hochreiter and J. Schmidhuber. Long short-term memory. 1997.",
    ]
)
XLSTM = Paper(
    "2405.04517",
    "xLSTM: Extended Long Short-Term Memory",
    ("Maximilian Beck", "Sepp Hochreiter"),
    "https://arxiv.org/abs/2405.04517",
    ABSTRACT,
)
LONG_XLSTM = replace(XLSTM, full_text=LONG_TEXT)
SUMMARY = (
    "The authors revisit the LSTM with exponential gating and a matrix memory, and find that it rivals "
    "Transformers of the same size in language modeling."
)


def engine(tmp_path: Path, **settings: Any) -> Summarizer:
    """The openai engine, loaded as a build loads it, caching in tmp_path/.cache."""
    chosen = replace(fast(SummarizerSettings(engine="openai", temperature=0.2)), **settings)
    return load(chosen, tmp_path / ".cache")


def approx_tokens(*texts: str) -> int:
    return sum(len(t) for t in texts) // 4


# --- what the client sends --------------------------------------------------------------------------


def test_the_request_names_the_model_and_temperature_and_carries_prompt_and_paper(
    openai_chat: FakeOpenAI, tmp_path: Path
) -> None:
    openai_chat.script(completion(SUMMARY, prompt_tokens=321, completion_tokens=54))
    llm = engine(tmp_path, words=90)
    assert llm.summarize(XLSTM) == SUMMARY
    [sent] = openai_chat.requests
    assert (sent.method, sent.path) == ("POST", "/v1/chat/completions")
    assert sent.headers["authorization"] == f"Bearer {KEY}"
    assert sent.body["model"] == "test-model"
    assert sent.body["temperature"] == 0.2
    assert [m["role"] for m in sent.body["messages"]] == ["system", "user"]
    assert sent.system == DEFAULT_PROMPT.replace("{words}", "90")
    assert "about 90 words" in sent.system and "expert researcher" in sent.system
    assert sent.user.startswith(f"Title: {XLSTM.title}\nAuthors: Maximilian Beck, Sepp Hochreiter\n")
    assert ABSTRACT in sent.user and "[...]" not in sent.user
    assert sent.user.endswith("Summarize this paper in about 90 words.")
    assert [(u.paper, u.prompt_tokens, u.completion_tokens, u.cached) for u in llm.token_use()] == [
        ("2405.04517", 321, 54, False)
    ]


def test_a_long_paper_is_cut_to_the_budget_keeping_abstract_introduction_and_conclusion(
    openai_chat: FakeOpenAI, tmp_path: Path
) -> None:
    openai_chat.script(completion(SUMMARY))
    engine(tmp_path, context_tokens=4000).summarize(LONG_XLSTM)
    [sent] = openai_chat.chats
    user = sent.user
    assert approx_tokens(sent.system, user) <= 4000 - 2 * 130  # room is left for the answer
    assert approx_tokens(LONG_TEXT) > 10_000  # so the paper really was cut
    marks = ["ABSTRACT-MARK", "INTRO-MARK", "METHOD-MARK", "EXPERIMENTS-MARK", "CONCLUSION-MARK"]
    assert [user.find(m) for m in marks] == sorted(user.find(m) for m in marks)  # all there, in order
    assert min(user.find(m) for m in marks) >= 0
    assert ABSTRACT in user and INTRO in user and CONCLUSION in user  # kept whole
    assert "method step 3 " in user and "experiments step 3 " in user  # every body section opens
    assert "method step 399" not in user and "experiments step 399" not in user
    assert "REFERENCE-MARK" not in user and "PDF-ABSTRACT-MARK" not in user
    assert user.count("[...]") >= 2 and "Parts of the paper were left out" in user


def test_a_paper_without_headings_keeps_its_opening_and_its_close(openai_chat: FakeOpenAI, tmp_path: Path) -> None:
    lines = [f"Line {i} of a paper that never names its sections, and goes on." for i in range(2000)]
    openai_chat.script(completion(SUMMARY))
    engine(tmp_path, context_tokens=3000).summarize(Paper("x1", "Untitled", full_text="\n".join(lines)))
    user = openai_chat.chats[0].user
    assert "Line 0 of" in user and "Line 1999 of" in user and "Line 1000 of" not in user


def test_a_prompt_too_big_for_the_budget_is_a_config_error(openai_chat: FakeOpenAI, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"context_tokens = 1000 leaves no room for the paper"):
        engine(tmp_path, context_tokens=1000, words=400).summarize(XLSTM)
    assert openai_chat.requests == []


# --- retries ----------------------------------------------------------------------------------------


def test_passing_failures_are_retried_in_order_honoring_retry_after(
    openai_chat: FakeOpenAI, tmp_path: Path
) -> None:
    # The waits themselves are checked exactly in test_llm.py, on a clock that only moves when slept on.
    openai_chat.script(rate_limited(retry_after="1"), server_error(503), dropped())
    openai_chat.script(slow(30.0, completion("too late")), completion(SUMMARY))
    llm = engine(tmp_path, timeout=2.0)  # room for the others' answers on a busy machine
    assert llm.summarize(XLSTM) == SUMMARY  # not "too late": its request timed out and was sent again
    assert len(openai_chat.chats) == 5 and openai_chat.unused == 0
    assert len({str(r.body) for r in openai_chat.chats}) == 1  # the same request each time
    assert openai_chat.chats[1].at - openai_chat.chats[0].at >= 1.0  # the server's Retry-After: 1 was waited out


def test_retry_settings_reach_the_client(openai_chat: FakeOpenAI, tmp_path: Path) -> None:
    summarizer = engine(tmp_path, retries=2, retry_wait=0.5, retry_max_wait=7.0, timeout=9.0)
    assert isinstance(summarizer, OpenAISummarizer)
    client = summarizer.client
    assert (client.policy.tries, client.policy.wait, client.policy.max_wait) == (3, 0.5, 7.0)
    assert client.timeout == 9.0 and client.endpoint.base_url == openai_chat.url


def test_after_the_last_retry_the_error_names_the_paper(openai_chat: FakeOpenAI, tmp_path: Path) -> None:
    openai_chat.script(server_error(), server_error(502), server_error())
    with pytest.raises(EngineError) as e:
        engine(tmp_path, retries=2).summarize(XLSTM)
    message = str(e.value)
    assert message.startswith(
        f"summarizer 'openai' for paper '2405.04517' ('xLSTM: Extended Long Short-Term Memory') at {openai_chat.url}: "
        "gave up after 3 tries (last: HTTP 500: The server had an error"
    )
    assert message.endswith("try again later: summaries already written are kept") and "\n" not in message
    assert len(openai_chat.chats) == 3
    assert not (tmp_path / ".cache" / "llm").exists()  # a failure is not an answer


def test_a_server_that_cannot_be_reached_is_retried_then_named(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with serve_openai() as fake:
        url = fake.url  # the port is free again once the server stops
    monkeypatch.setenv("OPENAI_BASE_URL", url)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(
        EngineError, match=r"for paper '2405\.04517'.*: gave up after 2 tries .*cannot connect"
    ):
        engine(tmp_path, retries=1).summarize(XLSTM)


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (unauthorized(), r"the API key was refused \(HTTP 401\); check OPENAI_API_KEY$"),
        (
            model_not_found("test-model"),
            r"model 'test-model' not found \(HTTP 404: .*\); set \[summarizer\] model in podcast\.toml",
        ),
        (error(404, "Not Found"), r"no chat/completions endpoint there \(HTTP 404\); check OPENAI_BASE_URL"),
        (completion(""), r"model 'test-model' returned an empty answer; try again, or use another model$"),
        (completion("  \n "), r"model 'test-model' returned an empty answer"),
        (completion("<think>Hmm.</think>"), r"model 'test-model' returned an empty answer"),
        (
            completion(None, finish_reason="content_filter"),
            r"model 'test-model' refused to answer \(its content filter .*\); write its summaries/ file by hand",
        ),
        (
            completion(None, refusal="I can't help with that."),
            r"model 'test-model' refused to answer: I can't help with that\.",
        ),
        (
            error(429, "You exceeded your current quota", "insufficient_quota"),
            r"the account has no quota left \(HTTP 429 insufficient_quota\)",
        ),
        (
            error(400, "This model's maximum context length is 8192 tokens", "context_length_exceeded"),
            r"too long for model 'test-model' \(HTTP 400: .*\); lower \[summarizer\] context_tokens$",
        ),
        (
            error(400, "Invalid value for 'temperature'"),
            r"refused \(HTTP 400: Invalid value for 'temperature'\)$",
        ),
    ],
)
def test_errors_that_retrying_cannot_fix_are_one_line_and_not_retried(
    openai_chat: FakeOpenAI, tmp_path: Path, reply: Reply, message: str
) -> None:
    openai_chat.script(reply)
    with pytest.raises(EngineError, match=message) as e:
        engine(tmp_path).summarize(XLSTM)
    where = f"summarizer 'openai' for paper '2405.04517' ('xLSTM: Extended Long Short-Term Memory') at {openai_chat.url}: "
    assert str(e.value).startswith(where)
    assert "\n" not in str(e.value) and KEY not in str(e.value)
    assert len(openai_chat.chats) == 1


def test_without_key_or_base_url_the_engine_says_what_to_set(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with pytest.raises(
        EngineError, match=r"^OPENAI_API_KEY is not set; .*or point OPENAI_BASE_URL at a local server"
    ):
        engine(tmp_path)


# --- the cache --------------------------------------------------------------------------------------


def test_answers_are_cached_so_a_second_run_sends_nothing(openai_chat: FakeOpenAI, tmp_path: Path) -> None:
    openai_chat.script(completion(SUMMARY, prompt_tokens=900, completion_tokens=120))
    assert engine(tmp_path).summarize(XLSTM) == SUMMARY
    again = engine(tmp_path)
    assert again.summarize(XLSTM) == SUMMARY
    assert len(openai_chat.chats) == 1
    assert [(u.prompt_tokens, u.cached) for u in again.token_use()] == [(900, True)]
    [entry] = (tmp_path / ".cache" / "llm").rglob("*.json")
    assert SUMMARY in entry.read_text("utf-8") and KEY not in entry.read_text("utf-8")
    # Keyed as before podcast/llm.py existed, so answers cached by earlier versions still hit.
    sent = openai_chat.chats[0]
    digest = key("chat.completions", openai_chat.url, "test-model", 0.2, sent.system, sent.user)
    assert entry.name == f"{digest}.json" and entry.parent.name == digest[:2]
    # Anything that changes the answer asks again: here the temperature, then the paper's text.
    openai_chat.script(completion("Warmer."), completion("Longer."))
    assert engine(tmp_path, temperature=0.9).summarize(XLSTM) == "Warmer."
    assert engine(tmp_path).summarize(LONG_XLSTM) == "Longer."
    assert len(openai_chat.chats) == 3


def test_a_thinking_models_reasoning_is_not_part_of_the_summary(openai_chat: FakeOpenAI, tmp_path: Path) -> None:
    openai_chat.script(completion(f"<think>\nThe user wants a summary.\n</think>\n\n{SUMMARY}"))
    assert engine(tmp_path).summarize(XLSTM) == SUMMARY


# --- the build's summaries stage --------------------------------------------------------------------


@pytest.fixture
def starter(tmp_path: Path) -> Path:
    """`podcast init`'s show: one episode of two papers (2405.04517 xLSTM, 2405.04434 DeepSeek-V2)."""
    root = Path(shutil.copytree(TEMPLATE, tmp_path / "show"))  # `podcast init` without its music
    toml = root / "podcast.toml"
    toml.write_text(
        toml.read_text("utf-8").replace(
            "[summarizer]\n", '[summarizer]\nengine = "openai"\nmodel = "test-model"\n'
        ),
        "utf-8",
    )
    return root


def run_stage(
    root: Path, cfg: ShowConfig, highlights: tuple[str, ...] = ()
) -> tuple[list[str], list[Summary], str, tuple[TokenUse, ...]]:
    """The build's summaries stage on the starter episode: (log lines, summaries, engine, tokens)."""
    folder = root / "episodes" / "first-week"
    papers = papers_of(load_episode(folder), folder)
    log: list[str] = []
    gen = Generated(folder)
    cfg = replace(cfg, summarizer=fast(cfg.summarizer))
    summaries, name, tokens = summarize_stage(folder, papers, cfg, gen, log.append, highlights)
    gen.save()
    return log, summaries, name, tokens


def test_highlights_get_full_summaries_and_the_rest_one_sentence(openai_chat: FakeOpenAI, starter: Path) -> None:
    cfg = load_show(starter)
    assert cfg.summarizer.engine == "openai"  # as podcast.toml says
    line = "DeepSeek-V2 is a cheap mixture-of-experts model whose latent attention shrinks the KV cache."
    openai_chat.script(completion(SUMMARY, prompt_tokens=1500, completion_tokens=160))
    openai_chat.script(completion(line, prompt_tokens=1400, completion_tokens=30))
    log, summaries, name, tokens = run_stage(starter, cfg, ("2405.04517",))
    full, short = openai_chat.chats
    assert full.user.endswith("Summarize this paper in about 130 words.") and "about 130 words" in full.system
    assert short.user.endswith("in a single sentence of about 25 words.") and "about 25 words" in short.system
    assert "Title: DeepSeek-V2" in short.user
    summaries_dir = starter / "episodes" / "first-week" / "summaries"
    assert (summaries_dir / "2405.04517.md").read_text("utf-8") == (
        f"# xLSTM: Extended Long Short-Term Memory\n<https://arxiv.org/abs/2405.04517>\n\n{SUMMARY}\n"
    )
    assert (summaries_dir / "2405.04434.md").read_text("utf-8").endswith(f"\n\n{line}\n")
    assert name == "openai" and [s.text for s in summaries] == [SUMMARY, line]
    assert log == [
        "summary tokens: 2,900 in, 190 out (2 requests)",
        "  2405.04517: 1,500 in, 160 out",
        "  2405.04434: 1,400 in, 30 out",
    ]
    assert len(tokens) == 2


def test_a_rerun_after_a_failure_asks_only_for_what_is_missing(openai_chat: FakeOpenAI, starter: Path) -> None:
    cfg = load_show(starter)
    summaries_dir = starter / "episodes" / "first-week" / "summaries"
    openai_chat.script(completion(SUMMARY, prompt_tokens=1500, completion_tokens=160), unauthorized())
    with pytest.raises(EngineError, match=r"for paper '2405\.04434' .*the API key was refused \(HTTP 401\)"):
        run_stage(starter, cfg)
    assert [p.name for p in summaries_dir.iterdir()] == ["2405.04517.md"]

    openai_chat.script(completion("DeepSeek-V2 is cheap to serve.", prompt_tokens=1400, completion_tokens=40))
    log, *_ = run_stage(starter, cfg)
    assert len(openai_chat.chats) == 3 and "Title: DeepSeek-V2" in openai_chat.chats[-1].user
    assert log[0] == "summary tokens: 1,400 in, 40 out (1 request)"  # xLSTM's summary file was kept

    for path in summaries_dir.iterdir():  # deleted summaries come back from .cache/llm, for free
        path.unlink()
    log, *_ = run_stage(starter, cfg)
    assert len(openai_chat.chats) == 3
    assert log[0] == "summary tokens: 0 in, 0 out (0 requests; 2 answers from the cache, not paid again)"
    assert "DeepSeek-V2 is cheap to serve." in (summaries_dir / "2405.04434.md").read_text("utf-8")
    for path in [*starter.rglob("*.md"), *starter.rglob("*.json"), *starter.rglob("*.toml")]:
        assert KEY not in path.read_text("utf-8"), path


def test_a_highlight_that_is_no_paper_is_a_config_error(openai_chat: FakeOpenAI, starter: Path) -> None:
    with pytest.raises(ConfigError, match=r"episode\.toml: highlights names '2405\.99999', which is not"):
        run_stage(starter, load_show(starter), ("2405.99999",))
    assert openai_chat.requests == []


def test_the_extractive_engine_gives_non_highlights_its_top_sentence(
    monkeypatch: pytest.MonkeyPatch, starter: Path
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    toml = starter / "podcast.toml"
    toml.write_text(toml.read_text("utf-8").replace('engine = "openai"\n', ""))
    cfg = load_show(starter)
    assert cfg.summarizer.engine == "extractive"
    log, summaries, name, tokens = run_stage(starter, cfg, ("2405.04434",))
    xlstm, deepseek = summaries
    assert name == "extractive" and tokens == () and log == []
    assert len(re.findall(r"[.!?](?:\s|$)", xlstm.text)) == 1 and len(xlstm.text.split()) <= 50
    assert len(deepseek.text.split()) > 80


# --- configuration ----------------------------------------------------------------------------------


def test_the_engine_is_the_one_podcast_toml_names_never_the_environments_choice(
    monkeypatch: pytest.MonkeyPatch, starter: Path
) -> None:
    toml = starter / "podcast.toml"
    assert load_show(starter).summarizer.engine == "openai"  # opted in
    toml.write_text(toml.read_text("utf-8").replace('engine = "openai"\n', ""))
    for name, value in (("OPENAI_API_KEY", KEY), ("OPENAI_BASE_URL", "http://127.0.0.1:11434/v1")):
        monkeypatch.setenv(name, value)
        cfg = load_show(starter)
        assert cfg.summarizer.engine == "extractive" and cfg.dialogue is False


def test_a_prompt_file_of_the_show_replaces_the_default(openai_chat: FakeOpenAI, starter: Path) -> None:
    toml = starter / "podcast.toml"
    toml.write_text(
        toml.read_text("utf-8").replace("[summarizer]\n", '[summarizer]\nprompt = "my-prompt.md"\n')
    )
    with pytest.raises(ConfigError, match=r"podcast\.toml \[summarizer\]: prompt 'my-prompt\.md' not found"):
        load_show(starter)
    (starter / "my-prompt.md").write_text("Summarize like a pirate, in {words} words.\n", "utf-8")
    cfg = load_show(starter)
    openai_chat.script(completion("Arr, xLSTM."))
    assert summarize_one(load(fast(cfg.summarizer)), XLSTM) == "Arr, xLSTM."
    assert openai_chat.chats[0].system == "Summarize like a pirate, in 130 words."


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("context_tokens", 500, "summarizer.context_tokens must be a whole number of at least 1000"),
        ("retries", -1, "summarizer.retries must be a whole number of at least 0"),
        ("retry_wait", "1", "summarizer.retry_wait must be a number of seconds"),
        ("timeout", 0, "summarizer.timeout must be more than 0 seconds"),
        ("concurrency", 0, "summarizer.concurrency must be a whole number of at least 1"),
        ("concurrency", 2.0, "summarizer.concurrency must be a whole number of at least 1"),
        ("concurrency", 33, "summarizer.concurrency must be at most 32"),
    ],
)
def test_bad_new_settings_fail_when_made(key: str, value: object, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        SummarizerSettings(**{key: value})  # type: ignore[arg-type]


# --- the command ------------------------------------------------------------------------------------


def test_podcast_build_uses_the_endpoint_and_reports_tokens(
    openai_chat: FakeOpenAI, show: Path, run_cli: RunCli
) -> None:
    episode = show / "episodes" / "first-week"
    toml = episode / "episode.toml"
    toml.write_text(
        toml.read_text("utf-8").replace("[[papers]]", 'highlights = ["2405.04517"]\n\n[[papers]]', 1)
    )
    (show / "podcast.toml").write_text(
        (show / "podcast.toml")
        .read_text("utf-8")
        .replace("[summarizer]\n", '[summarizer]\nengine = "openai"\nmodel = "test-model"\n')
        .replace("[script]\n", '[script]\ndialogue = "off"\n')  # the summary read out: see test_dialogue
    )
    openai_chat.script(completion(SUMMARY, prompt_tokens=2048, completion_tokens=99))
    run = run_cli(show, "build", "episodes/first-week")
    assert run.returncode == 0, run.stderr
    output = run.stdout + run.stderr  # the report goes to the console (stderr), the last line to stdout
    assert "summary tokens: 2,048 in, 99 out (1 request)\n  2405.04517: 2,048 in, 99 out\n" in output
    assert "summaries by openai" in run.stdout.splitlines()[-1]
    assert KEY not in output
    assert SUMMARY in (episode / "summaries" / "2405.04517.md").read_text("utf-8")
    assert SUMMARY in (episode / "build" / "newsletter.md").read_text("utf-8")
    assert openai_chat.chats[0].body["model"] == "test-model"


def test_an_engine_without_its_own_one_liner_gives_its_first_sentence_at_25_words() -> None:
    asked: list[int] = []

    @register
    class Chatty(Summarizer):
        name = "test-chatty"

        def summarize(self, paper: Paper) -> str:
            asked.append(self.settings.words)
            return "Smith et al. revisit the LSTM, e.g. in Fig. 2. It scales well.\n\nMore follows."

    chatty = load(SummarizerSettings(engine="test-chatty"))
    assert summarize_one(chatty, XLSTM, line=True) == "Smith et al. revisit the LSTM, e.g. in Fig. 2."
    assert summarize_one(chatty, XLSTM).endswith("More follows.")
    assert asked == [ONE_LINE_WORDS, 130] and chatty.settings.words == 130
